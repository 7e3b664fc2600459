"""`gpu`: one utilisation sample of a GPU, optionally for one process."""
from __future__ import annotations

from typing import ClassVar

from .base import Event, EventError


class Gpu(Event, tag="gpu", kw_only=True):
    gpu: int
    util: float | None = None
    mem_mib: float | None = None

    kind: ClassVar[str] = "gpu"

    def check(self) -> None:
        if self.util is not None and not 0 <= self.util <= 100:
            raise EventError("gpu 'util' is a percentage between 0 and 100")
