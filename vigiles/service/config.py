"""ServiceConfig: everything `vigiles serve` is told, in one place (tests build it directly)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis.rules import SEVERITY_RANK


@dataclass
class ServiceConfig:
    db: Path
    """The SQLite store (events, findings, incidents) and the service's own tables."""
    rules: list[Path] = field(default_factory=list)
    builtin_rules: bool = True
    deny_at: str = "high"
    """Guard policy: deny a proposed action with a finding at or above this severity."""
    review_at: str = "medium"
    """... ask for review at or above this one (below `deny_at`); allow otherwise."""
    max_inflight: int = 8
    """Ingest requests being parsed and written at once; one more is answered 429."""
    max_queue_events: int = 200_000
    """Events written but not yet analysed; above this, ingest answers 429 until the worker catches up."""
    max_body_bytes: int = 32 * 1024 * 1024
    max_batch: int = 20_000
    retry_after_s: int = 1
    ledger: Any = None
    """Optional ledger hook (see `vigiles.service.ledger_hook.LedgerHook`); None: "no ledger configured"."""
    rock_upstream: str | None = None
    """Base URL of a ROCK rocklet; when set, the guarding gateway is mounted at /rock."""
    secure_cookies: bool = False
    """Mark the dashboard session cookie Secure (set when serving TLS)."""

    def __post_init__(self) -> None:
        self.db = Path(self.db)
        for name in ("deny_at", "review_at"):
            if getattr(self, name) not in SEVERITY_RANK:
                raise ValueError(f"{name}: unknown severity {getattr(self, name)!r}; one of {', '.join(SEVERITY_RANK)}")
        if SEVERITY_RANK[self.review_at] > SEVERITY_RANK[self.deny_at]:
            raise ValueError("review_at must not be above deny_at")
