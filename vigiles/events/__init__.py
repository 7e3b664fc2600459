"""The event model: one typed record per thing an agent did or a machine saw.

Two doors lead in, both validating the same way: `decode_line` for generic-format (v1) JSON
bytes (fast: straight into the typed struct), and `from_dict` for an already-decoded object, which
every other source uses.
"""
from __future__ import annotations

from typing import Any, Union

import msgspec

from .action import Action
from .base import Event, EventError, Location, _encoder, digest_id, stable_id
from .file import File
from .gpu import Gpu
from .job import Job
from .network import Network
from .process import Process

KINDS: dict[str, type[Event]] = {"action": Action, "process": Process, "network": Network, "gpu": Gpu,
                                 "job": Job, "file": File}
AnyEvent = Union[Action, Process, Network, Gpu, Job, File]

__all__ = ["Event", "Action", "Process", "Network", "Gpu", "Job", "File", "Location", "EventError",
           "KINDS", "from_dict", "decode_line", "decode_lines"]

_FIELDS = {kind: frozenset(cls.__struct_fields__) | {"kind"} for kind, cls in KINDS.items()}
_fast = msgspec.json.Decoder(AnyEvent, strict=False)
_plain = msgspec.json.Decoder()
TOO_DEEP = "JSON nested too deeply to read"
"""msgspec raises RecursionError past its depth (about 990 levels here); said as a decode error."""


def from_dict(raw: Any, source: Location | None = None, digest_of: bytes | None = None) -> Event:
    """Validate one generic-format (v1) event and build its typed form.

    Fields the model does not know are kept in `extra` and written back out unchanged. An event
    without an id gets one derived from its content (`digest_of`, when the caller has the exact
    bytes it was read from, else the canonical encoding of `raw`), so re-reading gives the same id.
    """
    if type(raw) is not dict:
        raise EventError(f"an event is a JSON object, not {type(raw).__name__}")
    kind = raw.get("kind")
    cls = KINDS.get(kind) if type(kind) is str else None
    if cls is None:
        raise EventError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if "ts" not in raw:
        raise EventError("missing 'ts'")
    known = _FIELDS[kind]
    fields = {k: v for k, v in raw.items() if k in known and k != "kind"}
    try:
        event = msgspec.convert(fields, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise EventError(_message(exc)) from None
    except EventError:
        raise
    if len(fields) + 1 < len(raw):
        event.extra = {k: v for k, v in raw.items() if k not in known}
    if source is not None:
        event.source = source
    try:
        encoded = _encoder.encode(raw)  # (every string is checked: the analysis encodes them all)
    except UnicodeEncodeError:
        # A lone surrogate (json.loads takes "\\ud800" in a tool call's arguments): written as
        # \\udXXX text, so that one string neither stops the reading nor the analysis downstream.
        return from_dict(_printable(raw), source, digest_of)
    if not event.id:
        event.id = digest_id(digest_of) if digest_of is not None else (
            stable_id(raw) if "id" in raw else digest_id(encoded))
    return event


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def decode_line(line: bytes, source: Location | None = None) -> Event:
    """One JSON Lines record as an event; raises EventError or msgspec.DecodeError (not JSON, or
    nested deeper than the decoder goes: a line an agent's arguments can make)."""
    try:
        event = _fast.decode(line)
    except (msgspec.ValidationError, EventError):
        try:
            return from_dict(_plain.decode(line), source, digest_of=line.strip())
        except RecursionError:
            raise msgspec.DecodeError(TOO_DEEP) from None
    except RecursionError:
        raise msgspec.DecodeError(TOO_DEEP) from None
    if source is not None:
        event.source = source
    if not event.id:
        event.id = digest_id(line.strip())
    return event


def decode_lines(lines: list[bytes], name: str, number: int) -> list[Event]:
    """Lines that are each one record, lines number+1... of file `name`, as decode_line reads each
    (straight into the typed struct, the same source and id), in one call; raises as decode_line's
    fast path does, for the first line that is not. (Not msgspec's decode_lines: it reads a line
    holding two records as two.)"""
    decode = _fast.decode
    try:
        events = [decode(line) for line in lines]
    except RecursionError:
        raise msgspec.DecodeError(TOO_DEEP) from None
    for event, line in zip(events, lines):
        number += 1
        event.source = Location(name, number)
        if not event.id:
            event.id = digest_id(line.strip())
    return events


def _message(exc: msgspec.ValidationError) -> str:
    """msgspec's message, with its JSON path ("- at `$.tool`") said as a field name."""
    text = str(exc)
    message, sep, path = text.partition(" - at `$.")
    return f"{message} (field `{path}" + ("" if path.endswith("`") else "`") + ")" if sep else text
