"""`file`: a change to a file."""
from __future__ import annotations

from typing import ClassVar

from .base import Event, EventError

OPS = frozenset({"write", "delete", "chmod", "rename", "create"})


class File(Event, tag="file", kw_only=True):
    path: str
    op: str = "write"
    mode: str | None = None
    new_path: str | None = None

    kind: ClassVar[str] = "file"

    def check(self) -> None:
        if not self.path:
            raise EventError("file needs 'path'")
        if self.op not in OPS:
            raise EventError(f"file 'op' must be one of {sorted(OPS)}")
