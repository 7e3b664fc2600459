"""`gpu`: one utilisation sample of a GPU, optionally for one process."""
from __future__ import annotations

from dataclasses import dataclass

from .base import Event, EventError, opt_float, opt_int


@dataclass(slots=True)
class Gpu(Event):
    gpu: int = 0
    util: float | None = None
    mem_mib: float | None = None


def build(common: dict, raw: dict) -> Gpu:
    index = opt_int(raw, "gpu")
    if index is None:
        raise EventError("gpu needs 'gpu' (the device index)")
    util = opt_float(raw, "util")
    if util is not None and not 0 <= util <= 100:
        raise EventError("gpu 'util' is a percentage between 0 and 100")
    return Gpu(**common, gpu=index, util=util, mem_mib=opt_float(raw, "mem_mib"))


FIELDS = ("gpu", "util", "mem_mib")
