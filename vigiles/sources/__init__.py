"""Sources: one module per input format; each yields events and knows nothing of detection.

`read_paths` walks files and folders, chooses a reader for each file by its content (never by
its name alone), and yields events and `ReadError`s in file order.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import msgspec

from ..events import Event
from . import generic
from .base import ReadError

HEAD_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Format:
    """A reader: `sniff(head, first, path)` says whether a file is in this format."""

    name: str
    sniff: Callable[[bytes, object, Path], bool]
    read: Callable[[Path, str], Iterator[Event | ReadError]]


FORMATS: list[Format] = []
"""Readers in the order they are tried; the generic format comes last."""


def register(fmt: Format, *, first: bool = True) -> None:
    if first:
        FORMATS.insert(0, fmt)
    else:
        FORMATS.append(fmt)


register(Format("generic", lambda head, first, path: generic.sniff(first), generic.read), first=False)


def _first_value(head: bytes) -> object:
    """The JSON value on the first of the head's complete lines that holds one, or None."""
    lines = head.split(b"\n")
    complete = lines[:-1] if len(lines) > 1 else lines
    for line in complete[:8]:
        line = line.strip()
        if not line:
            continue
        try:
            return msgspec.json.decode(line)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
            continue
    return None


SKIP_LIMIT = 64 * 1024 * 1024


def detect(path: Path) -> Format | None:
    with open(path, "rb") as stream:
        head = stream.read(HEAD_BYTES)
        sample = head.lstrip(b"\xef\xbb\xbf")
        first = _first_value(sample)
        if first is None and b"\n" not in head and len(head) == HEAD_BYTES:
            # The first line is longer than the head: judge the file by the lines after it.
            skipped = len(head)
            while skipped < SKIP_LIMIT:
                chunk = stream.read(1 << 20)
                if not chunk:
                    break
                skipped += len(chunk)
                if b"\n" in chunk:
                    rest = chunk[chunk.index(b"\n") + 1:] + stream.read(HEAD_BYTES)
                    first = _first_value(rest)
                    break
    for fmt in FORMATS:
        try:
            if fmt.sniff(head, first, path):
                return fmt
        except Exception:  # a sniffer must never stop detection of the others
            continue
    return None


def iter_files(paths: Iterable[str | os.PathLike]) -> Iterator[Path | ReadError]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith("."):
                        yield Path(root) / name
        elif path.exists():
            yield path
        else:
            yield ReadError(str(path), None, "no such file or folder")


def read_file(path: Path, fmt: Format | None = None) -> Iterator[Event | ReadError]:
    name = str(path)
    try:
        fmt = fmt or detect(path)
    except OSError as exc:
        yield ReadError(name, None, f"cannot read: {exc.strerror or exc}")
        return
    if fmt is None:
        size = path.stat().st_size if path.exists() else 0
        why = "empty file" if size == 0 else "format not recognised (see docs/events.md for the formats read)"
        yield ReadError(name, None, why)
        return
    try:
        yield from fmt.read(path, name)
    except OSError as exc:
        yield ReadError(name, None, f"cannot read: {exc.strerror or exc}")


def read_paths(paths: Iterable[str | os.PathLike]) -> Iterator[Event | ReadError]:
    for item in iter_files(paths):
        if isinstance(item, ReadError):
            yield item
        else:
            yield from read_file(item)


__all__ = ["Format", "FORMATS", "ReadError", "register", "detect", "read_paths", "read_file", "iter_files"]

from . import auditd, falco, flowlogs, tetragon, zeek  # noqa: E402  sensor and log adapters

register(Format(falco.NAME, lambda head, first, path: falco.sniff(first), falco.read))
register(Format(tetragon.NAME, lambda head, first, path: tetragon.sniff(first), tetragon.read))
register(Format(auditd.NAME, lambda head, first, path: auditd.sniff(head), auditd.read))
register(Format(zeek.NAME, lambda head, first, path: zeek.sniff(head, first), zeek.read))
register(Format(flowlogs.NAME, lambda head, first, path: flowlogs.sniff(head), flowlogs.read))

# Transcript formats (docs/events.md, "Transcript formats"); most specific first.
from . import anthropic, codex, inspect_ai, openai, rock, swe_agent  # noqa: E402

for _fmt in (Format(codex.NAME, codex.sniff, codex.read),
             Format("inspect", inspect_ai.sniff, inspect_ai.read),
             Format("swe-agent", swe_agent.sniff, swe_agent.read),
             Format("rock", rock.sniff, rock.read),
             Format("anthropic", anthropic.sniff, anthropic.read),
             Format("openai-responses", openai.sniff_responses, openai.read),
             Format("openai-chat", openai.sniff_chat, openai.read)):
    FORMATS.insert(len(FORMATS) - 1, _fmt)  # before the generic format, which stays last
