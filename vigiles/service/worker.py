"""The analysis thread: events in arrival order → findings → attribution → incidents in the store.

Ingest writes events durably and hands them here; the guard hands its decisions here to be kept.
One thread owns the engine's per-run state (sessions, the process tree), so analysis is in order
and needs no lock; writes to SQLite take the service's write lock, one transaction per batch.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from ..analysis.findings import Finding
from ..analysis.incidents import DEFAULT_WINDOW_S, _key, group
from ..analysis.rules import RuleSet
from ..events import Event, EventError, from_dict
from ..pipeline import Analyzer, Correlator
from . import tables

log = logging.getLogger("vigiles.service")
REPLAY_LIMIT = 200_000
BATCH_ITEMS = 256
DECISION_LINGER_S = 0.0


class Work:
    __slots__ = ("kind", "events", "decision", "done", "findings", "client")

    def __init__(self, kind: str, events: list[Event] | None = None, decision: Any = None, wait: bool = False) -> None:
        self.kind, self.events, self.decision = kind, events or [], decision
        self.done = threading.Event() if wait else None
        self.findings: list[Finding] = []
        self.client: str | None = None


class AnalysisWorker:
    def __init__(self, service, ruleset: RuleSet, window_s: float = DEFAULT_WINDOW_S) -> None:
        self.service = service
        self.analyzer = Analyzer(ruleset)
        self.correlator = Correlator()
        self.window_s = window_s
        self.queue: queue.Queue[Work | None] = queue.Queue()
        self.pending_events = 0
        self.count_lock = threading.Lock()
        self.state_lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="vigiles-analysis", daemon=True)
        self.ready = threading.Event()

    # -- producers ------------------------------------------------------------------------------------
    def start(self) -> None:
        self.thread.start()

    def submit(self, work: Work) -> None:
        if work.events:
            with self.count_lock:
                self.pending_events += len(work.events)
                self.service.metrics.queue_events.set(self.pending_events)
        self.queue.put(work)

    def stop(self, timeout: float = 30.0) -> None:
        self.queue.put(None)
        self.thread.join(timeout)

    def compute_report(self) -> dict:
        with self.state_lock:
            report = self.correlator.accountant.account(self.correlator.attributor.tree)
        report.pop("_outside", None)
        return report

    # -- the thread -----------------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._replay()
        except Exception:  # noqa: BLE001 - a bad old row must not stop the service
            log.exception("replaying stored events for attribution failed")
        self.ready.set()
        while True:
            item = self.queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            # Guard decisions are only kept, nobody waits on them: gather them for a moment so that
            # a stream of decisions costs one transaction per DECISION_LINGER_S, not one each.
            linger = time.monotonic() + DECISION_LINGER_S if item.kind == "decision" else 0.0
            while len(batch) < BATCH_ITEMS:
                try:
                    wait = linger - time.monotonic()
                    more = self.queue.get(timeout=wait) if wait > 0 else self.queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            try:
                self._process(batch)
            except Exception:  # noqa: BLE001
                log.exception("analysis batch failed")
                self.service.metrics.analysis_errors.inc()
            finally:
                n = sum(len(w.events) for w in batch)
                with self.count_lock:
                    self.pending_events -= n
                    self.service.metrics.queue_events.set(self.pending_events)
                for work in batch:
                    if work.done is not None:
                        work.done.set()
            if stop:
                return

    def _replay(self) -> None:
        """Rebuild the process tree and GPU accounting from what the store already holds."""
        svc = self.service
        with svc.read_lock:
            rows = svc.read.db.execute(
                "SELECT body FROM (SELECT body, ts FROM events WHERE kind IN ('action','process','gpu','job','network') "
                "ORDER BY ts DESC LIMIT ?) ORDER BY ts", (REPLAY_LIMIT,)).fetchall()
        import msgspec
        for (body,) in rows:
            try:
                event = from_dict(msgspec.json.decode(body))
            except (EventError, ValueError, RecursionError):
                continue
            self.correlator.attributor.observe(event)
            self.correlator.accountant.observe(event)

    def _process(self, batch: list[Work]) -> None:
        svc = self.service
        findings: list[Finding] = []
        extra_events: list[Event] = []
        decisions: list[dict] = []
        with self.state_lock:
            for work in batch:
                if work.kind == "events":
                    for event in work.events:
                        found = self.analyzer.analyze(event)
                        self.correlator.attributor.observe(event)
                        self.correlator.accountant.observe(event)
                        if event.kind != "action":
                            for finding in found:
                                self.correlator.attribute(finding, event)
                        work.findings.extend(found)
                        findings.extend(found)
                elif work.kind == "decision":
                    decision = work.decision
                    decisions.append(decision.record(work.client))
                    found = getattr(decision, "_findings", [])
                    if found:
                        for f in found:
                            f.evidence = {**f.evidence, "guard": decision.decision, "guard_decision": decision.id}
                        extra_events.append(decision._event)
                        findings.extend(found)
        with svc.write_lock:
            store = svc.store
            if extra_events:
                store.add_events(extra_events)
            if decisions:
                with store._tx():
                    tables.add_decisions(store.db, decisions)
            if findings:
                store.add_findings(findings)
                self._regroup(findings)
        if svc.ledger is not None and hasattr(svc.ledger, "record"):
            # Everything stored also goes into the transparency log (vigiles serve --ledger DIR).
            svc.ledger.record(events=[e for w in batch if w.kind == "events" for e in w.events] + extra_events,
                              findings=findings, decisions=decisions)
        for f in findings:
            svc.metrics.findings.inc(1, f.severity)

    def _regroup(self, findings: list[Finding]) -> None:
        """Group each touched (sandbox, run, episode) again from all its stored findings."""
        store = self.service.store
        keys = {_key(f) for f in findings}
        everything: list[Finding] = []
        for sandbox, run, episode, host in keys:
            rows = store.db.execute(
                "SELECT body FROM findings WHERE IFNULL(sandbox,'')=? AND IFNULL(run,'')=? AND IFNULL(episode,'')=?",
                (sandbox, run, episode)).fetchall()
            import msgspec
            for (body,) in rows:
                data = msgspec.json.decode(body)
                try:
                    f = Finding(**data)
                except TypeError:
                    continue
                if _key(f) == (sandbox, run, episode, host):
                    everything.append(f)
        if everything:
            store.put_incidents(group(everything, self.window_s))
