"""The pre-execution guard: may this proposed action run?

A proposed action is read exactly as an executed one would be (an `action` event through the same
engine), so the guard and the detector never disagree about what a command does. The decision:

- `deny`   a finding at or above `deny_at` (default high)
- `review` a finding at or above `review_at` (default medium)
- `allow`  otherwise

The answer carries the findings and the ids of the rules that ran: the candidate rules the engine's
prefilter selected and evaluated (an empty list means no rule could match, so none ran).
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from ..analysis.engine import Engine
from ..analysis.rules import SEVERITY_RANK, RuleSet
from ..events import EventError, from_dict

CONTEXT_KEYS = ("sandbox", "run", "episode", "step", "host", "pid")
MAX_INPUT = 1024 * 1024


class _NoCache(dict):
    """Never remembers: a reused verdict would hide which rules ran."""

    def __setitem__(self, key, value) -> None:
        pass

    def move_to_end(self, key, last: bool = True) -> None:
        pass


class _RecordingEngine(Engine):
    """The engine, remembering which rules it evaluated for the last event."""

    ran: list[int]

    def __init__(self, ruleset: RuleSet) -> None:
        super().__init__(ruleset)
        self.cache = _NoCache()
        self.ran = []

    def _match(self, event, cmds, text, selected):  # type: ignore[override]
        selected = list(selected)
        self.ran.extend(selected)
        return super()._match(event, cmds, text, selected)

    def _run(self, event, cmds, text, selected):  # type: ignore[override]
        selected = list(selected)
        self.ran.extend(selected)
        return super()._run(event, cmds, text, selected)


@dataclass
class Decision:
    decision: str
    reason: str
    findings: list[dict[str, Any]]
    rules: list[str]
    event: dict[str, Any]
    id: str = field(default_factory=lambda: "gd-" + uuid.uuid4().hex[:24])
    ts: float = field(default_factory=time.time)
    latency_ms: float = 0.0

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ts": self.ts, "decision": self.decision, "reason": self.reason,
                "findings": self.findings, "rules": self.rules, "event_id": self.event.get("id"),
                "latency_ms": round(self.latency_ms, 4)}

    def record(self, client: str | None = None) -> dict[str, Any]:
        """The row kept in `guard_decisions`."""
        ev = self.event
        return {**self.to_dict(), "tool": ev.get("tool"), "sandbox": ev.get("sandbox"), "run": ev.get("run"),
                "episode": ev.get("episode"), "step": ev.get("step"), "client": client,
                "input": (ev.get("input") or "")[:2000] if isinstance(ev.get("input"), str) else None}


class Guard:
    """Decides on proposed actions. Thread-safe (one engine, one lock: decisions take microseconds)."""

    def __init__(self, ruleset: RuleSet, deny_at: str = "high", review_at: str = "medium") -> None:
        for name, value in (("deny_at", deny_at), ("review_at", review_at)):
            if value not in SEVERITY_RANK:
                raise ValueError(f"{name}: unknown severity {value!r}")
        self.ruleset = ruleset
        self.engine = _RecordingEngine(ruleset)
        self.deny_rank = SEVERITY_RANK[deny_at]
        self.review_rank = SEVERITY_RANK[review_at]
        self.deny_at, self.review_at = deny_at, review_at
        self.lock = threading.Lock()

    @classmethod
    def default(cls, deny_at: str = "high", review_at: str = "medium") -> "Guard":
        from ..analysis.rules import load
        return cls(load(), deny_at, review_at)

    def action_event(self, proposal: dict[str, Any]) -> dict[str, Any]:
        """The proposal as a v1 `action` event (raises EventError when it is not one)."""
        tool = proposal.get("tool")
        if not isinstance(tool, str) or not tool:
            raise EventError("a proposed action needs a 'tool' (string)")
        raw: dict[str, Any] = {"kind": "action", "ts": proposal.get("ts") or time.time(), "tool": tool}
        for key in ("input", "args", "language", "id", *CONTEXT_KEYS):
            value = proposal.get(key)
            if value is not None:
                raw[key] = value
        if isinstance(raw.get("input"), str) and len(raw["input"]) > MAX_INPUT:
            raise EventError(f"'input' is longer than {MAX_INPUT} characters")
        if isinstance(proposal.get("extra"), dict):
            raw.setdefault("guard_context", proposal["extra"])
        return raw

    def decide(self, proposal: dict[str, Any]) -> Decision:
        started = time.perf_counter()
        raw = self.action_event(proposal)
        event = from_dict(raw)
        with self.lock:
            self.engine.ran = []
            found = self.engine.analyze(event)
            ran = sorted(set(self.engine.ran))
        rules = [self.engine.rules[i].id for i in ran]
        worst = max((SEVERITY_RANK[f.severity] for f in found), default=-1)
        if worst >= self.deny_rank:
            decision = "deny"
        elif worst >= self.review_rank:
            decision = "review"
        else:
            decision = "allow"
        if found:
            top = max(found, key=lambda f: SEVERITY_RANK[f.severity])
            reason = f"{top.severity}: {top.title} ({top.rule})"
            if len(found) > 1:
                reason += f" and {len(found) - 1} more"
        else:
            reason = "no rule matched" if rules else "no rule applies"
        findings = []
        for f in found:
            d = f.to_dict()
            d["evidence"] = {**d["evidence"], "guard": decision}
            findings.append(d)
        out = Decision(decision, reason, findings, rules, event.to_dict())
        out._findings = found  # type: ignore[attr-defined]
        out._event = event  # type: ignore[attr-defined]
        out.latency_ms = (time.perf_counter() - started) * 1000
        return out
