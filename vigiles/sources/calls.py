"""What the transcript readers share: turning one tool call into an `action` event.

Each reader finds tool calls and their results in its own format; this module names the
conventions they all follow: `input` is the command or code when the call carries one, the whole
argument object is kept in `args`, and `step` counts tool calls in transcript order from 0.
"""
from __future__ import annotations

import json
import shlex
from collections import OrderedDict
from pathlib import Path
from typing import Any, Iterator

import msgspec

from ..events import Event, EventError, Location, from_dict
from .base import TOO_DEEP, ReadError, data_lines

MAX_DOCUMENT_BYTES = 512 * 1024 * 1024
MAX_OUTPUT_CHARS = 64 * 1024
EDITOR_COMMANDS = frozenset({"view", "create", "str_replace", "insert", "undo_edit", "write", "read", "open", "edit"})
INPUT_KEYS = ("command", "cmd", "code", "script", "input", "commands", "source", "query")
PENDING_LINES = 256
"""Lines after which a tool call still waiting for its result is emitted without it."""
PENDING_CALLS = 1024
"""Tool calls waiting for results beyond which the oldest is emitted without its result."""


def parse_arguments(arguments: Any) -> tuple[dict | None, str | None]:
    """(args object, raw text) of a tool call's arguments, given as an object or as a JSON string."""
    if isinstance(arguments, dict):
        return arguments, None
    if isinstance(arguments, str):
        try:
            value = json.loads(arguments)
        except (ValueError, RecursionError):
            return None, arguments  # malformed arguments: keep the raw text as the input
        if isinstance(value, dict):
            return value, None
        return None, arguments
    return None, None


def input_of(args: dict | None, raw: str | None) -> str | None:
    if raw is not None:
        return raw
    if not args:
        return None
    if isinstance(args.get("command"), str) and args["command"] in EDITOR_COMMANDS and "path" in args:
        return None  # an editor's sub-command (view, create, str_replace) is not a command line
    for key in INPUT_KEYS:
        value = args.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return shlex.join(value)
    return None


def text_of(content: Any) -> str | None:
    """A tool result's text: a string, or the text parts of a list of content blocks."""
    if content is None:
        return None
    if isinstance(content, str):
        return content[:MAX_OUTPUT_CHARS]
    if isinstance(content, list):
        parts = [c.get("text", "") if isinstance(c, dict) else str(c) for c in content]
        return "\n".join(p for p in parts if p)[:MAX_OUTPUT_CHARS]
    if isinstance(content, dict):
        return str(content.get("text") or content.get("output") or "")[:MAX_OUTPUT_CHARS] or None
    return str(content)[:MAX_OUTPUT_CHARS]


def timestamp(value: Any) -> Any:
    """A message's time as the event model takes it (epoch seconds or RFC 3339), or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value / 1000.0 if value > 1e12 else value
    if isinstance(value, str) and value:
        return value
    return None


def action(*, tool: str, args: dict | None, raw: str | None, step: int, run: str | None, episode: str | None,
           ts: Any, source: Location, output: str | None = None, exit_code: int | None = None,
           sandbox: str | None = None, call_id: str | None = None) -> Event | ReadError:
    """The action event for one tool call; `ts` falls back to `step` seconds (order, not time).
    A call that is not a valid event is a ReadError naming it, and the reading goes on."""
    raw_event: dict[str, Any] = {"kind": "action", "ts": ts if ts is not None else float(step), "tool": tool or "unknown",
                                 "step": step}
    for key, value in (("run", run), ("episode", episode), ("sandbox", sandbox)):
        if value is not None:
            raw_event[key] = str(value)
    text = input_of(args, raw)
    if text is not None:
        raw_event["input"] = text
    if args is not None:
        raw_event["args"] = args
    if output is not None:
        raw_event["output"] = output
    if exit_code is not None:
        raw_event["exit_code"] = exit_code
    if call_id is not None:
        raw_event["call_id"] = str(call_id)
    try:
        return from_dict(raw_event, source)
    except EventError as exc:
        where = f" (message {source.message})" if source.message is not None else ""
        return ReadError(source.file, source.line, f"tool call {tool!r}{where}: {exc}")


def load_document(path: Path, name: str) -> tuple[Any, ReadError | None]:
    """A whole-file JSON document, bounded in size; or the reason it cannot be read."""
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        return None, ReadError(name, None, f"document of {size} bytes is over the {MAX_DOCUMENT_BYTES}-byte limit")
    try:
        return msgspec.json.decode(path.read_bytes()), None
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return None, ReadError(name, None, f"not valid JSON (truncated?): {exc}")
    except RecursionError:
        return None, ReadError(name, None, TOO_DEEP)


def json_lines(path: Path, name: str) -> Iterator[tuple[int, Any] | ReadError]:
    """(line number, value) for each JSON line; a ReadError for each bad one."""
    with open(path, "rb") as stream:
        for item in data_lines(stream, name):
            if isinstance(item, ReadError):
                yield item
                continue
            number, line = item
            try:
                yield number, msgspec.json.decode(line)
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                yield ReadError(name, number, f"not valid JSON: {exc}")
            except RecursionError:
                yield ReadError(name, number, TOO_DEEP)


def is_document(head: bytes) -> bool:
    """Whether a file is one JSON document (an array, or an object spread over lines) rather than JSON Lines."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        return True
    first_line = stripped.split(b"\n", 1)[0].strip()
    return stripped.startswith(b"{") and not first_line.endswith(b"}")


def guarded(reader):
    """Wrap a reader so that no malformed record can raise out of it: each becomes a ReadError."""
    def read(path: Path, name: str) -> Iterator[Event | ReadError]:
        try:
            yield from reader(path, name)
        except (EventError, ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            yield ReadError(name, None, f"stopped reading: {type(exc).__name__}: {exc}")
    return read


class PendingCalls:
    """Tool calls waiting for their results, emitted in the order they were made."""

    def __init__(self) -> None:
        self.calls: OrderedDict[int, dict] = OrderedDict()
        self.by_id: dict[str, int] = {}
        self.count = 0
        self.steps: dict[Any, int] = {}
        """Calls made so far in each episode: the next one's `step`."""

    def add(self, *, tool: str, args: dict | None, raw: str | None, run: str | None, episode: str | None, ts: Any,
            source: Location, call_id: Any, seen: int) -> None:
        """A call made at line `seen` of its file, its step the next of its episode."""
        step = self.steps.get(episode, 0)
        self.steps[episode] = step + 1
        call_id = str(call_id) if call_id is not None else None
        self.count += 1
        self.calls[self.count] = {"tool": tool, "args": args, "raw": raw, "step": step, "run": run,
                                  "episode": episode, "ts": ts, "source": source, "call_id": call_id, "seen": seen}
        if call_id is not None:
            self.by_id[call_id] = self.count

    def result(self, call_id: Any, content: Any, exit_code: Any = None) -> None:
        key = self.by_id.pop(str(call_id), None) if call_id is not None else None
        if key is not None and key in self.calls:
            self.calls[key]["output"] = text_of(content)
            if isinstance(exit_code, int) and not isinstance(exit_code, bool):
                self.calls[key]["exit_code"] = exit_code
            self.calls[key]["done"] = True

    def ready(self, now: int, everything: bool = False) -> Iterator[dict]:
        while self.calls:
            key, call = next(iter(self.calls.items()))
            if not (everything or call.get("done") or now - call["seen"] > PENDING_LINES
                    or len(self.calls) > PENDING_CALLS):
                return
            del self.calls[key]
            if call["call_id"] is not None:
                self.by_id.pop(call["call_id"], None)
            yield call


def emit(call: dict, name: str) -> Event | ReadError:
    """The action event of a call PendingCalls held (its result, where one came, with it)."""
    try:
        return action(tool=call["tool"], args=call["args"], raw=call["raw"], step=call["step"], run=call["run"],
                      episode=call["episode"], ts=call["ts"], source=call["source"], output=call.get("output"),
                      exit_code=call.get("exit_code"), call_id=call["call_id"])
    except EventError as exc:
        return ReadError(name, call["source"].line, f"tool call {call['tool']!r}: {exc}")
