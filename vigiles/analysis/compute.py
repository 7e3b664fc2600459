"""Compute accounting: which GPU-seconds belong to a sanctioned job, and which to nobody.

Sanctioned jobs come from `job` events, a policy file or command-line flags: a job owns the
process trees under its root pids, the processes whose command line matches its pattern, or those
in its cgroup, on its host and GPUs. GPU samples are integrated per (host, GPU, pid): each sample
stands for the time until the next one of the same series (capped, so a gap does not count as use).
GPU use by a process outside every job is a `compute_acquisition` finding, made stronger by signs of
mining: a miner finding on the process, a kernel-thread name on a file executable, a connection to
a pool port, a steady saturated load.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import re2
import yaml

from ..events import Event, Gpu, Job, Network, Process
from .condition import _glob_to_re2
from .findings import Finding
from .proctree import ProcessTree

MAX_GAP_S = 60.0
MIN_HELD_S = 5.0
SATURATED_UTIL = 90.0
MAX_SERIES = 100_000
MAX_SAMPLES = 512
"""Samples kept per series; older ones are folded into a running total (ComputeAccountant._fold)."""
MAX_PROCESSES = 65_536
POOL_PORTS = frozenset({3333, 4444, 5555, 7777, 8888, 9999, 14433, 14444, 45560, 45700, 10128, 10343, 13333,
                        20535, 5730, 19999, 3357})


@dataclass
class JobSpec:
    id: str
    host: str | None = None
    gpus: list[int] | None = None
    pids: set[int] = field(default_factory=set)
    command: str | None = None
    cgroup: str | None = None
    _pattern: Any = None

    def matches_command(self, argv: list[str] | None) -> bool:
        if not self.command or not argv:
            return False
        if self._pattern is None:
            self._pattern = re2.compile(_glob_to_re2(self.command))
        return self._pattern.fullmatch(" ".join(argv)) is not None


@dataclass
class Usage:
    held_s: float = 0.0
    busy_s: float = 0.0
    samples: int = 0
    saturated: int = 0
    first_ts: float | None = None
    last_ts: float | None = None
    gpus: set[int] = field(default_factory=set)
    event_ids: list[str] = field(default_factory=list)

    def add(self, gpu: int, ts: float, dt: float, util: float | None, event_id: str) -> None:
        self.held_s += dt
        self.busy_s += dt * (util or 0.0) / 100.0
        self.samples += 1
        self.saturated += util is not None and util >= SATURATED_UTIL
        self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        self.gpus.add(gpu)
        if len(self.event_ids) < 8:
            self.event_ids.append(event_id)

    def merge(self, other: "Usage") -> None:
        self.held_s += other.held_s
        self.busy_s += other.busy_s
        self.samples += other.samples
        self.saturated += other.saturated
        for ts in (other.first_ts, other.last_ts):
            if ts is not None:
                self.first_ts = ts if self.first_ts is None else min(self.first_ts, ts)
                self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        self.gpus |= other.gpus
        self.event_ids.extend(other.event_ids[: max(0, 8 - len(self.event_ids))])

    def to_dict(self) -> dict[str, Any]:
        return {"gpu_seconds": round(self.busy_s, 3), "held_seconds": round(self.held_s, 3),
                "samples": self.samples, "gpus": sorted(self.gpus), "first_ts": self.first_ts,
                "last_ts": self.last_ts}


def load_policy(path: str | Path) -> list[JobSpec]:
    """Jobs from a policy file: `jobs: [{id, host, gpus, pids, command, cgroup}, ...]`."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    jobs = []
    for index, item in enumerate(doc.get("jobs") or []):
        if not isinstance(item, dict) or not item.get("id"):
            raise ValueError(f"{path}: job {index + 1} needs an 'id'")
        jobs.append(JobSpec(id=str(item["id"]), host=item.get("host"), gpus=item.get("gpus"),
                            pids=set(item.get("pids") or []), command=item.get("command"), cgroup=item.get("cgroup")))
    return jobs


class ComputeAccountant:
    """Collects jobs and GPU samples from events, then accounts for them against the process tree."""

    def __init__(self, jobs: Iterable[JobSpec] = (), max_gap_s: float = MAX_GAP_S) -> None:
        self.jobs: dict[str, JobSpec] = {j.id: j for j in jobs}
        self.max_gap_s = max_gap_s
        self.series: dict[tuple, list[tuple[float, float | None, str]]] = {}
        self.device: dict[tuple, list[tuple[float, float | None, str]]] = {}
        self.pool_connections: dict[tuple, dict[str, None]] = {}
        self.process_events: OrderedDict[tuple, Process] = OrderedDict()
        """The latest executions (at most MAX_PROCESSES), and those of every process seen on a GPU."""
        self.gpu_processes: dict[tuple, Process] = {}
        self.sandboxes: dict[tuple, str | None] = {}
        self.folded: dict[tuple, Usage] = {}
        """(series kind, key) → the usage of the samples folded out of that series."""

    def observe(self, event: Event) -> None:
        if isinstance(event, Job):
            self.jobs[event.id] = JobSpec(id=event.id, host=event.host, gpus=event.gpus, pids=set(event.pids or []),
                                          command=event.command, cgroup=event.extra.get("cgroup"))
        elif isinstance(event, Gpu):
            key = (event.host, event.gpu, event.pid)
            store = self.series if event.pid is not None else self.device
            if key in store or len(store) < MAX_SERIES:
                samples = store.setdefault(key, [])
                samples.append((event.ts, event.util, event.id))
                if len(samples) > MAX_SAMPLES:
                    self._fold("device" if event.pid is None else "process", key, samples)
                if event.pid is not None:
                    self.sandboxes.setdefault((event.host, event.pid), event.sandbox)
                    process = self.process_events.get((event.host, event.pid))
                    if process is not None:
                        self.gpu_processes[(event.host, event.pid)] = process
        elif isinstance(event, Network):
            if event.pid is not None and event.dport in POOL_PORTS and event.direction != "inbound":
                endpoints = self.pool_connections.setdefault((event.host, event.pid), {})
                if len(endpoints) < 16:
                    endpoints[f"{event.dst}:{event.dport}"] = None
        elif isinstance(event, Process):
            key = (event.host, event.pid)
            self.process_events[key] = event
            self.process_events.move_to_end(key)
            if len(self.process_events) > MAX_PROCESSES:
                self.process_events.popitem(last=False)
            if key in self.sandboxes:  # a pid already seen on a GPU (logs may come in any order)
                self.gpu_processes[key] = event

    def _process(self, host: str | None, pid: int) -> Process | None:
        return self.gpu_processes.get((host, pid)) or self.process_events.get((host, pid))

    def _integrate(self, usage: Usage, kind: str, key: tuple, samples: list) -> None:
        """Add one series to `usage`: what was folded out of it, then the samples it still holds."""
        folded = self.folded.get((kind, key))
        if folded is not None:
            usage.merge(folded)
        for ts, dt, util, event_id in _intervals(samples, self.max_gap_s):
            usage.add(key[1], ts, dt, util, event_id)

    def _fold(self, kind: str, key: tuple, samples: list) -> None:
        """Integrate the older half of a long series into a running total: a sensor that runs for
        days keeps bounded memory, and accounting (every few seconds, live) takes bounded time."""
        samples.sort(key=_ts)
        half = len(samples) // 2
        folded = self.folded.setdefault((kind, key), Usage())
        for index, (ts, dt, util, event_id) in enumerate(_intervals(samples, self.max_gap_s)):
            if index >= half:
                break
            folded.add(key[1], ts, dt, util, event_id)
        del samples[:half]

    def job_of(self, tree: ProcessTree, host: str | None, pid: int, gpu: int) -> str | None:
        process = self._process(host, pid)
        chain = list(tree.ancestors(host, pid))
        for job in self.jobs.values():
            if job.host and host and job.host != host:
                continue
            if job.gpus is not None and gpu not in job.gpus:
                continue
            if job.pids and (pid in job.pids or any(n.pid in job.pids for n in chain)):
                return job.id
            if job.command and any(job.matches_command(n.argv) for n in chain):
                return job.id
            if job.cgroup and process is not None and str(process.extra.get("cgroup", "")).startswith(job.cgroup):
                return job.id
        return None

    def account(self, tree: ProcessTree) -> dict[str, Any]:
        """GPU-seconds per job, per unattributed process, and device totals."""
        per_job: dict[str, Usage] = {job_id: Usage() for job_id in self.jobs}
        outside: dict[tuple, Usage] = {}
        for (host, gpu, pid), samples in self.series.items():
            job_id = self.job_of(tree, host, pid, gpu)
            usage = per_job.setdefault(job_id, Usage()) if job_id else outside.setdefault((host, pid), Usage())
            self._integrate(usage, "process", (host, gpu, pid), samples)
        devices: dict[tuple, Usage] = {}
        for (host, gpu, pid), samples in self.device.items():
            self._integrate(devices.setdefault((host, gpu), Usage()), "device", (host, gpu, pid), samples)
        total = sum(u.busy_s for u in per_job.values()) + sum(u.busy_s for u in outside.values())
        unowned = sum(u.busy_s for u in outside.values())
        return {
            "jobs": {job_id: u.to_dict() for job_id, u in per_job.items()},
            "outside_jobs": [{"host": h, "pid": p, **u.to_dict(), "argv": _argv(tree, h, p)} for (h, p), u in outside.items()],
            "devices": [{"host": h, "gpu": g, **u.to_dict()} for (h, g), u in devices.items()],
            "gpu_seconds_total": round(total, 3),
            "gpu_seconds_outside_jobs": round(unowned, 3),
            "_outside": outside,
        }

    def findings(self, tree: ProcessTree, report: dict[str, Any], rule_findings: list[Finding],
                 events_by_id: dict[str, Event] | None = None) -> list[Finding]:
        """A finding for each process that held a GPU outside every sanctioned job."""
        miner_rules: dict[tuple, list[str]] = {}
        for finding in rule_findings:
            if finding.rule == "gpu_use_outside_job":
                continue  # this method's own, already reported by a live sensor
            if finding.category == "compute_acquisition" and finding.evidence.get("pid") is not None:
                miner_rules.setdefault((finding.host, finding.evidence["pid"]), []).append(finding.rule)
        out = []
        for (host, pid), usage in report["_outside"].items():
            if usage.held_s < MIN_HELD_S and usage.samples < 2:
                continue
            signs = []
            for ancestor in tree.ancestors(host, pid):
                for rule in miner_rules.get((host, ancestor.pid), []):
                    signs.append(f"miner rule {rule} on pid {ancestor.pid}")
            node = tree.get(host, pid)
            if node is not None and node.argv and node.argv[0].startswith("[") and (node.exe or "").startswith("/"):
                signs.append(f"kernel-thread name {node.argv[0]!r} on executable {node.exe}")
            for endpoint in list(self.pool_connections.get((host, pid), {}))[:3]:
                signs.append(f"connection to pool port {endpoint}")
            if usage.samples >= 3 and usage.saturated / usage.samples >= 0.8:
                signs.append(f"saturated load: util >= {SATURATED_UTIL:.0f}% in {usage.saturated}/{usage.samples} samples")
            severity = "critical" if signs else "high"
            rule = "gpu_use_outside_job"
            ident = "fd-" + hashlib.blake2b(f"{rule}\x00{host}\x00{pid}\x00{usage.first_ts}".encode(),
                                           digest_size=12).hexdigest()
            process = self._process(host, pid)
            event_ids = ([process.id] if process is not None else []) + usage.event_ids
            out.append(Finding(
                id=ident, rule=rule, title="GPU used outside every sanctioned job", category="compute_acquisition",
                severity=severity, attack=["T1496", "T1496.001"], event_ids=event_ids, ts=usage.first_ts or 0.0,
                sandbox=self.sandboxes.get((host, pid)), host=host,
                evidence={"pid": pid, "argv": _argv(tree, host, pid), "gpus": sorted(usage.gpus),
                          "gpu_seconds": round(usage.busy_s, 3), "held_seconds": round(usage.held_s, 3),
                          "signs": signs, "source": str(process.source) if process is not None and process.source else None,
                          "command": " ".join(_argv(tree, host, pid))[:400]},
                description="A process held a GPU without belonging to any sanctioned job."))
        return out


def _ts(sample: tuple) -> float:
    return sample[0]


def _intervals(samples: list[tuple[float, float | None, str]], max_gap: float):
    """(ts, seconds it stands for, util, event id) per sample, in time order."""
    ordered = sorted(samples, key=lambda s: s[0])
    gaps = [b[0] - a[0] for a, b in zip(ordered, ordered[1:]) if 0 < b[0] - a[0] <= max_gap]
    typical = sorted(gaps)[len(gaps) // 2] if gaps else 1.0
    for index, (ts, util, event_id) in enumerate(ordered):
        if index + 1 < len(ordered):
            dt = min(max(ordered[index + 1][0] - ts, 0.0), max_gap)
        else:
            dt = typical
        yield ts, dt, util, event_id


def _argv(tree: ProcessTree, host, pid) -> list[str]:
    node = tree.get(host, pid)
    return list(node.argv) if node is not None else []
