"""The dashboard: server-rendered pages, no scripts, everything escaped.

Agent-written text (commands, file names, titles) is hostile: every page is rendered by Jinja2 with
autoescape on, the Content-Security-Policy forbids scripts of any origin (`default-src 'none'`), and
the GPU chart is inline SVG made from the template (its labels escaped like any other text).
Sign-in takes a token (viewer or ingest) and keeps it in an HttpOnly, SameSite=Strict cookie;
a bearer header works too.
"""
from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..analysis.rules import CATEGORIES, SEVERITIES
from . import ledger_hook
from .api import incident_detail
from .auth import bearer
from .security import COOKIE, cookie_principal

HERE = Path(__file__).parent
router = APIRouter(include_in_schema=False)
env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(default=True),
                  trim_blocks=True, lstrip_blocks=True)
LAYERS = (("action", "action"), ("process", "process"), ("network", "connection"), ("gpu", "GPU"))
LAYER_RANK = {"action": 0, "process": 1, "network": 2, "gpu": 3, "file": 4, "job": 5}
LAYER_LABEL = {**dict(LAYERS), "file": "file", "job": "job"}
MAX_SUMMARY = 2000


def _when(ts: Any) -> str:
    try:
        return datetime.datetime.fromtimestamp(float(ts), datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return str(ts)


env.filters["when"] = _when
CSS = (HERE / "static" / "dashboard.css").read_bytes()


def _principal(request: Request):
    principal = cookie_principal(request)
    if principal is None:
        principal = request.app.state.service.tokens.verify(bearer(request.headers.get("authorization")))
    return principal


def _page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(env.get_template(name).render(**context), status_code=status)


def _login_redirect() -> RedirectResponse:
    return RedirectResponse("/ui/login", status_code=303)


@router.get("/static/dashboard.css")
async def stylesheet() -> Response:
    return Response(CSS, media_type="text/css", headers={"cache-control": "public, max-age=3600"})


@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/ui/incidents", status_code=303)


@router.get("/ui/login")
async def login_form(request: Request):
    return _page("login.html", principal=None, section="login", error=None)


@router.post("/ui/login")
async def login(request: Request):
    body = await request.body()
    if len(body) > 4096:
        return _page("login.html", 413, principal=None, section="login", error="request too large")
    token = (parse_qs(body.decode("utf-8", "replace")).get("token") or [""])[0].strip()
    service = request.app.state.service
    principal = service.tokens.verify(token)
    if principal is None:
        return _page("login.html", 401, principal=None, section="login", error="That token is not valid.")
    response = RedirectResponse("/ui/incidents", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=service.config.secure_cookies,
                        path="/", max_age=12 * 3600)
    return response


@router.post("/ui/logout")
async def logout():
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/ui/incidents")
async def incidents_page(request: Request, severity: Optional[str] = None, category: Optional[str] = None):
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    severity = severity if severity in SEVERITIES else None
    category = category if category in CATEGORIES else None
    service = request.app.state.service
    items = service.read_call(service.read.incidents, severity, category, 200)
    return _page("incidents.html", principal=principal, section="incidents", incidents=items, severity=severity,
                 category=category, severities=SEVERITIES, categories=CATEGORIES,
                 ledger=ledger_hook.panel(service.ledger))


@router.get("/ui/incidents/{incident_id}")
async def incident_page(request: Request, incident_id: str):
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    service = request.app.state.service
    detail = incident_detail(service, incident_id, context=True)
    if detail is None:
        return _page("error.html", 404, principal=principal, section="incidents", error="No such incident.")
    timeline = build_timeline(detail["findings"], detail["events"])
    counts = {kind: 0 for kind, _ in LAYERS}
    for entry in timeline:
        if entry["kind"] in counts:
            counts[entry["kind"]] += 1
    chain = [{"kind": kind, "label": label, "count": counts[kind]} for kind, label in LAYERS]
    evidence = ledger_hook.bundle(service.ledger, detail["incident"], detail["findings"], detail["events"])
    return _page("incident.html", principal=principal, section="incidents", incident=detail["incident"],
                 timeline=timeline, chain=chain, ledger=ledger_hook.panel(service.ledger), evidence=evidence)


@router.get("/ui/compute")
async def compute_page(request: Request):
    principal = _principal(request)
    if principal is None:
        return _login_redirect()
    report = request.app.state.service.worker.compute_report()
    return _page("compute.html", principal=principal, section="compute", report=report, chart=chart(report))


# -- pieces -----------------------------------------------------------------------------------------------
def summary(event: dict[str, Any]) -> str:
    kind = event.get("kind")
    if kind == "action":
        body = event.get("input")
        if body is None and event.get("args") is not None:
            body = json.dumps(event["args"], ensure_ascii=False)
        text = f"{event.get('tool')}: {body or ''}"
    elif kind == "process":
        argv = event.get("argv") or [event.get("exe") or ""]
        text = f"pid {event.get('pid')} (parent {event.get('ppid')}): {' '.join(map(str, argv))}"
    elif kind == "network":
        if event.get("dns_query"):
            text = f"DNS {event['dns_query']}"
        else:
            text = (f"{event.get('proto') or 'ip'} {event.get('src') or '?'}:{event.get('sport') or '?'} → "
                    f"{event.get('dst')}:{event.get('dport') or '?'} ({event.get('direction') or 'unknown'})")
        if event.get("bytes_out") is not None:
            text += f", {event['bytes_out']} bytes out"
        if event.get("pid") is not None:
            text += f", pid {event['pid']}"
    elif kind == "gpu":
        text = f"GPU {event.get('gpu')} pid {event.get('pid')}: util {event.get('util')}%, {event.get('mem_mib')} MiB"
    elif kind == "file":
        text = f"{event.get('op') or 'write'} {event.get('path')}"
    else:
        text = json.dumps(event, ensure_ascii=False, default=str)
    return text[:MAX_SUMMARY]


def build_timeline(findings: list[dict], events: list[dict]) -> list[dict[str, Any]]:
    """One entry per event (with the findings it raised), ordered by time and then action → process →
    connection → GPU; findings whose events were not stored stand on their own."""
    by_event: dict[str, list[dict]] = {}
    orphans: list[dict] = []
    known = {e.get("id") for e in events}
    for f in findings:
        ids = [i for i in f.get("event_ids", []) if i in known]
        if ids:
            by_event.setdefault(ids[0], []).append(f)
        else:
            orphans.append(f)
    entries = []
    for event in events:
        kind = event.get("kind", "?")
        entries.append({"ts": event.get("ts"), "kind": kind, "label": LAYER_LABEL.get(kind, kind),
                        "step": event.get("step"), "summary": summary(event), "findings": by_event.get(event.get("id"), []),
                        "context": bool(event.get("_context"))})
    for f in orphans:
        kind = "gpu" if f.get("category") == "compute_acquisition" and "gpus" in f.get("evidence", {}) else "action"
        entries.append({"ts": f.get("ts"), "kind": kind, "label": LAYER_LABEL[kind], "step": f.get("step"),
                        "summary": str(f.get("evidence", {}).get("command") or f.get("title")), "findings": [f], "context": False})

    def order(entry):
        ts = entry["ts"]
        return (ts if isinstance(ts, (int, float)) else 0.0, LAYER_RANK.get(entry["kind"], 9))
    entries.sort(key=order)
    return entries


def chart(report: dict[str, Any], width: int = 720, label_w: int = 260) -> dict[str, Any]:
    """Horizontal bars of GPU-seconds: sanctioned jobs, then processes outside every job."""
    rows = [(f"job {job}", u.get("gpu_seconds", 0.0), "bar-job") for job, u in report.get("jobs", {}).items()]
    rows += [(f"pid {o.get('pid')} on {o.get('host')} (no job)", o.get("gpu_seconds", 0.0), "bar-outside")
             for o in report.get("outside_jobs", [])]
    rows = rows[:40]
    top = max((v for _, v, _ in rows), default=0.0) or 1.0
    span = width - label_w - 80
    bars = [{"label": label[:60], "value_text": f"{value:.1f}", "cls": cls, "y": 10 + i * 28,
             "w": max(1, round(span * value / top)) if value else 0} for i, (label, value, cls) in enumerate(rows)]
    return {"bars": bars, "width": width, "label_w": label_w, "height": 20 + len(bars) * 28}
