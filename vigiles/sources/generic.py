"""The generic format (v1): JSON Lines, one event per line (docs/events.md)."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import msgspec

from ..events import Event, EventError, Location, decode_line, decode_lines
from .base import MAX_LINE_BYTES, ReadError, too_long

CHUNK_BYTES = 1 << 20
"""Lines are read a chunk at a time and a chunk's lines decoded in one call (`decode_lines`): the
per-line work of a reader was a fifth of a scan's time."""


def sniff(first: object) -> bool:
    return isinstance(first, dict) and isinstance(first.get("kind"), str) and "ts" in first


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    with open(path, "rb") as stream:
        yield from read_stream(stream, name)


def read_stream(stream, name: str) -> Iterator[Event | ReadError]:
    """Every event of a JSON Lines stream, and a ReadError (file and line) for each line that is not
    one; blank lines are passed over, a line over MAX_LINE_BYTES is skipped without being held."""
    number = 0  # lines before the chunk's first
    rest = b""
    read = getattr(stream, "read1", stream.read)  # what is there: a pipe's lines are not held back
    while True:
        chunk = read(CHUNK_BYTES)
        if not chunk:
            break
        if rest:
            chunk = rest + chunk
        end = chunk.rfind(b"\n")
        if end < 0:
            rest = chunk
            if len(rest) > MAX_LINE_BYTES:
                number += 1
                yield too_long(name, number)
                rest = _skip_line(read)
                if rest is None:
                    return
            continue
        body, rest = chunk[:end], chunk[end + 1:]
        lines = body.split(b"\n")
        yield from _events(lines, name, number)
        number += len(lines)
    if rest.endswith(b"\n"):  # (what followed a skipped line may end with one)
        rest = rest[:-1]
    if rest:
        yield from _events(rest.split(b"\n"), name, number)


def _events(lines: list[bytes], name: str, number: int) -> Iterator[Event | ReadError]:
    """The events of whole lines: decoded at once where every line is a valid, short event; else
    line by line, so that each bad (or blank) line is named (or passed over) and the others kept."""
    if max(map(len, lines)) <= MAX_LINE_BYTES:
        try:
            events = decode_lines(lines, name, number)
        except (msgspec.DecodeError, EventError, UnicodeDecodeError):
            events = None
        if events is not None:
            yield from events
            return
    for line in lines:
        number += 1
        if len(line) > MAX_LINE_BYTES:
            yield too_long(name, number)
        elif line and not line.isspace():
            yield decode_one(line, name, number)


def decode_one(line: bytes, name: str, number: int) -> Event | ReadError:
    """One line as an event, or the error that names it."""
    try:
        return decode_line(line, Location(name, number))
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return ReadError(name, number, f"not valid JSON: {exc}")
    except EventError as exc:
        return ReadError(name, number, str(exc))


def _skip_line(read) -> bytes | None:
    """Read past the rest of an over-long line; what follows its end (None at the end of the stream)."""
    while True:
        chunk = read(CHUNK_BYTES)
        if not chunk:
            return None
        end = chunk.find(b"\n")
        if end >= 0:
            return chunk[end + 1:]

