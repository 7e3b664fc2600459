"""`process`: one program execution seen on a host."""
from __future__ import annotations

from dataclasses import dataclass

from .base import Event, EventError, opt_int, opt_str, str_list


@dataclass(slots=True)
class Process(Event):
    ppid: int | None = None
    exe: str | None = None
    argv: list[str] | None = None
    cwd: str | None = None
    user: str | None = None


def build(common: dict, raw: dict) -> Process:
    if common.get("pid") is None:
        raise EventError("process needs 'pid'")
    argv = str_list(raw, "argv")
    exe = opt_str(raw, "exe")
    if not argv and not exe:
        raise EventError("process needs 'argv' or 'exe'")
    return Process(**common, ppid=opt_int(raw, "ppid"), exe=exe, argv=argv,
                   cwd=opt_str(raw, "cwd"), user=opt_str(raw, "user"))


FIELDS = ("ppid", "exe", "argv", "cwd", "user")
