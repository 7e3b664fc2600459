"""POST /v1/events: batches from sensors and agent frameworks.

- body: a JSON array of events (`application/json`; a single object counts as a batch of one) or
  JSON Lines (`application/x-ndjson`, `application/jsonl`, `application/json-lines`, `text/plain`)
- every item is validated on its own; bad ones are reported with their index (0-based position in
  the array, or among the body's lines) and the good ones are still accepted
- idempotent by event id (an event without one gets an id derived from its content)
- durable before `202`: the new events are committed to SQLite (WAL, synchronous=FULL) before the
  answer is sent; analysis follows on the analysis thread (`?wait=true` waits for it)
- `429` with `Retry-After` when `max_inflight` requests are already being written or the analysis
  queue holds `max_queue_events`; `413` beyond `max_body_bytes` or `max_batch` items
"""
from __future__ import annotations

from typing import Any

import msgspec
from anyio import to_thread

from ..events import EventError, decode_line, from_dict
from .runtime import Service, event_problem

JSON_TYPES = ("application/json",)
LINES_TYPES = ("application/x-ndjson", "application/jsonl", "application/json-lines", "application/jsonlines",
               "application/x-jsonlines", "text/plain")
MAX_ERRORS = 1000


class IngestError(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def parse(body: bytes, content_type: str, max_batch: int) -> tuple[list, list[dict[str, Any]], int]:
    """Events, per-item errors ({index, error}) and the number of items seen."""
    kind = media_type(content_type)
    events: list = []
    errors: list[dict[str, Any]] = []
    if kind in JSON_TYPES:
        try:
            doc = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise IngestError(400, f"body is not valid JSON: {exc}") from None
        except RecursionError:
            raise IngestError(400, "body is not read: JSON nested too deeply") from None
        if isinstance(doc, dict):
            doc = [doc]
        if not isinstance(doc, list):
            raise IngestError(400, "body must be a JSON array of events (or one event object)")
        if len(doc) > max_batch:
            raise IngestError(413, f"a batch holds at most {max_batch} events")
        for index, raw in enumerate(doc):
            _one(events, errors, index, lambda raw=raw: from_dict(raw))
        return events, errors, len(doc)
    if kind in LINES_TYPES:
        lines = body.split(b"\n")
        seen = 0
        for index, line in enumerate(lines):
            if not line.strip():
                continue
            seen += 1
            if seen > max_batch:
                raise IngestError(413, f"a batch holds at most {max_batch} events")
            _one(events, errors, index, lambda line=line: decode_line(line))
        return events, errors, seen
    raise IngestError(415, "Content-Type must be application/json (an array) or application/x-ndjson (JSON Lines)")


def _one(events: list, errors: list, index: int, build) -> None:
    try:
        event = build()
    except (EventError, msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError) as exc:
        _error(errors, index, str(exc) or type(exc).__name__)
        return
    problem = event_problem(event)
    if problem:
        _error(errors, index, problem)
        return
    events.append(event)


def _error(errors: list, index: int, message: str) -> None:
    if len(errors) < MAX_ERRORS:
        errors.append({"index": index, "error": message[:500]})


def ingest_sync(service: Service, body: bytes, content_type: str, wait: bool) -> tuple[int, dict[str, Any]]:
    """Parse, validate and durably store one batch (runs on a worker thread)."""
    try:
        events, errors, seen = parse(body, content_type, service.config.max_batch)
    except IngestError as exc:
        return exc.status, {"detail": exc.detail}
    m = service.metrics
    m.events_rejected.inc(len(errors))
    if not events and errors:
        return 400, {"accepted": 0, "stored": 0, "duplicates": 0, "rejected": len(errors), "errors": errors, "ids": []}
    stored, duplicates, work = service.store_events(events, wait=wait)
    m.events_ingested.inc(len(stored))
    m.events_duplicate.inc(duplicates)
    out: dict[str, Any] = {"accepted": len(events), "stored": len(stored), "duplicates": duplicates,
                           "rejected": len(errors), "errors": errors, "ids": [e.id for e in events]}
    if wait:
        out["findings"] = [f.to_dict() for f in work.findings]
    return 202, out


async def ingest(service: Service, body: bytes, content_type: str, wait: bool) -> tuple[int, dict[str, Any]]:
    return await to_thread.run_sync(ingest_sync, service, body, content_type, wait)
