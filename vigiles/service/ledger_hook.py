"""The optional hook between the service and a transparency log (vigiles.ledger is written elsewhere).

The service never imports the ledger. A hook is any object with these two methods; pass it as
`ServiceConfig(ledger=...)`, or name a factory on the command line (`vigiles serve --ledger-hook
package.module:factory`, called with no arguments).
"""
from __future__ import annotations

import importlib
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class LedgerHook(Protocol):
    def state(self) -> dict[str, Any]:
        """The dashboard panel: {"latest_checkpoint": {"size": int, "root": str, "ts": float, ...} | None,
        "verified": bool | None, "detail": str}."""

    def evidence_bundle(self, incident: dict[str, Any], findings: list[dict], events: list[dict]) -> dict[str, Any] | None:
        """Inclusion proofs and the signed checkpoint for an incident's records, or None."""


def load_hook(spec: str) -> LedgerHook:
    """`module:callable` → the hook the callable returns (no eval: an import and an attribute lookup)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr.isidentifier():
        raise ValueError(f"--ledger-hook wants module:callable, not {spec!r}")
    factory = getattr(importlib.import_module(module_name), attr)
    hook = factory()
    if not isinstance(hook, LedgerHook):
        raise ValueError(f"{spec} did not return an object with state() and evidence_bundle()")
    return hook


def panel(hook: LedgerHook | None) -> dict[str, Any]:
    """What the dashboard shows; never raises (a broken ledger is a state to show, not a page error)."""
    if hook is None:
        return {"configured": False, "detail": "no ledger configured"}
    try:
        state = dict(hook.state())
    except Exception as exc:  # noqa: BLE001 - shown, not hidden
        return {"configured": True, "verified": False, "detail": f"ledger state unavailable: {type(exc).__name__}: {exc}"}
    state["configured"] = True
    return state


def bundle(hook: LedgerHook | None, incident: dict, findings: list[dict], events: list[dict]) -> dict | None:
    if hook is None:
        return None
    try:
        return hook.evidence_bundle(incident, findings, events)
    except Exception as exc:  # noqa: BLE001
        return {"error": f"{type(exc).__name__}: {exc}"}
