"""Codex CLI sessions (rollout files, `~/.codex/sessions/YYYY/MM/DD/rollout-*.jsonl`): every tool
call becomes an `action` event.

Each line is `{"timestamp", "type", "payload"}`. `session_meta` names the session: its `id` is the
episode. `response_item` lines carry Responses API items (openai.item_calls): `function_call` with
`arguments` as a JSON string, for Codex's shell tools `shell` (argv in `command`), `shell_command`
(a command line), `exec_command` (`cmd`) and `write_stdin` (`chars` typed into a session that
exec_command started, read as the text of its shell); `custom_tool_call` with a free-form `input`
(apply_patch's patch, analysis.patch); `local_shell_call`. Their `*_output` items are the results:
`output` a string (plain, or JSON with `output` and `metadata.exit_code`) or an object. Lines of
other types (`turn_context`, `event_msg`, `compacted`, ...) and messages and reasoning hold no
call and are passed over.

run is the file name; ts the line's `timestamp`; step counts the session's calls from 0.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import re2

from ..events import Event, Location
from .base import ReadError
from .calls import PendingCalls, emit, guarded, json_lines, parse_arguments, timestamp
from .openai import OUTPUT_TYPES, item_calls

NAME = "codex"
RECORD_TYPES = frozenset({"session_meta", "response_item", "turn_context", "event_msg", "compacted"})
_EXIT_LINE = re2.compile(r"(?m)^(?:Exit code|Process exited with code):? (-?[0-9]{1,9})\b")


def sniff(head: bytes, first: object, path: Path) -> bool:
    return isinstance(first, dict) and first.get("type") in RECORD_TYPES and isinstance(first.get("payload"), dict)


def _result(payload: dict) -> tuple[Any, int | None]:
    """A tool call's output and exit code: Codex writes the shell tools' result as JSON in a string
    (`{"output": ..., "metadata": {"exit_code": 0}}`) or as text that starts `Exit code: N`."""
    output = payload.get("output")
    if isinstance(output, str) and output.startswith("{"):
        try:
            decoded = json.loads(output)
        except (ValueError, RecursionError):
            decoded = None
        if isinstance(decoded, dict) and "output" in decoded:
            metadata = decoded.get("metadata")
            code = metadata.get("exit_code") if isinstance(metadata, dict) else None
            return decoded.get("output"), code if isinstance(code, int) else None
    if isinstance(output, dict):
        code = output.get("exit_code")
        return output.get("content") or output.get("output"), code if isinstance(code, int) else None
    if isinstance(output, str):
        found = _EXIT_LINE.search(output[:4096])
        return output, int(found.group(1)) if found else None
    return output, None


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    run = path.stem
    session: str | None = None
    pending = PendingCalls()
    number = 0
    for item in json_lines(path, name):
        if isinstance(item, ReadError):
            yield item
            continue
        number, record = item
        if not isinstance(record, dict) or not isinstance(record.get("payload"), dict):
            yield ReadError(name, number, "expected a Codex record: an object with 'type' and 'payload'")
            continue
        payload = record["payload"]
        kind = record.get("type")
        if kind == "session_meta" and payload.get("id") is not None:
            session = str(payload["id"])
        elif kind == "response_item":
            if payload.get("type") in OUTPUT_TYPES:
                output, code = _result(payload)
                pending.result(payload.get("call_id"), output, code)
            for call_id, tool, arguments in item_calls(payload):
                args, raw = parse_arguments(arguments)
                if tool == "write_stdin" and isinstance(args, dict) and isinstance(args.get("chars"), str):
                    raw = args["chars"]
                pending.add(tool=tool or "unknown", args=args, raw=raw, run=run, episode=session,
                            ts=timestamp(record.get("timestamp")), source=Location(name, line=number),
                            call_id=call_id, seen=number)
        for call in pending.ready(number):
            yield emit(call, name)
    for call in pending.ready(number, everything=True):
        yield emit(call, name)


read = guarded(read)
