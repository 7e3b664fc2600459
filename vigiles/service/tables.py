"""The service's own tables, kept in the store's SQLite file beside events, findings and incidents.

`service_tokens`: one row per client token: a public id, a random salt and SHA-256(salt || secret);
the secret itself is never stored. `guard_decisions`: every answer of POST /v1/guard (and of the
gateway), with the rules that ran and the findings that decided it.
"""
from __future__ import annotations

import sqlite3
import time
from typing import Any, Iterable

import msgspec

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.decode

SCHEMA = """
CREATE TABLE IF NOT EXISTS service_tokens (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, salt BLOB NOT NULL, hash BLOB NOT NULL,
    created REAL NOT NULL, revoked REAL
);
CREATE TABLE IF NOT EXISTS guard_decisions (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, decision TEXT NOT NULL, tool TEXT, sandbox TEXT, run TEXT,
    episode TEXT, step INTEGER, client TEXT, latency_ms REAL, body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS guard_decisions_ts ON guard_decisions (ts);
"""


def ensure(db: sqlite3.Connection) -> None:
    db.executescript(SCHEMA)


def add_token(db: sqlite3.Connection, ident: str, name: str, role: str, salt: bytes, digest: bytes) -> None:
    db.execute("INSERT INTO service_tokens VALUES (?,?,?,?,?,?,NULL)", (ident, name, role, salt, digest, time.time()))


def token_row(db: sqlite3.Connection, ident: str) -> tuple | None:
    return db.execute("SELECT id, name, role, salt, hash, revoked FROM service_tokens WHERE id=?", (ident,)).fetchone()


def list_tokens(db: sqlite3.Connection) -> list[dict]:
    rows = db.execute("SELECT id, name, role, created, revoked FROM service_tokens ORDER BY created").fetchall()
    return [{"id": r[0], "name": r[1], "role": r[2], "created": r[3], "revoked": r[4]} for r in rows]


def revoke_token(db: sqlite3.Connection, name_or_id: str) -> int:
    cur = db.execute("UPDATE service_tokens SET revoked=? WHERE (id=? OR name=?) AND revoked IS NULL",
                     (time.time(), name_or_id, name_or_id))
    return cur.rowcount


def add_decisions(db: sqlite3.Connection, records: Iterable[dict[str, Any]]) -> None:
    rows = [(r["id"], r["ts"], r["decision"], r.get("tool"), r.get("sandbox"), r.get("run"), r.get("episode"),
             r.get("step"), r.get("client"), r.get("latency_ms"), _encode(r)) for r in records]
    if rows:
        db.executemany("INSERT OR IGNORE INTO guard_decisions VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)


def decisions(db: sqlite3.Connection, limit: int = 100, decision: str | None = None) -> list[dict]:
    if decision:
        rows = db.execute("SELECT body FROM guard_decisions WHERE decision=? ORDER BY ts DESC LIMIT ?", (decision, limit))
    else:
        rows = db.execute("SELECT body FROM guard_decisions ORDER BY ts DESC LIMIT ?", (limit,))
    return [_decode(b) for (b,) in rows]
