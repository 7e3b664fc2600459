"""Incidents: findings that belong together — same sandbox, run and episode, close in time."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable

from .findings import Finding
from .rules import SEVERITY_RANK

DEFAULT_WINDOW_S = 3600.0


@dataclass(slots=True)
class Incident:
    id: str
    severity: str
    categories: list[str]
    sandbox: str | None
    run: str | None
    episode: str | None
    host: str | None
    first_ts: float
    last_ts: float
    finding_ids: list[str] = field(default_factory=list)
    title: str = ""
    status: str = "open"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "severity": self.severity, "categories": list(self.categories),
                "sandbox": self.sandbox, "run": self.run, "episode": self.episode, "host": self.host,
                "first_ts": self.first_ts, "last_ts": self.last_ts, "finding_ids": list(self.finding_ids),
                "title": self.title, "status": self.status}


def _key(f: Finding) -> tuple:
    """Sandbox, run and episode; the host stands in for them when a finding has neither sandbox nor run."""
    host = "" if (f.sandbox or f.run) else (f.host or "")
    return (f.sandbox or "", f.run or "", f.episode or "", host)


def group(findings: Iterable[Finding], window_s: float = DEFAULT_WINDOW_S) -> list[Incident]:
    """Group findings per (sandbox, run, episode); a gap longer than `window_s` starts a new incident.

    Incident ids derive from the group key and first finding, so re-scanning the same input
    yields the same incidents.
    """
    buckets: dict[tuple, list[Finding]] = {}
    for finding in findings:
        buckets.setdefault(_key(finding), []).append(finding)
    incidents: list[Incident] = []
    for key, items in buckets.items():
        items.sort(key=lambda f: (f.ts, f.step if f.step is not None else -1, f.id))
        current: list[Finding] = []
        for finding in items:
            if current and finding.ts - current[-1].ts > window_s:
                incidents.append(_make(key, current))
                current = []
            current.append(finding)
        if current:
            incidents.append(_make(key, current))
    incidents.sort(key=lambda i: (-SEVERITY_RANK[i.severity], i.first_ts))
    return incidents


def _make(key: tuple, items: list[Finding]) -> Incident:
    severity = max((f.severity for f in items), key=SEVERITY_RANK.__getitem__)
    categories: list[str] = []
    for f in items:
        if f.category not in categories:
            categories.append(f.category)
    digest = hashlib.blake2b("\x00".join([*key, items[0].id]).encode(), digest_size=10).hexdigest()
    first = items[0]
    worst = max(items, key=lambda f: SEVERITY_RANK[f.severity])
    where = " / ".join(p for p in (first.sandbox, first.run, first.episode) if p)
    title = worst.title + (f" and {len(items) - 1} more" if len(items) > 1 else "") + (f" in {where}" if where else "")
    return Incident(id="in-" + digest, severity=severity, categories=categories, sandbox=first.sandbox,
                    run=first.run, episode=first.episode, host=first.host, first_ts=first.ts,
                    last_ts=items[-1].ts, finding_ids=[f.id for f in items], title=title)
