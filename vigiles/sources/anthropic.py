"""Anthropic messages and Claude Code sessions: every `tool_use` block becomes an `action` event.

Accepted shapes: a JSON array of messages; a Messages API request body (`{"messages": [...]}`) or
response (`{"type": "message", "role": "assistant", "content": [...]}`); JSON Lines of messages,
of `{"messages": [...]}` records, or Claude Code session records (`type` user/assistant with a
`message`, plus `sessionId`, `timestamp`, `uuid`; summaries, snapshots and other record types are
skipped). Tool calls: `tool_use` blocks (`id`, `name`, `input` object; also `server_tool_use`);
results: `tool_result` blocks (`tool_use_id`, `content` as a string or blocks, `is_error` → kept
`is_error: true`). OpenAI-style `tool_calls` in the same files are read too.

run and episode: a Claude Code record's `sessionId` (subagent records keep `sidechain: true` and
`agent_id`); else a document's `id` or the file's stem; `{"messages"}` records of a JSON Lines file
are episodes of their own (their `id`, else `line<N>`). ts: a Claude Code record's `timestamp`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..events import Event
from .base import ReadError
from .openai_chat import EPISODE_KEYS, _base, _is_conversation
from .transcript import (Line, Thread, classify, episode_id, guarded, messages_of, read_conversations, stem,
                         text_id, ts_of)

NAME = "anthropic"
SESSION_TYPES = frozenset({"user", "assistant"})


def sniff(head: bytes, first: object, path: Path) -> bool:
    return classify(head, first, path) == NAME


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    return guarded(name, NAME, lambda: read_conversations(path, name, NAME, threads, line_kind))


def _is_response(doc: Any) -> bool:
    return isinstance(doc, dict) and doc.get("type") == "message" and isinstance(doc.get("content"), list)


def threads(doc: Any, name: str) -> list[Thread] | str:
    default = stem(name)
    if isinstance(doc, list):
        if doc and all(_is_conversation(item) for item in doc[:16]):
            return [Thread(f"{name}[{index}]", default, episode_id(item, *EPISODE_KEYS) or str(index),
                           messages_of(item) or [], _base(item))
                    for index, item in enumerate(doc) if _is_conversation(item)]
        if doc and all(isinstance(item, dict) and isinstance(item.get("message"), dict) for item in doc[:16]):
            session = next((text_id(i.get("sessionId")) for i in doc[:16] if isinstance(i, dict)), None) or default
            return [Thread(name, session, session, [i.get("message") if isinstance(i, dict) else i for i in doc])]
        return [Thread(name, default, default, doc)]
    if isinstance(doc, dict):
        if _is_response(doc):
            run = text_id(doc.get("id")) or default
            return [Thread(name, run, run, [doc])]
        messages = messages_of(doc)
        if messages is None:
            return "no messages found: expected a JSON array of messages or an object with 'messages'"
        run = text_id(doc.get("run_id")) or text_id(doc.get("id")) or default
        episode = episode_id(doc, "episode_id", "episode", "trajectory_id", "sample_id") or run
        return [Thread(name, run, episode, messages, _base(doc))]
    return f"an Anthropic transcript is a JSON array or object, not {type(doc).__name__}"


def line_kind(value: Any, number: int, default: str) -> Line:
    if not isinstance(value, dict):
        if isinstance(value, list):
            return Line("thread", thread=Thread(default, default, f"line{number}", value))
        return Line("error", error=f"an Anthropic record is a JSON object, not {type(value).__name__}")
    session = text_id(value.get("sessionId"))
    kind = value.get("type")
    if session is not None or "leafUuid" in value or kind in ("summary", "file-history-snapshot"):
        message = value.get("message")
        if kind not in SESSION_TYPES:
            return Line("skip")
        if not isinstance(message, dict):
            return Line("error", error=f"Claude Code {kind} record without a 'message' object")
        extra: dict[str, Any] = {}
        if value.get("isSidechain") is True:
            extra["sidechain"] = True
        agent = text_id(value.get("agentId"))
        if agent is not None:
            extra["agent_id"] = agent
        run = session or default
        return Line("message", message, run=run, episode=run, ts=ts_of(value.get("timestamp")), extra=extra or None)
    if "role" in value or "tool_calls" in value or _is_response(value):
        return Line("message", value, run=default)
    if _is_conversation(value):
        episode = episode_id(value, *EPISODE_KEYS) or f"line{number}"
        return Line("thread", thread=Thread(default, text_id(value.get("run_id")) or default, episode,
                                            messages_of(value) or [], _base(value)))
    return Line("error", error="not a message (no 'role'), a conversation (no 'messages') nor a Claude Code record")
