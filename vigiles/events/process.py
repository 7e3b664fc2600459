"""`process`: one program execution seen on a host."""
from __future__ import annotations

from typing import ClassVar

from .base import Event, EventError


class Process(Event, tag="process", kw_only=True):
    pid: int
    ppid: int | None = None
    exe: str | None = None
    argv: list[str] | None = None
    cwd: str | None = None
    user: str | None = None

    kind: ClassVar[str] = "process"

    def check(self) -> None:
        if not self.argv and not self.exe:
            raise EventError("process needs 'argv' or 'exe'")
