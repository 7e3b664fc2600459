"""`file`: a change to a file."""
from __future__ import annotations

from dataclasses import dataclass

from .base import Event, EventError, opt_str

OPS = frozenset({"write", "delete", "chmod", "rename", "create"})


@dataclass(slots=True)
class File(Event):
    path: str = ""
    op: str = "write"
    mode: str | None = None
    new_path: str | None = None


def build(common: dict, raw: dict) -> File:
    path = opt_str(raw, "path")
    op = opt_str(raw, "op") or "write"
    if not path:
        raise EventError("file needs 'path'")
    if op not in OPS:
        raise EventError(f"file 'op' must be one of {sorted(OPS)}")
    return File(**common, path=path, op=op, mode=opt_str(raw, "mode"), new_path=opt_str(raw, "new_path"))


FIELDS = ("path", "op", "mode", "new_path")
