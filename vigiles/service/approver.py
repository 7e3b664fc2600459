"""An approver for Inspect AI's tool-approval hook, backed by the vigiles guard.

Inspect calls an approver as `await approve(message, call, view, history) -> Approval`, where
`call` is a ToolCall (`.function`, `.arguments`, `.id`) and Approval has `decision` ("approve",
"modify", "reject", "terminate", "escalate") and `explanation`. Mapping: allow → approve,
deny → reject (or terminate, with `on_deny="terminate"`), review → escalate (the next approver in
the policy, e.g. a human; `on_review` changes it).

inspect_ai is imported only when an approval is made or when `register()` is called, so vigiles
does not depend on it. In a policy file, after `vigiles.service.approver.register()` has run (e.g.
from your package's Inspect `_registry.py` entry point):

    approvers:
      - name: vigiles/guard
        tools: "*"
        url: https://vigiles.internal:8750
        token: ${VIGILES_TOKEN}

Or in Python: `eval(task, approval=[ApprovalPolicy(vigiles_approver(url=..., token=...), "*")])`.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

DECISIONS = {"allow": "approve", "deny": "reject", "review": "escalate"}


@dataclass
class _Approval:
    """Stands in for inspect_ai.approval.Approval when inspect_ai is not installed (tests)."""

    decision: str
    explanation: str | None = None
    modified: Any = None


def _approval(decision: str, explanation: str):
    try:
        from inspect_ai.approval import Approval
    except ImportError:
        return _Approval(decision, explanation)
    return Approval(decision=decision, explanation=explanation)


def proposal_from_call(call: Any, context: dict | None = None) -> dict:
    """A ToolCall as a proposed action: the function name as the tool, its arguments as args/input."""
    arguments = dict(getattr(call, "arguments", None) or {})
    proposal: dict[str, Any] = {"tool": str(getattr(call, "function", "tool"))}
    for key in ("cmd", "command", "code", "input"):
        if isinstance(arguments.get(key), str) and len(arguments) == 1:
            proposal["input"] = arguments[key]
            break
    else:
        proposal["args"] = arguments
    if getattr(call, "id", None):
        proposal["extra"] = {"tool_call_id": str(call.id)}
    proposal.update({k: v for k, v in (context or {}).items() if v is not None})
    return proposal


def vigiles_approver(url: str | None = None, token: str | None = None, *, client: Any = None, engine: Any = None,
                     on_deny: str = "reject", on_review: str = "escalate", context: dict | None = None):
    """The approve() coroutine function. Asks a vigiles server (url+token or client) or decides in-process."""
    if client is None and url is not None:
        from .client import Client
        client = Client(url, token or "")
    if client is None and engine is None:
        from ..guard import local_guard
        engine = local_guard()
    decisions = {**DECISIONS, "deny": on_deny, "review": on_review}

    async def approve(message: str, call: Any, view: Any = None, history: Any = None):
        proposal = proposal_from_call(call, context)
        if client is not None:
            verdict = await asyncio.to_thread(client.decide, proposal)
        else:
            verdict = engine.decide(proposal).to_dict()
        outcome = decisions.get(verdict.get("decision"), "reject")
        rules = ", ".join(f["rule"] for f in verdict.get("findings", [])) or "none"
        return _approval(outcome, f"vigiles {verdict.get('decision')}: {verdict.get('reason')} (rules fired: {rules})")

    return approve


def register():
    """Register `vigiles/guard` with Inspect's approver registry (imports inspect_ai now)."""
    from inspect_ai.approval import approver

    @approver(name="vigiles/guard")
    def guard_approver(url: str | None = None, token: str | None = None, on_deny: str = "reject",
                       on_review: str = "escalate"):
        return vigiles_approver(url=url, token=token, on_deny=on_deny, on_review=on_review)

    return guard_approver
