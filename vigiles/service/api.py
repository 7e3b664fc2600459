"""The JSON API: /v1/events, /v1/guard, /v1/incidents, /v1/findings, /v1/decisions, /v1/compute, /healthz, /metrics."""
from __future__ import annotations

import re
from typing import Annotated, Any, Optional

import msgspec

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
_encode = msgspec.json.Encoder().encode
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


class _Proposal(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """GuardRequest's twin for decoding: msgspec validates in microseconds, pydantic documents."""

    tool: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    input: Optional[Annotated[str, msgspec.Meta(max_length=1024 * 1024)]] = None
    args: Optional[dict[str, Any]] = None
    language: Optional[Annotated[str, msgspec.Meta(max_length=40)]] = None
    sandbox: Optional[Annotated[str, msgspec.Meta(max_length=500)]] = None
    run: Optional[Annotated[str, msgspec.Meta(max_length=500)]] = None
    episode: Optional[Annotated[str, msgspec.Meta(max_length=500)]] = None
    step: Optional[Annotated[int, msgspec.Meta(ge=-(2 ** 63), le=2 ** 63 - 1)]] = None
    host: Optional[Annotated[str, msgspec.Meta(max_length=500)]] = None
    pid: Optional[Annotated[int, msgspec.Meta(ge=-(2 ** 63), le=2 ** 63 - 1)]] = None
    id: Optional[Annotated[str, msgspec.Meta(max_length=200)]] = None


_decode_proposal = msgspec.json.Decoder(_Proposal).decode
_GUARD_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": GuardRequest.model_json_schema()}}}}


@router.post("/v1/guard", response_model=GuardResponse, tags=["guard"], openapi_extra=_GUARD_BODY,
             responses={**_ERRORS, 422: {"model": Problem}})
async def post_guard(request: Request, principal: Principal = Depends(writer)):
    """May this action run? `allow`, `deny` (a finding at or above deny_at) or `review` (at or above review_at)."""
    service = _service(request)
    body = await request.body()
    if len(body) > 2 * 1024 * 1024:
        return JSONResponse({"detail": "proposal too large"}, status_code=413)
    try:
        proposal = msgspec.structs.asdict(_decode_proposal(body))
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        return JSONResponse({"detail": str(exc)[:500]}, status_code=422)
    try:
        decision = service.guard.decide({k: v for k, v in proposal.items() if v is not None})
    except EventError as exc:
        raise HTTPException(422, str(exc)) from None
    service.metrics.guard_decisions.inc(1, decision.decision)
    service.metrics.guard_latency.observe(decision.latency_ms / 1000)
    service.record_decision(decision, principal.name)
    return Response(_encode(decision.to_dict()), media_type="application/json")


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

