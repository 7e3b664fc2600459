"""Cross-layer attribution: which agent action caused a process, a connection or a GPU sample.

Through the process tree when an action names the pid that ran it (an ancestor of the event's
process); otherwise through the sandbox (or host) and time: the latest action there at or before
the event, within a window. Every attributed finding takes the action's run, episode and step, so
findings of all layers that share a cause fall into one incident.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

from ..events import Action, Event
from .findings import Finding
from .proctree import ProcessTree

DEFAULT_WINDOW_S = 600.0


@dataclass(slots=True)
class Cause:
    action_id: str
    ts: float
    sandbox: str | None
    run: str | None
    episode: str | None
    step: int | None
    how: str


class Attributor:
    def __init__(self, window_s: float = DEFAULT_WINDOW_S) -> None:
        self.tree = ProcessTree()
        self.window_s = window_s
        self.by_pid: dict[tuple[str | None, int], tuple[list[float], list[tuple]]] = {}
        self.timeline: dict[tuple, tuple[list[float], list[tuple]]] = {}
        self.addresses: dict[str, tuple[str | None, str | None]] = {}
        self._unindexed: list[tuple] = []

    def observe(self, event: Event) -> None:
        """Learn from every event: actions (with their pids), processes (the tree)."""
        kind = event.kind
        if kind == "action":
            # What a Cause needs of the action, as a tuple of plain values: the action itself is not
            # kept alive (its text may be large), and such tuples are not traced by the garbage
            # collector. Filed by place when a cause is first asked for (`_index`): a scan of
            # transcripts alone asks for none.
            self._unindexed.append((event.id, event.ts, event.sandbox, event.run, event.episode, event.step,
                                    event.host, event.pid))
            if len(self._unindexed) >= INDEX_BATCH:
                self._index()
        elif kind == "process":
            self.tree.add(event.host, event.pid, event.ppid, event.ts, event.argv, event.exe, event.id)
        elif kind == "network" and event.src and (event.host or event.sandbox):
            # A host sensor saw this address used by this host/sandbox: flow logs that know only
            # addresses (a cloud firewall's) can then be tied to the sandbox's actions.
            if event.src in self.addresses or len(self.addresses) < MAX_ADDRESSES:
                self.addresses[event.src] = (event.host, event.sandbox)

    def _index(self) -> None:
        """File the actions seen since the last time by pid, sandbox and host, in time order."""
        by_pid, timeline = self.by_pid, self.timeline
        for action_id, ts, sandbox, run, episode, step, host, pid in self._unindexed:
            ref = (action_id, ts, sandbox, run, episode, step)
            if pid is not None:
                _insert(by_pid.setdefault((host, pid), ([], [])), ts, ref)
            if sandbox:
                _insert(timeline.setdefault(("sandbox", sandbox), ([], [])), ts, ref)
            if host:
                _insert(timeline.setdefault(("host", host), ([], [])), ts, ref)
        self._unindexed.clear()

    def cause_of(self, event: Event) -> Cause | None:
        if isinstance(event, Action):
            return None
        if self._unindexed:
            self._index()
        host = event.host
        chain = list(self.tree.ancestors(host, event.pid))
        pids = [node.pid for node in chain] or ([event.pid] if event.pid is not None else [])
        if chain and chain[-1].ppid is not None:
            pids.append(chain[-1].ppid)  # the shell that ran the action may have no process event
        for pid in pids:
            # A shell session runs many actions under one pid: the cause is the latest before the event.
            cause = _latest(self.by_pid.get((host, pid)), event.ts, None)
            if cause is not None:
                return _with(cause, "action pid" if pid == event.pid else "process tree")
        places, how = _places(event), None
        if not places and event.kind == "network":
            local = self.addresses.get(getattr(event, "src", None) or "") or self.addresses.get(
                getattr(event, "dst", None) or "")
            if local is not None:
                places = [("sandbox", local[1])] if local[1] else []
                places += [("host", local[0])] if local[0] else []
                how = "address, host and time"
        for key in places:
            cause = _latest(self.timeline.get(key), event.ts, self.window_s)
            if cause is not None:
                return _with(cause, how or ("sandbox and time" if key[0] == "sandbox" else "host and time"))
        return None

    def attribute(self, finding: Finding, event: Event) -> Finding:
        """Give a host-side finding the run, episode and step of the action that caused it."""
        cause = self.cause_of(event)
        if cause is None:
            return finding
        finding.sandbox = finding.sandbox or cause.sandbox
        finding.run = cause.run or finding.run
        finding.episode = cause.episode or finding.episode
        finding.step = cause.step if cause.step is not None else finding.step
        finding.evidence["caused_by"] = {"action": cause.action_id, "step": cause.step, "episode": cause.episode,
                                         "run": cause.run, "how": cause.how}
        return finding


MAX_PER_PLACE = 50_000
INDEX_BATCH = 1_000_000
"""At most this many actions wait to be filed (about as much memory as the places hold them in)."""
MAX_ADDRESSES = 100_000


def _insert(series: tuple[list[float], list[tuple]], ts: float, action: tuple) -> None:
    times, actions = series
    if not times or ts >= times[-1]:
        times.append(ts)
        actions.append(action)
    else:
        at = bisect.bisect_right(times, ts)
        times.insert(at, ts)
        actions.insert(at, action)
    if len(times) > MAX_PER_PLACE:
        del times[: MAX_PER_PLACE // 2]
        del actions[: MAX_PER_PLACE // 2]


def _latest(series, ts: float, window: float | None) -> tuple | None:
    if not series:
        return None
    times, causes = series
    at = bisect.bisect_right(times, ts) - 1
    if at < 0 or (window is not None and ts - times[at] > window):
        return None
    return causes[at]


def _places(event: Event) -> list[tuple]:
    places = []
    if event.sandbox:
        places.append(("sandbox", event.sandbox))
    if event.host:
        places.append(("host", event.host))
    return places


def _with(action: tuple, how: str) -> Cause:
    return Cause(*action, how)
