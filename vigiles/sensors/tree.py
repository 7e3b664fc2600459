"""The live process tree: pid → parent and start time, and which pids descend from a watched root.

Bounded: an agent may fork-bomb. Live entries are capped (`max_live`; the oldest are evicted and
counted); exited entries are kept for a short while (`keep_exited`) so that a late exec or a
connection of a child whose parent just exited is still attributed, then forgotten.
"""
from __future__ import annotations

from collections import deque
from typing import NamedTuple

MAX_LIVE = 200_000
KEEP_EXITED = 8192
MAX_DEPTH = 4096


class Node(NamedTuple):
    ppid: int
    start_ns: int
    exited: bool = False


class ProcessTree:
    def __init__(self, max_live: int = MAX_LIVE, keep_exited: int = KEEP_EXITED) -> None:
        self.nodes: dict[int, Node] = {}
        self.max_live = max_live
        self.keep_exited = keep_exited
        self._exited: deque[tuple[int, int]] = deque()
        self.roots: set[int] = set()
        self.watched: set[int] = set()
        self.evicted = 0

    def __len__(self) -> int:
        return len(self.nodes)

    def watch(self, pid: int) -> None:
        """Select `pid` and every process it forks from now on (and their descendants)."""
        self.roots.add(pid)
        self.watched.add(pid)

    def fork(self, ppid: int, pid: int, start_ns: int) -> None:
        self.nodes[pid] = Node(ppid, start_ns)
        if ppid in self.watched and len(self.watched) < self.max_live:
            self.watched.add(pid)
        if len(self.nodes) > self.max_live + self.keep_exited:
            self._evict()

    def learn(self, pid: int, ppid: int, start_ns: int = 0) -> None:
        """A process seen without its fork (started before the sensor, or its fork was lost)."""
        node = self.nodes.get(pid)
        if node is None or node.ppid != ppid:
            self.fork(ppid, pid, start_ns if node is None else node.start_ns)
        elif ppid in self.watched:
            self.watched.add(pid)

    def exit(self, pid: int) -> None:
        node = self.nodes.get(pid)
        self.watched.discard(pid)
        if node is None or node.exited:
            return
        self.nodes[pid] = node._replace(exited=True)
        self._exited.append((pid, node.start_ns))
        while len(self._exited) > self.keep_exited:
            old, start = self._exited.popleft()
            current = self.nodes.get(old)
            if current is not None and current.exited and current.start_ns == start:
                del self.nodes[old]

    def _evict(self) -> None:
        # dicts keep insertion order: the first entries are the oldest forks
        for pid in list(self.nodes)[: max(1, len(self.nodes) // 16)]:
            self.nodes.pop(pid, None)
            self.watched.discard(pid)
            self.evicted += 1

    def ppid(self, pid: int) -> int | None:
        node = self.nodes.get(pid)
        return None if node is None else node.ppid

    def is_watched(self, pid: int) -> bool:
        """True when `pid` is a watched root or descends from one (by the forks seen, then by the
        recorded parents, so a re-parented daemon still counts)."""
        if pid in self.watched:
            return True
        if not self.roots:
            return False
        seen = 0
        node = self.nodes.get(pid)
        while node is not None and seen < MAX_DEPTH:
            if node.ppid in self.roots or node.ppid in self.watched:
                return True
            node = self.nodes.get(node.ppid)
            seen += 1
        return False

    def ancestors(self, pid: int, limit: int = 64) -> list[int]:
        out: list[int] = []
        node = self.nodes.get(pid)
        while node is not None and len(out) < limit and node.ppid > 0:
            out.append(node.ppid)
            node = self.nodes.get(node.ppid)
        return out
