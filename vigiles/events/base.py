"""Fields every event shares, and the rules that make ids and timestamps stable."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

COMMON = ("kind", "id", "ts", "host", "sandbox", "run", "episode", "step", "pid")

_encoder = msgspec.json.Encoder(order="sorted")


class EventError(ValueError):
    """An event that cannot be accepted, with the reason in words."""


@dataclass(slots=True, frozen=True)
class Location:
    """Where an event came from, so evidence can point back at the exact line or message."""

    file: str
    line: int | None = None
    message: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}"
        if self.message is not None:
            return f"{self.file}#message{self.message}"
        return self.file


@dataclass(slots=True)
class Event:
    kind: str
    id: str
    ts: float
    host: str | None = None
    sandbox: str | None = None
    run: str | None = None
    episode: str | None = None
    step: int | None = None
    pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    source: Location | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event in the generic v1 format: common fields, kind fields, then kept unknown fields."""
        out: dict[str, Any] = dict(self.extra)
        for name in self.__dataclass_fields__:
            if name in ("extra", "source"):
                continue
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
    """An id derived from the event's content, so re-reading a file yields the same ids."""
    digest = hashlib.blake2b(_encoder.encode(payload), digest_size=12).hexdigest()
    return "ev-" + digest


def opt_str(raw: dict, name: str) -> str | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise EventError(f"{name} must be a string, not {type(value).__name__}")


def opt_int(raw: dict, name: str) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise EventError(f"{name} must be an integer, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise EventError(f"{name} must be an integer, not {type(value).__name__}")


def opt_float(raw: dict, name: str) -> float | None:
    value = raw.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise EventError(f"{name} must be a number, not {type(value).__name__}")
    return float(value)


def str_list(raw: dict, name: str) -> list[str] | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EventError(f"{name} must be a list of strings")
    return value


def int_list(raw: dict, name: str) -> list[int] | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise EventError(f"{name} must be a list of integers")
    return value
