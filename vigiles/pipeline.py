"""One pass of the data flow: sources → events → analyzers → findings → incidents → sinks.

`scan` is what `vigiles scan` runs; the service and the sensors feed the same `Analyzer`.
"""
from __future__ import annotations

import gc
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .analysis.attribution import Attributor
from .analysis.compute import ComputeAccountant, JobSpec
from .analysis.engine import Engine
from .analysis.findings import Finding
from .analysis.incidents import DEFAULT_WINDOW_S, Incident, group
from .analysis.rules import RuleSet
from .events import Event
from .sources import ReadError, iter_files, read_file

MAX_ERRORS_KEPT = 1000
STORE_BATCH = 5000


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    errors: list[ReadError] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    """Paths that could not be opened at all (exit status 2)."""
    compute: dict = field(default_factory=dict)
    """GPU-seconds per sanctioned job and outside every job (docs/compute.md)."""


class Analyzer:
    """Turns events into findings; keeps the engine's per-run state between calls."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.engine = Engine(ruleset)
        self.analyze: Callable[[Event], list[Finding]] = self.engine.analyze


class Correlator:
    """Ties host, network and GPU findings to the agent action that caused them, and accounts compute.

    Host logs may be read before the transcript that explains them, so attribution waits until
    every event has been seen (`finish`); a live sensor calls `attribute` as findings arrive.
    """

    MAX_PENDING = 100_000

    def __init__(self, jobs: list[JobSpec] | None = None) -> None:
        self.attributor = Attributor()
        self.accountant = ComputeAccountant(jobs or [])
        self.pending: list[tuple[Finding, Event]] = []

    def observe(self, event: Event, findings: list[Finding]) -> None:
        self.attributor.observe(event)
        if event.kind != "action":  # the accountant learns nothing from an agent's actions
            self.accountant.observe(event)
            for finding in findings:
                if len(self.pending) < self.MAX_PENDING:
                    self.pending.append((finding, event))

    def attribute(self, finding: Finding, event: Event) -> Finding:
        return self.attributor.attribute(finding, event)

    def finish(self, findings: list[Finding]) -> tuple[list[Finding], dict]:
        """Attribute what waited; add the compute findings; return them and the accounting report."""
        for finding, event in self.pending:
            self.attributor.attribute(finding, event)
        self.pending.clear()
        tree = self.attributor.tree
        report = self.accountant.account(tree)
        extra = self.accountant.findings(tree, report, findings)
        for finding in extra:
            self.attributor.attribute(finding, _At(finding))
        report.pop("_outside", None)
        return extra, report

    def compute_so_far(self, findings: list[Finding]) -> list[Finding]:
        """Compute findings from what has been seen so far, for a live sensor to alert on before it
        stops. A finding keeps its id (rule, host, pid, first sample) as evidence grows, so a caller
        recognises the same one again, here and from `finish`."""
        tree = self.attributor.tree
        report = self.accountant.account(tree)
        extra = self.accountant.findings(tree, report, findings)
        for finding in extra:
            self.attributor.attribute(finding, _At(finding))
        return extra


class _At:
    """Where and when a derived finding happened, in the shape attribution reads."""

    kind = "gpu"

    def __init__(self, finding: Finding) -> None:
        self.host, self.sandbox, self.ts = finding.host, finding.sandbox, finding.ts
        self.pid = finding.evidence.get("pid")


GC_YOUNG_THRESHOLD = 50_000
"""During a scan the collector's first generation holds this many new objects before a pass (Python's
default is 700): a scan allocates millions of short-lived objects and keeps large caches, and the
frequent passes cost about 5 % of its time."""


@contextmanager
def _fewer_collections():
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], GC_YOUNG_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def scan(paths: Iterable[str | Path], ruleset: RuleSet, *, store=None, ledger=None,
         window_s: float = DEFAULT_WINDOW_S, on_file: Callable[[Path, int], None] | None = None,
         jobs: list[JobSpec] | None = None) -> ScanResult:
    with _fewer_collections():
        return _scan(paths, ruleset, store, ledger, window_s, on_file, jobs)


def _scan(paths, ruleset, store, ledger, window_s, on_file, jobs) -> ScanResult:
    started = time.perf_counter()
    analyzer = Analyzer(ruleset)
    correlator = Correlator(jobs)
    result = ScanResult()
    counts = {"events": 0, "bad_lines": 0, "bad_files": 0, "files": 0}
    batch: list[Event] = []
    scan_id = store.begin_scan([str(p) for p in paths]) if store is not None else None
    analyze, observe = analyzer.analyze, correlator.observe

    def flush() -> None:
        if store is not None and batch:
            store.add_events(batch)
        if ledger is not None and batch:
            ledger.add_events(batch)
        batch.clear()

    for item in iter_files(paths):
        if isinstance(item, ReadError):
            _record_error(result, counts, item)
            result.unreadable.append(item.file)
            continue
        counts["files"] += 1
        for thing in read_file(item):
            if isinstance(thing, ReadError):
                _record_error(result, counts, thing)
                if thing.message.startswith("cannot read"):
                    result.unreadable.append(thing.file)
                continue
            counts["events"] += 1
            found = analyze(thing)
            observe(thing, found)
            if found:
                result.findings.extend(found)
            if store is not None or ledger is not None:
                batch.append(thing)
                if len(batch) >= STORE_BATCH:
                    flush()
        if on_file is not None:
            on_file(item, counts["events"])
    flush()
    derived, result.compute = correlator.finish(result.findings)
    result.findings.extend(derived)
    result.incidents = group(result.findings, window_s)
    if store is not None:
        store.add_findings(result.findings)
        store.put_incidents(result.incidents)
    if ledger is not None:
        ledger.add_findings(result.findings)
        ledger.add_incidents(result.incidents)
    counts["seconds"] = round(time.perf_counter() - started, 3)
    counts["findings"] = len(result.findings)
    counts["incidents"] = len(result.incidents)
    counts["parsed"] = analyzer.engine.stats["parsed"]
    result.stats = counts
    if store is not None and scan_id is not None:
        store.end_scan(scan_id, counts)
    return result


def _record_error(result: ScanResult, counts: dict, error: ReadError) -> None:
    if error.line is None:
        counts["bad_files"] += 1
    else:
        counts["bad_lines"] += 1
    if len(result.errors) < MAX_ERRORS_KEPT:
        result.errors.append(error)
