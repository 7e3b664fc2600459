"""Anthropic Messages and Claude Code sessions: every `tool_use` block becomes an `action` event.

Shapes: a JSON array of messages, a Messages API request body (`{"messages": [...]}`) or response
(`{"type": "message", "content": [...]}`), JSON Lines of messages or of `{"messages": [...]}`
records, and Claude Code session logs (records with `type` user/assistant, a `message`,
`sessionId`, `timestamp`, `uuid`; summaries, snapshots and other record types are skipped).
A `tool_use` block (`id`, `name`, `input`) is the call; the `tool_result` block with the same
`tool_use_id` (content a string or text blocks) is its output.

run is the file name; episode the Claude Code `sessionId`, else the conversation's `id` (`lineN`
for a `{"messages"}` record of a JSON Lines file); ts the record's `timestamp` when it has one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..events import Event, Location
from .base import ReadError
from .calls import PendingCalls, emit, guarded, is_document, json_lines, load_document, parse_arguments, timestamp

NAME = "anthropic"
RECORD_TYPES = frozenset({"user", "assistant", "system", "summary", "file-history-snapshot", "queue-operation"})


def _is_generic(first: object) -> bool:
    return isinstance(first, dict) and isinstance(first.get("kind"), str) and "ts" in first


def sniff(head: bytes, first: object, path: Path) -> bool:
    if _is_generic(first):
        return False
    if isinstance(first, dict):
        if ("sessionId" in first or "leafUuid" in first) and first.get("type") in RECORD_TYPES:
            return True
        if first.get("type") in RECORD_TYPES and b'"sessionId"' in head:
            return True
        if first.get("type") == "message" and first.get("role") == "assistant" and _blocks(first) and not any(
                b.get("type") in ("input_text", "output_text", "refusal") for b in _blocks(first)):
            return True  # a Messages API response (a Responses API message item has *_text parts)
    return b'"tool_use"' in head or b'"tool_result"' in head


def _blocks(message: dict) -> list:
    content = message.get("content")
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    run = path.stem
    pending = PendingCalls()

    def message(msg: Any, source: Location, episode: str | None, ts: Any, now: int) -> Iterator[ReadError]:
        if not isinstance(msg, dict):
            yield ReadError(name, source.line, "a message is a JSON object")
            return
        ts = ts if ts is not None else timestamp(msg.get("timestamp") or msg.get("created_at"))
        for block in _blocks(msg):
            kind = block.get("type")
            if kind in ("tool_use", "server_tool_use"):
                tool = block.get("name")
                if not isinstance(tool, str) or not tool:
                    yield ReadError(name, source.line, "tool_use block without a name")
                    continue
                args, raw = parse_arguments(block.get("input"))
                pending.add(tool=tool, args=args, raw=raw, run=run, episode=episode, ts=ts, source=source,
                            call_id=block.get("id"), seen=now)
            elif kind == "tool_result":
                pending.result(block.get("tool_use_id"), block.get("content"))

    def conversation(messages: list, episode: str | None, line: int | None) -> Iterator[Event | ReadError]:
        for index, msg in enumerate(messages):
            yield from message(msg, Location(name, line=line, message=index), episode, None, 0)
        for call in pending.ready(0, everything=True):
            yield emit(call, name)

    head = path.open("rb").read(65536)
    if is_document(head):
        doc, error = load_document(path, name)
        if error:
            yield error
            return
        if isinstance(doc, dict) and doc.get("type") == "message":
            yield from conversation([doc], doc.get("id"), None)
        elif isinstance(doc, dict) and isinstance(doc.get("messages"), list):
            yield from conversation(doc["messages"], doc.get("id"), None)
        elif isinstance(doc, list):
            yield from conversation(doc, None, None)
        else:
            yield ReadError(name, None, "expected a JSON array of messages or an object with 'messages'")
        return

    number = 0
    for item in json_lines(path, name):
        if isinstance(item, ReadError):
            yield item
            continue
        number, value = item
        if not isinstance(value, dict):
            yield ReadError(name, number, "expected a JSON object (a message or a Claude Code record)")
        elif isinstance(value.get("message"), dict) and value.get("type") in ("user", "assistant"):
            session = value.get("sessionId")
            yield from message(value["message"], Location(name, line=number),
                               str(session) if session is not None else None, timestamp(value.get("timestamp")),
                               number)
        elif "sessionId" in value or value.get("type") in RECORD_TYPES:
            pass  # summaries, snapshots, system notes: no tool calls
        elif isinstance(value.get("messages"), list):
            for call in pending.ready(number, everything=True):
                yield emit(call, name)
            yield from conversation(value["messages"], str(value.get("id") or f"line{number}"), number)
        elif "role" in value or value.get("type") == "message":
            yield from message(value, Location(name, line=number), None, None, number)
        else:
            yield ReadError(name, number, "not a message, a conversation or a Claude Code record")
        for call in pending.ready(number):
            yield emit(call, name)
    for call in pending.ready(number, everything=True):
        yield emit(call, name)


read = guarded(read)
