"""`job`: compute that someone sanctioned; its `id` names the job."""
from __future__ import annotations

from dataclasses import dataclass

from .base import Event, int_list


@dataclass(slots=True)
class Job(Event):
    gpus: list[int] | None = None
    pids: list[int] | None = None


def build(common: dict, raw: dict) -> Job:
    return Job(**common, gpus=int_list(raw, "gpus"), pids=int_list(raw, "pids"))


FIELDS = ("gpus", "pids")
