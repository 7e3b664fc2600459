"""Fields every event shares, and the rules that make ids and timestamps stable.

Events are msgspec Structs: the generic format decodes straight into them (about a microsecond a
line), and a tagged union on `kind` picks the type. Fields the model does not know are kept in
`extra`, outside the struct's own fields, and written back out by `to_dict`.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, ClassVar

import msgspec

_encoder = msgspec.json.Encoder(order="sorted")


class EventError(ValueError):
    """An event that cannot be accepted, with the reason in words."""


class Location(msgspec.Struct, frozen=True, gc=False):
    """Where an event came from, so evidence can point back at the exact line or message.

    A frozen struct, not a NamedTuple: one is made per event read, and this is four times cheaper."""

    file: str
    line: int | None = None
    message: int | None = None

    def __str__(self) -> str:
        if self.line is not None and self.message is not None:
            return f"{self.file}:{self.line}#message{self.message}"
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.message is not None:
            return f"{self.file}#message{self.message}"
        return self.file


class Event(msgspec.Struct, kw_only=True, tag_field="kind", dict=True, forbid_unknown_fields=True):
    id: str | int = ""
    ts: float | str
    host: str | None = None
    sandbox: str | None = None
    run: str | None = None
    episode: str | None = None
    step: int | None = None
    pid: int | None = None

    kind: ClassVar[str] = ""
    extra: ClassVar[dict[str, Any]] = {}
    """Unknown fields, kept; set per instance (the class-level value is an empty default)."""
    source: ClassVar[Location | None] = None
    """Where the event was read; set per instance by sources."""

    def __post_init__(self) -> None:
        if type(self.ts) is str:
            self.ts = parse_ts(self.ts)
        if type(self.id) is int:
            self.id = str(self.id)
        self.check()

    def check(self) -> None:
        """Kind-specific validation; raise EventError with the reason."""

    def to_dict(self) -> dict[str, Any]:
        """The event in the generic v1 format: kept unknown fields, then the model's own."""
        out: dict[str, Any] = dict(self.extra)
        out["kind"] = self.kind
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out

    @property
    def context(self) -> tuple:
        return (self.sandbox, self.run, self.episode)


def parse_ts(value: Any) -> float:
    """Epoch seconds (int or float, or numeric string) or RFC 3339 text, as float seconds."""
    if isinstance(value, bool):
        raise EventError("ts must be epoch seconds or RFC 3339 text, not a boolean")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return float(text)
        except ValueError:
            pass
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise EventError(f"ts {value[:40]!r} is neither epoch seconds nor RFC 3339") from None
        if parsed.tzinfo is None:
            raise EventError(f"ts {value[:40]!r} has no time zone (RFC 3339 requires one)")
        return parsed.timestamp()
    raise EventError(f"ts must be a number or a string, not {type(value).__name__}")


def stable_id(payload: dict[str, Any]) -> str:
    """An id derived from the event's content (without any id), so re-reading yields the same ids."""
    if "id" in payload:
        payload = {k: v for k, v in payload.items() if k != "id"}
    return digest_id(_encoder.encode(payload))


def digest_id(data: bytes) -> str:
    return "ev-" + hashlib.blake2b(data, digest_size=12).hexdigest()
