"""The SQLite store: events, findings and incidents of every scan, browsable afterwards.

WAL journal: a committed batch survives a crash of the process (kill -9); readers never see a
half-written batch. Rows are keyed by their stable ids, so scanning the same input twice is
idempotent.
"""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

import msgspec

from ..analysis.findings import Finding
from ..analysis.incidents import Incident

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, ts REAL NOT NULL, host TEXT, sandbox TEXT, run TEXT,
    episode TEXT, step INTEGER, pid INTEGER, source TEXT, body BLOB NOT NULL
);
DROP INDEX IF EXISTS events_context;
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE TABLE IF NOT EXISTS findings (
    id TEXT PRIMARY KEY, rule TEXT NOT NULL, category TEXT NOT NULL, severity TEXT NOT NULL, ts REAL NOT NULL,
    sandbox TEXT, run TEXT, episode TEXT, step INTEGER, body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS findings_context ON findings (sandbox, run, episode, ts);
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY, severity TEXT NOT NULL, categories TEXT NOT NULL, sandbox TEXT, run TEXT,
    episode TEXT, first_ts REAL NOT NULL, last_ts REAL NOT NULL, status TEXT NOT NULL DEFAULT 'open',
    body BLOB NOT NULL, updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS incident_findings (
    incident_id TEXT NOT NULL, finding_id TEXT NOT NULL, PRIMARY KEY (incident_id, finding_id)
);
CREATE TABLE IF NOT EXISTS ledger_refs (
    kind TEXT NOT NULL, id TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS alerts (
    finding_id TEXT NOT NULL, sink TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, ts REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS responses (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, finding_id TEXT, action TEXT NOT NULL,
    target TEXT NOT NULL, dry_run INTEGER NOT NULL, outcome TEXT NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started REAL NOT NULL, finished REAL, paths TEXT, stats TEXT
);
"""


def default_path() -> Path:
    """$VIGILES_DB, else $XDG_DATA_HOME/vigiles/vigiles.db (~/.local/share/vigiles/vigiles.db)."""
    explicit = os.environ.get("VIGILES_DB")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "vigiles" / "vigiles.db"


class Store:
    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA busy_timeout=30000")
        # A scan writes events in batches of thousands: a larger page cache and fewer WAL checkpoints
        # keep inserts into the id index from going to disk for every page.
        self.db.execute("PRAGMA cache_size=-65536")
        self.db.execute("PRAGMA wal_autocheckpoint=10000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- writing --------------------------------------------------------------------------------------
    def add_events(self, events: Iterable[Any]) -> int:
        rows = [(e.id, e.kind, e.ts, e.host, e.sandbox, e.run, e.episode, e.step, e.pid,
                 str(e.source) if e.source is not None else None, _encode(e.to_dict())) for e in events]
        if rows:
            with self._tx():
                self.db.executemany("INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        return len(rows)

    def add_findings(self, findings: Iterable[Finding]) -> None:
        rows = [(f.id, f.rule, f.category, f.severity, f.ts, f.sandbox, f.run, f.episode, f.step,
                 _encode(f.to_dict())) for f in findings]
        if rows:
            with self._tx():
                self.db.executemany("INSERT OR REPLACE INTO findings VALUES (?,?,?,?,?,?,?,?,?,?)", rows)

    def put_incidents(self, incidents: Iterable[Incident]) -> list[tuple[Incident, str]]:
        """Insert or update incidents; returns each with 'new', 'updated' or 'same'."""
        changes: list[tuple[Incident, str]] = []
        now = time.time()
        with self._tx():
            for inc in incidents:
                old = self.db.execute("SELECT body FROM incidents WHERE id=?", (inc.id,)).fetchone()
                if old is not None:
                    previous = _decode(old[0])
                    merged = list(dict.fromkeys(previous["finding_ids"] + inc.finding_ids))
                    inc.finding_ids = merged
                    inc.status = previous.get("status", inc.status)
                    state = "same" if merged == previous["finding_ids"] and previous["severity"] == inc.severity else "updated"
                else:
                    state = "new"
                self.db.execute("INSERT OR REPLACE INTO incidents VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                                (inc.id, inc.severity, ",".join(inc.categories), inc.sandbox, inc.run, inc.episode,
                                 inc.first_ts, inc.last_ts, inc.status, _encode(inc.to_dict()), now))
                self.db.executemany("INSERT OR IGNORE INTO incident_findings VALUES (?,?)",
                                    [(inc.id, f) for f in inc.finding_ids])
                changes.append((inc, state))
        return changes

    def add_ledger_refs(self, refs: Iterable[tuple[str, str, int]]) -> None:
        with self._tx():
            self.db.executemany("INSERT OR IGNORE INTO ledger_refs VALUES (?,?,?)", list(refs))

    def ledger_ref(self, kind: str, ident: str) -> int | None:
        row = self.db.execute("SELECT idx FROM ledger_refs WHERE kind=? AND id=?", (kind, ident)).fetchone()
        return row[0] if row else None

    def record_alert(self, finding_id: str, sink: str, status: str, attempts: int) -> None:
        self.db.execute("INSERT INTO alerts VALUES (?,?,?,?,?)", (finding_id, sink, status, attempts, time.time()))

    def alert_log(self, finding_id: str | None = None) -> list[tuple]:
        if finding_id is None:
            return self.db.execute("SELECT finding_id, sink, status, attempts FROM alerts").fetchall()
        return self.db.execute("SELECT finding_id, sink, status, attempts FROM alerts WHERE finding_id=?",
                               (finding_id,)).fetchall()

    def record_response(self, record: dict) -> None:
        self.db.execute("INSERT INTO responses (ts, finding_id, action, target, dry_run, outcome, body) "
                        "VALUES (?,?,?,?,?,?,?)",
                        (record["ts"], record.get("finding"), record["action"], str(record["target"]),
                         int(record["dry_run"]), record["outcome"], _encode(record).decode()))

    def responses(self) -> list[dict]:
        return [_decode(b) for (b,) in self.db.execute("SELECT body FROM responses ORDER BY id")]

    def begin_scan(self, paths: list[str]) -> int:
        cur = self.db.execute("INSERT INTO scans (started, paths) VALUES (?, ?)", (time.time(), _encode(paths).decode()))
        return int(cur.lastrowid)

    def end_scan(self, scan_id: int, stats: dict) -> None:
        self.db.execute("UPDATE scans SET finished=?, stats=? WHERE id=?", (time.time(), _encode(stats).decode(), scan_id))

    # -- reading --------------------------------------------------------------------------------------
    def incidents(self, severity: str | None = None, category: str | None = None, limit: int = 100) -> list[dict]:
        from ..analysis.rules import SEVERITY_RANK
        rows = self.db.execute("SELECT body FROM incidents ORDER BY last_ts DESC").fetchall()
        out = []
        for (body,) in rows:
            inc = _decode(body)
            if severity and SEVERITY_RANK[inc["severity"]] < SEVERITY_RANK[severity]:
                continue
            if category and category not in inc["categories"]:
                continue
            out.append(inc)
            if len(out) >= limit:
                break
        return out

    def incident(self, ident: str) -> dict | None:
        row = self.db.execute("SELECT body FROM incidents WHERE id=?", (ident,)).fetchone()
        if row is None:
            matches = self.db.execute("SELECT body FROM incidents WHERE id LIKE ?", (ident + "%",)).fetchall()
            row = matches[0] if len(matches) == 1 else None
        return _decode(row[0]) if row else None

    def findings(self, ids: Iterable[str] | None = None) -> list[dict]:
        if ids is None:
            return [_decode(b) for (b,) in self.db.execute("SELECT body FROM findings ORDER BY ts")]
        out = []
        for ident in ids:
            row = self.db.execute("SELECT body FROM findings WHERE id=?", (ident,)).fetchone()
            if row:
                out.append(_decode(row[0]))
        return out

    def events(self, ids: Iterable[str]) -> list[dict]:
        out = []
        for ident in ids:
            row = self.db.execute("SELECT body, source FROM events WHERE id=?", (ident,)).fetchone()
            if row:
                event = _decode(row[0])
                event["_source"] = row[1]
                out.append(event)
        return out

    def iter_event_rows(self) -> Iterator[tuple]:
        yield from self.db.execute("SELECT id, body FROM events ORDER BY ts")

    def _tx(self):
        return _Transaction(self.db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, value, tb) -> None:
        self.db.execute("COMMIT" if kind is None else "ROLLBACK")
