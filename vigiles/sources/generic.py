"""The generic format (v1): JSON Lines, one event per line (docs/events.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import msgspec

from ..events import Event, EventError, Location, decode_line
from .base import ReadError, data_lines

def sniff(first: object) -> bool:
    return isinstance(first, dict) and isinstance(first.get("kind"), str) and "ts" in first


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    with open(path, "rb") as stream:
        yield from read_stream(stream, name)


def read_stream(stream, name: str) -> Iterator[Event | ReadError]:
    for item in data_lines(stream, name):
        if isinstance(item, ReadError):
            yield item
            continue
        number, line = item
        try:
            yield decode_line(line, Location(name, number))
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            yield ReadError(name, number, f"not valid JSON: {exc}")
        except EventError as exc:
            yield ReadError(name, number, str(exc))
