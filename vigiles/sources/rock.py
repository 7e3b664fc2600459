"""ROCK sandbox (rocklet) request logs: the actions an agent sent to its sandbox.

The rocklet serves `/run_in_session` (`command`, `session`), `/execute` (`command` as a string or
an argv list, `cwd`, `env`), `/write_file` (`path`, `content`), `/upload`, `/read_file` and session
management. Vigiles reads one JSON object per line, as a gateway or proxy in front of the rocklet
logs them (docs/events.md, "ROCK request logs"):

    {"ts": ..., "sandbox_id": "...", "endpoint": "/run_in_session",
     "request": {"command": "...", "session": "..."}, "response": {"output": "...", "exit_code": 0}}

`path` may stand for `endpoint`, and `sandbox` for `sandbox_id`. tool is the endpoint's name,
sandbox the sandbox id, episode the session when there is one, step the request's order per sandbox.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Iterator

from ..events import Event, Location
from .base import ReadError
from .calls import action, guarded, json_lines, text_of, timestamp

ENDPOINTS = frozenset({"run_in_session", "execute", "write_file", "upload", "read_file", "create_session",
                       "close_session", "is_alive", "get_statistics", "env"})


def _endpoint(record: dict) -> str | None:
    value = record.get("endpoint") or record.get("path") or record.get("api")
    if not isinstance(value, str):
        return None
    name = value.rstrip("/").rsplit("/", 1)[-1]
    return name if name in ENDPOINTS else None


def sniff(head: bytes, first: object, path: Path) -> bool:
    return isinstance(first, dict) and _endpoint(first) is not None and isinstance(first.get("request"), dict)


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    steps: dict[str, int] = {}
    for item in json_lines(path, name):
        if isinstance(item, ReadError):
            yield item
            continue
        number, record = item
        if not isinstance(record, dict):
            yield ReadError(name, number, "expected a JSON object")
            continue
        endpoint = _endpoint(record)
        request = record.get("request")
        if endpoint is None or not isinstance(request, dict):
            yield ReadError(name, number, "a ROCK request record needs a known `endpoint` and a `request` object")
            continue
        if endpoint in ("is_alive", "get_statistics", "close_session"):
            continue
        sandbox = record.get("sandbox_id") or record.get("sandbox") or request.get("sandbox_id")
        step = steps.get(str(sandbox), 0)
        steps[str(sandbox)] = step + 1
        response = record.get("response") if isinstance(record.get("response"), dict) else {}
        command = request.get("command")
        if isinstance(command, list):
            command = shlex.join(str(c) for c in command)  # argv, quoted so a shell reads it back unchanged
        args = {k: v for k, v in request.items() if k != "env"}
        if isinstance(request.get("env"), dict):
            args["env"] = sorted(request["env"])  # names only: values may be secrets
        exit_code = response.get("exit_code")
        yield action(tool=endpoint, args=args, raw=command if isinstance(command, str) else None, step=step,
                     run=record.get("run") or path.stem, episode=request.get("session") or record.get("session"),
                     sandbox=str(sandbox) if sandbox is not None else None, ts=timestamp(record.get("ts")),
                     source=Location(name, line=number),
                     output=text_of(response.get("output") or response.get("stdout")),
                     exit_code=exit_code if isinstance(exit_code, int) and not isinstance(exit_code, bool) else None)


read = guarded(read)
