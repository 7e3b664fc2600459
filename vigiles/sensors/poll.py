"""The fallback process sensor for when the connector cannot be opened (not root): poll with psutil.

It sees a process only if it is alive at one of the polls, so anything that lives shorter than the
interval can be missed, and of a process that runs several programs in turn (exec without fork,
as `bash -c 'prog'` does) only the programs alive at a poll are seen. `start()` says so on stderr.
"""
from __future__ import annotations

import sys
import threading
import time
from typing import Callable

import psutil

from .common import process_event
from .tree import ProcessTree

MAX_KNOWN = 200_000
_ATTRS = ["pid", "ppid", "exe", "cmdline", "cwd", "uids", "create_time"]


class PollSource:
    """Every `interval` seconds: new processes, and processes whose command line changed (an exec)."""

    name = "poll"

    def __init__(self, emit: Callable, tree: ProcessTree, interval: float = 0.1,
                 only_watched: bool = False, stderr=None) -> None:
        self.emit = emit
        self.tree = tree
        self.interval = interval
        self.only_watched = only_watched
        self.stderr = stderr if stderr is not None else sys.stderr
        self.known: dict[int, tuple[float, tuple[str, ...]]] = {}
        self.stats = {"polls": 0, "execs": 0, "exits": 0, "known_capped": 0}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> None:
        self.stderr.write(f"vigiles: process sensor is POLLING every {self.interval:g} s (no root for the "
                          f"process connector): processes that live less than {self.interval:g} s, and programs "
                          f"a process runs and replaces between polls, are MISSED\n")
        self.stderr.flush()
        self.poll(initial=True)
        self._thread = threading.Thread(target=self._run, name="vigiles-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.poll()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll()
            except Exception as exc:  # noqa: BLE001 - a sensor keeps going
                self.stderr.write(f"vigiles: poll failed: {exc}\n")

    def poll(self, initial: bool = False) -> None:
        """One pass; on the first (`initial`) pass, processes already running are learnt, not emitted."""
        self.stats["polls"] += 1
        now = time.time()
        seen: set[int] = set()
        for pid in psutil.pids():
            seen.add(pid)
            known = self.known.get(pid)
            try:
                proc = psutil.Process(pid)
                if known is not None:
                    cmdline = tuple(proc.cmdline())
                    if proc.create_time() == known[0] and cmdline == known[1]:
                        continue
                info = proc.as_dict(_ATTRS)
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied, ProcessLookupError):
                continue
            cmdline = tuple(info.get("cmdline") or ())
            ppid = info.get("ppid")
            create = info.get("create_time") or 0.0
            if ppid is not None:
                self.tree.learn(pid, ppid, int(create * 1e9))
            if len(self.known) >= MAX_KNOWN and pid not in self.known:
                self.stats["known_capped"] += 1
                continue
            self.known[pid] = (create, cmdline)
            if initial or not (cmdline or info.get("exe")):
                continue
            if self.only_watched and not self.tree.is_watched(pid):
                continue
            uids = info.get("uids")
            self.stats["execs"] += 1
            self.emit(process_event(now, pid, ppid, list(cmdline), info.get("exe") or None, info.get("cwd"),
                                    uids.real if uids else None, "poll", (create, hash(cmdline))))
        for pid in [p for p in self.known if p not in seen]:
            del self.known[pid]
            self.tree.exit(pid)
            self.stats["exits"] += 1
