"""`job`: compute that someone sanctioned; its `id` names the job."""
from __future__ import annotations

from typing import ClassVar

from .base import Event, EventError


class Job(Event, tag="job", kw_only=True):
    gpus: list[int] | None = None
    pids: list[int] | None = None
    command: str | None = None
    """A pattern for the job's processes' command lines, when pids are not known."""

    kind: ClassVar[str] = "job"

    def check(self) -> None:
        if not self.id:
            raise EventError("a job event needs 'id' (the job's name)")
