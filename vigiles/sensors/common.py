"""Shared pieces of the sensors: clocks, ids, user names, and building `process` events."""
from __future__ import annotations

import os
import pwd
import socket
import threading
import time
from typing import Callable

from ..events import Location, Process
from ..events.base import digest_id

HOST = socket.gethostname()
_MAX_USERS = 4096
_users: dict[int, str] = {}


def boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as fh:
            return fh.read().strip()
    except OSError:
        return "unknown-boot"


BOOT_ID = boot_id()


def wall_offset() -> float:
    """Seconds to add to a CLOCK_MONOTONIC reading (the connector's timestamps) to get epoch time."""
    return time.time() - time.monotonic()


def user_name(uid: int | None) -> str | None:
    if uid is None:
        return None
    name = _users.get(uid)
    if name is None:
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = str(uid)
        if len(_users) >= _MAX_USERS:
            _users.clear()
        _users[uid] = name
    return name


def event_id(*parts: object) -> str:
    """A unique, reproducible id: the boot, then whatever makes the event unique on it."""
    return digest_id("\x00".join([BOOT_ID, *map(str, parts)]).encode("utf-8", "surrogateescape"))


def printable(text: str | None) -> str | None:
    """Text read from the kernel as it may be used everywhere else: bytes that are not UTF-8 (kept
    by os and psutil as lone surrogates) written as \\xNN. A program's argv may hold any bytes, and
    an agent must not be able to crash the analysis, the store or the report with them."""
    if text is None:
        return None
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def split_args(area: bytes) -> list[str]:
    """argv from an argument area (/proc/PID/cmdline, or the exec program's copy): each argument
    ends with a NUL, so empty ones are kept (`true ""`); a cut area's last argument has none."""
    parts = area[:-1].split(b"\0") if area.endswith(b"\0") else area.split(b"\0")
    return [part.decode("utf-8", "surrogateescape") for part in parts]


def process_event(ts: float, pid: int, ppid: int | None, argv: list[str] | None, exe: str | None,
                  cwd: str | None, uid: int | None, sensor: str, key: object, **extra) -> Process:
    event = Process(id=event_id("process", pid, key), ts=ts, host=HOST, pid=pid, ppid=ppid, exe=printable(exe),
                    argv=[printable(a) for a in argv] if argv else None, cwd=printable(cwd), user=user_name(uid))
    event.extra = {"sensor": sensor, **extra}
    event.source = Location(f"live:{sensor}")
    return event


def own_pids() -> set[int]:
    return {os.getpid()}


class PollingSource:
    """A sensor that samples every `interval` seconds on a thread of its own and emits what `poll()`
    returns (the GPU and connection sensors)."""

    thread_name = "vigiles-poller"

    def __init__(self, emit: Callable, interval: float) -> None:
        self.emit = emit
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self) -> list:
        raise NotImplementedError

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            for event in self.poll():
                self.emit(event)
            if self._stop.wait(self.interval):
                return

    def _stop_thread(self) -> bool:
        """Stop the thread; whether it had been started."""
        self._stop.set()
        if self._thread is None:
            return False
        self._thread.join(timeout=5)
        return True
