"""The JSON API: /v1/events, /v1/guard, /v1/incidents, /v1/findings, /v1/decisions, /v1/compute, /healthz, /metrics."""
from __future__ import annotations

import re
from typing import Any, Optional

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from .. import __version__
from ..analysis.rules import SEVERITY_RANK
from ..events import EventError
from . import ledger_hook, tables
from .auth import Principal
from .ingest import JSON_TYPES, ingest
from .metrics import CONTENT_TYPE
from .models import GuardRequest, GuardResponse, Health, IncidentDetail, IngestResponse, Problem, Severity
from .security import reader, writer

router = APIRouter()
_ID = re.compile(r"^[A-Za-z0-9-]+$")

_EVENT_SCHEMA = {"type": "object", "required": ["kind", "ts"],
                 "properties": {"kind": {"type": "string", "enum": ["action", "process", "network", "gpu", "job", "file"]},
                                "ts": {"oneOf": [{"type": "number"}, {"type": "string"}]},
                                "id": {"type": "string"}},
                 "additionalProperties": True}
_INGEST_BODY = {"requestBody": {"required": True, "content": {
    **{t: {"schema": {"oneOf": [{"type": "array", "items": _EVENT_SCHEMA}, _EVENT_SCHEMA]}} for t in JSON_TYPES},
    "application/x-ndjson": {"schema": {"type": "string", "description": "JSON Lines: one event per line"}},
}}}
_ERRORS = {401: {"model": Problem}, 403: {"model": Problem}}


def _service(request: Request):
    return request.app.state.service


@router.post("/v1/events", status_code=202, response_model=IngestResponse, tags=["ingest"],
             openapi_extra=_INGEST_BODY,
             responses={**_ERRORS, 400: {"model": IngestResponse}, 413: {"model": Problem}, 415: {"model": Problem},
                        429: {"model": Problem, "headers": {"Retry-After": {"schema": {"type": "integer"}}}}})
async def post_events(request: Request, wait: bool = Query(False, description="wait for the batch's analysis and return its findings"),
                      principal: Principal = Depends(writer)):
    """A batch of events (JSON array or JSON Lines). Durable before 202; idempotent by event id."""
    service = _service(request)
    config = service.config
    state = request.app.state
    if state.inflight >= config.max_inflight or service.overloaded():
        service.metrics.ingest_throttled.inc()
        return JSONResponse({"detail": "overloaded; retry later"}, status_code=429,
                            headers={"Retry-After": str(config.retry_after_s)})
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > config.max_body_bytes:
        return JSONResponse({"detail": f"body larger than {config.max_body_bytes} bytes"}, status_code=413)
    state.inflight += 1
    try:
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > config.max_body_bytes:
                return JSONResponse({"detail": f"body larger than {config.max_body_bytes} bytes"}, status_code=413)
            chunks.append(chunk)
        status, doc = await ingest(service, b"".join(chunks), request.headers.get("content-type", ""), wait)
    finally:
        state.inflight -= 1
    return JSONResponse(doc, status_code=status)


@router.post("/v1/guard", response_model=GuardResponse, tags=["guard"],
             responses={**_ERRORS, 422: {"model": Problem}})
async def post_guard(proposal: GuardRequest, request: Request, principal: Principal = Depends(writer)):
    """May this action run? `allow`, `deny` (a finding at or above deny_at) or `review` (at or above review_at)."""
    service = _service(request)
    try:
        decision = service.guard.decide(proposal.model_dump(exclude_none=True))
    except EventError as exc:
        raise HTTPException(422, str(exc)) from None
    service.metrics.guard_decisions.inc(1, decision.decision)
    service.metrics.guard_latency.observe(decision.latency_ms / 1000)
    service.record_decision(decision, principal.name)
    return JSONResponse(decision.to_dict())


@router.get("/v1/incidents", tags=["incidents"], responses=_ERRORS)
async def list_incidents(request: Request, severity: Optional[Severity] = Query(None, description="at or above"),
                         category: Optional[str] = Query(None, max_length=100),
                         limit: int = Query(100, ge=1, le=1000),
                         principal: Principal = Depends(reader)) -> list[dict[str, Any]]:
    """Incidents, newest first."""
    service = _service(request)
    return service.read_call(service.read.incidents, severity, category, limit)


@router.get("/v1/incidents/{incident_id}", response_model=IncidentDetail, tags=["incidents"],
            responses={**_ERRORS, 404: {"model": Problem}})
async def get_incident(incident_id: str, request: Request, principal: Principal = Depends(reader)):
    """One incident with its findings, their events and (when a ledger is configured) its evidence bundle."""
    service = _service(request)
    detail = incident_detail(service, incident_id)
    if detail is None:
        raise HTTPException(404, "no such incident")
    detail["evidence"] = ledger_hook.bundle(service.ledger, detail["incident"], detail["findings"], detail["events"])
    return detail


CONTEXT_MARGIN_S = 600
CONTEXT_LIMIT = 200


def context_events(service, events: list[dict], first_ts: float, last_ts: float) -> list[dict]:
    """Events without findings of their own that belong to the incident's processes (same host and pid,
    close in time): the connection an ssh process opened, the GPU samples of a miner."""
    import msgspec
    known = {e.get("id") for e in events}
    pids: dict[str, set[int]] = {}
    for e in events:
        if e.get("host") and isinstance(e.get("pid"), int) and e.get("kind") != "action":
            pids.setdefault(e["host"], set()).add(e["pid"])
    out: list[dict] = []
    for host, wanted in pids.items():
        marks = ",".join("?" * len(wanted))
        rows = service.read.db.execute(
            f"SELECT body FROM events WHERE host=? AND pid IN ({marks}) AND ts BETWEEN ? AND ? ORDER BY ts LIMIT ?",
            (host, *sorted(wanted), first_ts - CONTEXT_MARGIN_S, last_ts + CONTEXT_MARGIN_S, CONTEXT_LIMIT)).fetchall()
        for (body,) in rows:
            event = msgspec.json.decode(body)
            if event.get("id") not in known:
                known.add(event.get("id"))
                event["_context"] = True
                out.append(event)
    return out


def incident_detail(service, incident_id: str, context: bool = False) -> dict | None:
    if len(incident_id) > 100 or not _ID.match(incident_id):
        return None

    def read():
        incident = service.read.incident(incident_id)
        if incident is None or (incident["id"] != incident_id and len(incident_id) < 6):
            return None
        findings = service.read.findings(incident["finding_ids"])
        events = service.read.events(list(dict.fromkeys(e for f in findings for e in f["event_ids"])))
        if context:
            events += context_events(service, events, incident["first_ts"], incident["last_ts"])
        return {"incident": incident, "findings": findings, "events": events}
    return service.read_call(read)


@router.get("/v1/findings", tags=["incidents"], responses=_ERRORS)
async def list_findings(request: Request, severity: Optional[Severity] = Query(None, description="at or above"),
                        category: Optional[str] = Query(None, max_length=100), rule: Optional[str] = Query(None, max_length=200),
                        since: Optional[float] = Query(None, description="epoch seconds"),
                        limit: int = Query(100, ge=1, le=1000),
                        principal: Principal = Depends(reader)) -> list[dict[str, Any]]:
    """Findings, newest first."""
    service = _service(request)
    clauses, params = [], []
    if severity:
        allowed = [s for s, rank in SEVERITY_RANK.items() if rank >= SEVERITY_RANK[severity]]
        clauses.append(f"severity IN ({','.join('?' * len(allowed))})")
        params += allowed
    if category:
        clauses.append("category=?")
        params.append(category)
    if rule:
        clauses.append("rule=?")
        params.append(rule)
    if since is not None and since == since:
        clauses.append("ts>=?")
        params.append(since)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    import msgspec

    def read():
        rows = service.read.db.execute(f"SELECT body FROM findings {where} ORDER BY ts DESC LIMIT ?", (*params, limit))
        return [msgspec.json.decode(b) for (b,) in rows]
    return service.read_call(read)


@router.get("/v1/decisions", tags=["guard"], responses=_ERRORS)
async def list_decisions(request: Request, decision: Optional[str] = Query(None, pattern="^(allow|deny|review)$"),
                         limit: int = Query(100, ge=1, le=1000),
                         principal: Principal = Depends(reader)) -> list[dict[str, Any]]:
    """Recent guard decisions, newest first."""
    service = _service(request)
    return service.read_call(tables.decisions, service.read.db, limit, decision)


@router.get("/v1/compute", tags=["incidents"], responses=_ERRORS)
async def compute(request: Request, principal: Principal = Depends(reader)) -> dict[str, Any]:
    """GPU-seconds per sanctioned job and per process outside every job, from the events ingested so far."""
    return _service(request).worker.compute_report()


@router.get("/healthz", response_model=Health, tags=["service"])
async def healthz(request: Request):
    """Liveness: no authentication, no secrets."""
    service = _service(request)
    return {"status": "ok", "version": __version__, "analysis_queue": service.worker.pending_events,
            "rules": len(service.ruleset.rules)}


@router.get("/metrics", tags=["service"], response_class=Response, responses={
    200: {"content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}}}, **_ERRORS})
async def metrics(request: Request, principal: Principal = Depends(reader)):
    """Prometheus text format (any valid token)."""
    return Response(_service(request).metrics.render(), media_type=CONTENT_TYPE)

