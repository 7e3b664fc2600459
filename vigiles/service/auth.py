"""Per-client bearer tokens: `vgt_<id>.<secret>`, stored as SHA-256(salt || secret), compared in constant time.

Two roles: `ingest` may POST events and ask the guard (and read, so that a framework can look at what
it sent); `viewer` may only read (GET). The id in front of the secret finds the row; the secret alone
proves the holder. Verified tokens are remembered for a few seconds so that a decision costs no
database read; a revoked token stops working within that time.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass

from . import tables

ROLES = ("ingest", "viewer")
PREFIX = "vgt_"
CACHE_S = 5.0


@dataclass(frozen=True)
class Principal:
    id: str
    name: str
    role: str

    def may_write(self) -> bool:
        return self.role == "ingest"


def _digest(salt: bytes, secret: str) -> bytes:
    return hashlib.sha256(salt + secret.encode("utf-8")).digest()


def create_token(db: sqlite3.Connection, name: str, role: str) -> str:
    """Add a token; returns the full token text, which is shown once and never stored."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not name or len(name) > 100:
        raise ValueError("a token needs a name of 1 to 100 characters")
    tables.ensure(db)
    ident = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    salt = os.urandom(16)
    tables.add_token(db, ident, name, role, salt, _digest(salt, secret))
    return f"{PREFIX}{ident}.{secret}"


def _split(token: str) -> tuple[str, str] | None:
    if not token.startswith(PREFIX) or "." not in token or len(token) > 200:
        return None
    ident, _, secret = token[len(PREFIX):].partition(".")
    if not ident or not secret:
        return None
    return ident, secret


class TokenVerifier:
    """Checks bearer tokens against the database; thread-safe, with a short positive cache."""

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self.db, self.lock = db, lock
        self._cache: dict[str, tuple[float, Principal]] = {}

    def verify(self, token: str | None) -> Principal | None:
        if not token:
            return None
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is not None and now - hit[0] < CACHE_S:
            return hit[1]
        parts = _split(token)
        if parts is None:
            return None
        ident, secret = parts
        with self.lock:
            row = tables.token_row(self.db, ident)
        if row is None:
            _digest(b"\0" * 16, secret)  # same work whether or not the id exists
            return None
        _, name, role, salt, stored, revoked = row
        if not hmac.compare_digest(_digest(bytes(salt), secret), bytes(stored)) or revoked is not None:
            return None
        principal = Principal(ident, name, role)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (now, principal)
        return principal


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None
