"""Findings: one rule matching one event, with the evidence an analyst needs to check it."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Finding:
    id: str
    rule: str
    title: str
    category: str
    severity: str
    attack: list[str]
    event_ids: list[str]
    ts: float
    sandbox: str | None = None
    run: str | None = None
    episode: str | None = None
    step: int | None = None
    host: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rule": self.rule, "title": self.title, "category": self.category,
                "severity": self.severity, "attack": list(self.attack), "event_ids": list(self.event_ids),
                "ts": self.ts, "sandbox": self.sandbox, "run": self.run, "episode": self.episode,
                "step": self.step, "host": self.host, "evidence": self.evidence,
                "description": self.description}


def finding_id(rule: str, event_id: str) -> str:
    return "fd-" + hashlib.blake2b(f"{rule}\x00{event_id}".encode(), digest_size=12).hexdigest()
