"""The event model: one typed record per thing an agent did or a machine saw.

`from_dict` is the single door into the model; every source goes through it, so validation,
id assignment and the keeping of unknown fields happen in one place.
"""
from __future__ import annotations

from typing import Any

from . import action, file, gpu, job, network, process
from .action import Action
from .base import COMMON, Event, EventError, Location, opt_int, opt_str, parse_ts, stable_id
from .file import File
from .gpu import Gpu
from .job import Job
from .network import Network
from .process import Process

KINDS = {"action": action, "process": process, "network": network, "gpu": gpu, "job": job, "file": file}

__all__ = ["Event", "Action", "Process", "Network", "Gpu", "Job", "File", "Location", "EventError",
           "KINDS", "from_dict"]


def from_dict(raw: Any, source: Location | None = None) -> Event:
    """Validate one generic-format (v1) event and build its typed form.

    Fields the model does not know are kept in `extra` and written back out unchanged.
    """
    if not isinstance(raw, dict):
        raise EventError(f"an event is a JSON object, not {type(raw).__name__}")
    kind = raw.get("kind")
    module = KINDS.get(kind) if isinstance(kind, str) else None
    if module is None:
        raise EventError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if "ts" not in raw:
        raise EventError("missing 'ts'")
    event_id = raw.get("id")
    if event_id is not None and (not isinstance(event_id, (str, int)) or isinstance(event_id, bool)):
        raise EventError("'id' must be a string")
    if kind == "job" and event_id is None:
        raise EventError("a job event needs 'id' (the job's name)")
    step = opt_int(raw, "step")
    common = {
        "kind": kind,
        "id": str(event_id) if event_id is not None else "",
        "ts": parse_ts(raw["ts"]),
        "host": opt_str(raw, "host"),
        "sandbox": opt_str(raw, "sandbox"),
        "run": opt_str(raw, "run"),
        "episode": opt_str(raw, "episode"),
        "step": step,
        "pid": opt_int(raw, "pid"),
        "source": source,
    }
    event = module.build(common, raw)
    known = set(COMMON).union(module.FIELDS)
    event.extra = {k: v for k, v in raw.items() if k not in known}
    if not event.id:
        body = {k: v for k, v in raw.items() if k != "id"}
        event.id = stable_id(body)
    return event
