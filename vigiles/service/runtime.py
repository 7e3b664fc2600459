"""The running service's state: the store's connections and locks, the guard, the analysis thread."""
from __future__ import annotations

import sqlite3
import threading
from typing import Any

from ..analysis.rules import load
from ..events import Event
from ..sinks.store import Store
from . import tables
from .auth import TokenVerifier
from .config import ServiceConfig
from .guard import Decision, Guard
from .metrics import Metrics
from .worker import AnalysisWorker, Work

MAX_INT = 2 ** 63 - 1


class Service:
    """One per process. SQLite has one writer: every write takes `write_lock` on the `store` connection;
    reads go through a second connection (`read`, WAL lets it read while a write is in progress)."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.ruleset = load(config.rules, builtin=config.builtin_rules)
        self.store = Store(config.db)
        tables.ensure(self.store.db)
        self.read = Store(config.db)
        self.read.db.execute("PRAGMA query_only=ON")
        self.write_lock = threading.Lock()
        self.read_lock = threading.Lock()
        self.auth_db = sqlite3.connect(str(config.db), timeout=30, isolation_level=None, check_same_thread=False)
        self.auth_lock = threading.Lock()
        self.tokens = TokenVerifier(self.auth_db, self.auth_lock)
        self.metrics = Metrics()
        self.guard = Guard(self.ruleset, config.deny_at, config.review_at)
        self.worker = AnalysisWorker(self, self.ruleset)
        self.ledger = config.ledger
        self.started = False

    def start(self) -> None:
        if not self.started:
            self.worker.start()
            self.started = True
            # The rule pack, parser and tables live as long as the process: move them out of the
            # collector's sight, so its full passes stay short and do not stall guard answers.
            import gc
            gc.collect()
            gc.freeze()

    def close(self) -> None:
        if self.started:
            self.worker.stop()
        for db in (self.store, self.read):
            db.close()
        self.auth_db.close()

    # -- ingest -----------------------------------------------------------------------------------------
    def store_events(self, events: list[Event], wait: bool = False, timeout: float = 30.0) -> tuple[list[str], int, Work]:
        """Write the new ones durably (committed, synchronous=FULL) and queue them for analysis.

        Returns the ids stored now, the number already present, and the analysis work item."""
        unique: dict[str, Event] = {}
        for event in events:
            unique.setdefault(event.id, event)
        ids = list(unique)
        with self.write_lock:
            present: set[str] = set()
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                marks = ",".join("?" * len(chunk))
                present.update(r[0] for r in self.store.db.execute(f"SELECT id FROM events WHERE id IN ({marks})", chunk))
            new = [e for i, e in unique.items() if i not in present]
            self.store.add_events(new)
        duplicates = len(events) - len(new)
        work = Work("events", new, wait=wait)
        if new:
            self.worker.submit(work)
        elif work.done is not None:
            work.done.set()
        if wait and work.done is not None:
            work.done.wait(timeout)
        return [e.id for e in new], duplicates, work

    def record_decision(self, decision: Decision, client: str | None) -> None:
        work = Work("decision", decision=decision)
        work.client = client
        self.worker.submit(work)

    def overloaded(self) -> bool:
        return self.worker.pending_events >= self.config.max_queue_events

    # -- reading ----------------------------------------------------------------------------------------
    def read_call(self, fn, *args: Any, **kwargs: Any):
        with self.read_lock:
            return fn(*args, **kwargs)


def event_problem(event: Event) -> str | None:
    """What SQLite could not keep of an otherwise valid event (integers beyond 64 bits)."""
    for name in ("step", "pid"):
        value = getattr(event, name, None)
        if isinstance(value, int) and not -MAX_INT - 1 <= value <= MAX_INT:
            return f"'{name}' does not fit in 64 bits"
    if event.ts != event.ts or event.ts in (float("inf"), float("-inf")):
        return "'ts' is not a finite number"
    return None
