"""What every source shares: bounded line reading and per-line errors that never stop a scan."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

MAX_LINE_BYTES = 1 << 20
"""Longest line a source accepts; longer lines are reported and skipped, never loaded whole."""


TOO_DEEP = "not read: JSON nested too deeply"
"""A value nested past the JSON decoders' depth (they raise RecursionError, about 990 levels)."""


@dataclass(slots=True, frozen=True)
class ReadError:
    """A line or record that could not be read; the scan reports it and goes on."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.message}"


def display_path(path: Path) -> str:
    return str(path)


def too_long(name: str, number: int) -> ReadError:
    """The error for a line over MAX_LINE_BYTES, which is skipped without being held."""
    return ReadError(name, number, f"line longer than {MAX_LINE_BYTES} bytes, skipped")


def data_lines(stream: IO[bytes], name: str) -> Iterator[tuple[int, bytes] | ReadError]:
    """(line number, line) for every non-blank line; a ReadError for each line over the limit.

    A long line is consumed in chunks, so a 10 MB line costs no more memory than the limit. Every
    line-oriented reader's inner loop (JSON lines, auditd, Zeek, flow logs): one generator, kept short."""
    limit = MAX_LINE_BYTES
    readline = stream.readline
    number = 0
    while True:
        line = readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while True:
                rest = readline(limit)
                if not rest or rest.endswith(b"\n"):
                    break
            yield too_long(name, number)
        elif not line.isspace():
            yield number, line
