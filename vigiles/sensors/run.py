"""One event stream from every live source: processes (connector or polling), connections, GPUs.

Each source runs on its own thread and hands events to one bounded queue: when the consumer (rules,
store, ledger) falls behind, new events are dropped and counted (`stats()["queue_dropped"]`) — the
netlink reader never waits on it, so the kernel's queue keeps draining and the exec details are
still read while the process exists.

The queue is a deque (appends and pops are atomic) and a wake-up flag set only when the consumer may
be waiting: a `queue.Queue` takes a lock and signals a condition on every event, which at a few
hundred execs a second was a measurable share of the sensor's own CPU.
"""
from __future__ import annotations

import os
import sys
import threading
from collections import deque
from typing import Any

from ..events import Event
from .tree import ProcessTree

QUEUE_SIZE = 65_536
QUEUE_BYTES = 256 << 20
"""Bytes of argv the queue may hold: 65,536 events of 128 KiB command lines would be 8 GiB."""


class Sensor:
    """`mode`: "auto", "bpf", "netlink" or "poll". "auto" takes the eBPF exec program (exec_bpf.py:
    argv copied at exec, read in batches; with `watch_children`, the connector's forks and exits
    for the tree) where it loads; else the connector where it opens; else polling.

    With `watch_children=True` only the process tree under this process (what it spawns after
    `start()`) and that tree's connections are reported; otherwise the whole host.
    """

    def __init__(self, *, mode: str = "auto", watch_children: bool = False, interval: float = 0.1,
                 net: bool = True, net_interval: float | None = None, gpu: bool = True, gpu_interval: float = 1.0,
                 nvml: Any | None = None, queue_size: int = QUEUE_SIZE, queue_bytes: int = QUEUE_BYTES,
                 stderr=None) -> None:
        self.stderr = stderr if stderr is not None else sys.stderr
        self.queue: deque[Event] = deque()
        self.queue_size = queue_size
        self.queue_bytes = queue_bytes
        self.queued_bytes = 0
        """An estimate (argv lengths, shared with the sensor threads without a lock: a few
        bytes off at worst, never unbounded)."""
        self._ready = threading.Event()
        self.dropped = 0
        self.tree = ProcessTree()
        self.watch_children = watch_children
        self.own_pid = os.getpid()
        if watch_children:
            self.tree.watch(self.own_pid)
        self.sources: list[Any] = []
        self.process_source: Any = None
        self.mode = mode
        self.interval = interval
        self._want_net, self._net_interval = net, net_interval if net_interval is not None else interval
        self._want_gpu, self._gpu_interval, self._nvml = gpu, gpu_interval, nvml
        self.started = False
        self.batched = False

    def emit(self, event: Event) -> None:
        weight = _weight(event)
        if len(self.queue) >= self.queue_size or self.queued_bytes + weight > self.queue_bytes:
            self.dropped += 1
            return
        self.queued_bytes += weight
        self.queue.append(event)
        if not self._ready.is_set():
            self._ready.set()

    def _net_pids(self):
        if not self.watch_children:
            return None
        return [p for p in list(self.tree.watched) if p != self.own_pid]

    def start(self) -> "Sensor":
        from .proc_connector import ConnectorSource, available
        mode = self.mode
        if mode in ("auto", "bpf"):
            from .exec_bpf import BpfExecSource, BpfWatchSource, open_probe
            probe, why = open_probe()
            if probe is not None:
                try:
                    self.process_source = (BpfWatchSource(self.emit, self.tree, probe) if self.watch_children
                                           else BpfExecSource(self.emit, self.tree, probe))
                    mode = "bpf"
                except OSError as exc:  # (the watch's connector; the probe is closed)
                    why = f"the process connector for the watch is unavailable: {exc}"
            if self.process_source is None:
                if mode == "bpf":
                    raise PermissionError(why)
                self.stderr.write(f"vigiles: {why}; using the process connector\n")
        if mode in ("auto", "netlink"):
            ok, why = available()
            if ok:
                self.process_source = ConnectorSource(self.emit, self.tree, only_watched=self.watch_children)
                mode = "netlink"
            elif mode == "netlink":
                raise PermissionError(why)
            else:
                self.stderr.write(f"vigiles: {why}; falling back to polling\n")
                mode = "poll"
        if mode == "poll":
            from .poll import PollSource
            self.process_source = PollSource(self.emit, self.tree, self.interval, only_watched=self.watch_children,
                                             stderr=self.stderr)
        self.mode = mode
        self.batched = mode == "bpf"
        """Whether every source hands over events in batches, a few dozen a second at most (the
        exec program's reader, the connection and GPU polls): then the consumer need not pause
        to gather them."""
        self.sources = [self.process_source]
        if self._want_net:
            from .netconns import NetSource
            self.sources.append(NetSource(self.emit, self._net_pids, self._net_interval))
        if self._want_gpu:
            from .gpu import GpuSource
            self.sources.append(GpuSource(self.emit, self._gpu_interval, self._nvml, self.stderr))
        for source in self.sources:
            source.start()
        self.started = True
        return self

    def get(self, timeout: float | None = None) -> Event | None:
        """The oldest queued event, waiting up to `timeout` seconds (None: without end) for one."""
        queue = self.queue
        if not queue and timeout != 0:
            self._ready.clear()
            if not queue:  # an emit between the test and the clear has set nothing: look again
                self._ready.wait(timeout)
        try:
            event = queue.popleft()
        except IndexError:
            return None
        self.queued_bytes -= _weight(event)
        return event

    def drain(self, limit: int = QUEUE_SIZE) -> list[Event]:
        out: list[Event] = []
        queue = self.queue
        while queue and len(out) < limit:
            event = queue.popleft()
            self.queued_bytes -= _weight(event)
            out.append(event)
        return out

    def stop(self) -> None:
        if not self.started:
            return
        for source in reversed(self.sources):
            source.stop()
        self.started = False

    def stats(self) -> dict:
        out: dict[str, Any] = {"process_sensor": self.mode, "queue_dropped": self.dropped,
                               "tree_size": len(self.tree), "tree_evicted": self.tree.evicted}
        for source in self.sources:
            for key, value in source.stats.items():
                out[f"{source.name}_{key}"] = value
        if self.process_source is not None:
            out["lost_exec_details"] = self.process_source.stats.get("lost_exec_details", 0)
        return out


def _weight(event: Event) -> int:
    """What an event holds beyond its fixed fields: its argv, the only part an agent sizes."""
    argv = getattr(event, "argv", None)
    return sum(map(len, argv)) if argv else 0
