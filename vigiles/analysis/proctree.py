"""The process tree as events describe it: who started whom, on which host, running what."""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

MAX_PROCESSES = 200_000


@dataclass(slots=True)
class Node:
    host: str | None
    pid: int
    ppid: int | None
    ts: float
    argv: list[str] = field(default_factory=list)
    exe: str | None = None
    event_id: str | None = None


class ProcessTree:
    """pid → node per host, bounded (oldest forgotten first); a reused pid replaces the older node."""

    def __init__(self, limit: int = MAX_PROCESSES) -> None:
        self.nodes: OrderedDict[tuple[str | None, int], Node] = OrderedDict()
        self.limit = limit

    def add(self, host: str | None, pid: int, ppid: int | None, ts: float, argv=None, exe=None,
            event_id=None) -> Node:
        node = Node(host, pid, ppid, ts, list(argv or []), exe, event_id)
        key = (host, pid)
        self.nodes.pop(key, None)
        self.nodes[key] = node
        if len(self.nodes) > self.limit:
            self.nodes.popitem(last=False)
        return node

    def get(self, host: str | None, pid: int | None) -> Node | None:
        if pid is None:
            return None
        return self.nodes.get((host, pid))

    def ancestors(self, host: str | None, pid: int | None, limit: int = 256):
        """The process itself, then its parent, grandparent, ... as far as known (cycles cut)."""
        seen: set[int] = set()
        node = self.get(host, pid)
        while node is not None and node.pid not in seen and len(seen) < limit:
            seen.add(node.pid)
            yield node
            node = self.get(host, node.ppid)

    def descends_from(self, host: str | None, pid: int | None, roots: set[int]) -> bool:
        if pid in roots:
            return True
        return any(node.pid in roots or node.ppid in roots for node in self.ancestors(host, pid))
