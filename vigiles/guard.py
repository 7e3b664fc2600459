"""`vigiles.guard`: guard any Python tool function before it runs.

    from vigiles import guard

    @guard                                   # in-process, built-in rules, deny at high
    def bash(command: str) -> str: ...

    @guard(tool="bash", client=Client(url, token), on_review="deny", context={"sandbox": "sbx-1"})
    async def run(cmd: str) -> str: ...

Each call becomes a proposed action (the tool name, and the call's arguments as `args`, or the one
string argument named command/cmd/input/code/script as `input`) and is decided before the body
runs. `deny` raises `GuardDenied`; `review` is handled by `on_review`: "allow" (the default: run
it, the decision is still reported), "deny" (raise), or a callable that gets the decision and
returns True to run. `on_decision` sees every decision. The module itself is callable, so both
`from vigiles import guard` and `from vigiles.guard import guard` give the decorator.
"""
from __future__ import annotations

import functools
import inspect
import json
import sys
import threading
import types
from typing import Any, Callable

__all__ = ["guard", "GuardDenied", "local_guard"]

_INPUT_NAMES = ("command", "cmd", "input", "code", "script")
_local: Any = None
_local_lock = threading.Lock()


class GuardDenied(PermissionError):
    """The guard refused the action; `.decision` holds the full answer (findings, rules, reason)."""

    def __init__(self, decision: dict[str, Any]) -> None:
        super().__init__(f"vigiles {decision.get('decision')}: {decision.get('reason')}")
        self.decision = decision
        self.reason = decision.get("reason")


def local_guard(deny_at: str = "high", review_at: str = "medium"):
    """The process-wide in-process guard (built-in rules), made on first use."""
    global _local
    from .service.guard import Guard
    with _local_lock:
        if _local is None or (_local.deny_at, _local.review_at) != (deny_at, review_at):
            _local = Guard.default(deny_at, review_at)
        return _local


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)[:10_000]


def guard(fn: Callable | None = None, *, tool: str | None = None, client: Any = None, engine: Any = None,
          deny_at: str = "high", review_at: str = "medium", on_review: Any = "allow",
          input_arg: str | None = None, language: str | None = None,
          context: dict | Callable[[], dict] | None = None,
          on_decision: Callable[[dict], None] | None = None):
    """Decorate a tool function so every call is guarded first (see the module docstring).

    client: anything with `decide(proposal) -> dict` (vigiles.service.client.Client asks a server);
    engine: a vigiles.service.guard.Guard to use in-process; neither: the built-in rules in-process.
    """
    if on_review not in ("allow", "deny") and not callable(on_review):
        raise ValueError("on_review is 'allow', 'deny' or a callable")

    def decorate(func: Callable) -> Callable:
        name = tool or func.__name__
        signature = inspect.signature(func)
        params = list(signature.parameters)
        chosen = input_arg or next((p for p in params if p in _INPUT_NAMES), None)

        def proposal(args: tuple, kwargs: dict) -> dict:
            bound = signature.bind_partial(*args, **kwargs)
            values = {k: _jsonable(v) for k, v in bound.arguments.items() if k not in ("self", "cls")}
            out: dict[str, Any] = {"tool": name}
            if chosen and isinstance(values.get(chosen), str) and len(values) == 1:
                out["input"] = values[chosen]
            elif chosen and isinstance(values.get(chosen), str):
                out["input"] = values.pop(chosen)
                out["args"] = values
            else:
                out["args"] = values
            if language:
                out["language"] = language
            ctx = context() if callable(context) else (context or {})
            out.update({k: v for k, v in ctx.items() if v is not None})
            return out

        def check(args: tuple, kwargs: dict) -> dict:
            p = proposal(args, kwargs)
            if client is not None:
                decision = client.decide(p)
            else:
                decision = (engine or local_guard(deny_at, review_at)).decide(p).to_dict()
            if on_decision is not None:
                on_decision(decision)
            verdict = decision.get("decision")
            if verdict == "deny":
                raise GuardDenied(decision)
            if verdict == "review":
                run = on_review(decision) if callable(on_review) else on_review == "allow"
                if not run:
                    raise GuardDenied(decision)
            elif verdict != "allow":
                raise GuardDenied({**decision, "reason": f"unknown decision {verdict!r}"})
            return decision

        if inspect.iscoroutinefunction(func):
            @functools.wraps(func)
            async def async_wrapper(*args, **kwargs):
                if client is not None:
                    import asyncio
                    await asyncio.to_thread(check, args, kwargs)
                else:
                    check(args, kwargs)
                return await func(*args, **kwargs)
            async_wrapper.__vigiles_guarded__ = True  # type: ignore[attr-defined]
            return async_wrapper

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            check(args, kwargs)
            return func(*args, **kwargs)
        wrapper.__vigiles_guarded__ = True  # type: ignore[attr-defined]
        return wrapper

    if fn is not None:
        return decorate(fn)
    return decorate


class _CallableModule(types.ModuleType):
    """`from vigiles import guard` yields this module; calling it is calling `guard(...)`."""

    def __call__(self, *args, **kwargs):
        return guard(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
