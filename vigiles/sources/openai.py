"""OpenAI transcripts: Chat Completions messages and Responses API items.

Chat: a JSON array of messages, an object with `messages`, or JSON Lines of messages or of
`{"messages": [...]}` records (one conversation per line). Assistant `tool_calls` carry
`function.arguments` as a JSON string (the older `function_call` too); results come back as
`role: tool` messages with `tool_call_id`.
Responses: `function_call` / `function_call_output`, `custom_tool_call` / `custom_tool_call_output`
(a free-form `input`), `local_shell_call` / `local_shell_call_output` and `shell_call` items, as an
array, a response object with `output`, or JSON Lines.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any, Iterator

from ..events import Event, Location
from .base import ReadError
from .calls import action, guarded, is_document, json_lines, load_document, parse_arguments, text_of, timestamp

_ITEM_TYPES = frozenset({"function_call", "function_call_output", "custom_tool_call", "custom_tool_call_output",
                         "local_shell_call", "local_shell_call_output", "shell_call", "shell_call_output",
                         "message", "reasoning"})
OUTPUT_TYPES = frozenset({"function_call_output", "custom_tool_call_output", "local_shell_call_output",
                          "shell_call_output"})


def _is_chat_message(value: Any) -> bool:
    return isinstance(value, dict) and value.get("role") in ("system", "user", "assistant", "tool", "developer", "function")


def sniff_chat(head: bytes, first: object, path: Path) -> bool:
    if _is_chat_message(first) and b'"content"' in head and b'"tool_use"' not in head:
        return True
    if isinstance(first, dict) and isinstance(first.get("messages"), list) and b'"tool_use"' not in head \
            and b'"eval"' not in head[:4096]:
        return True
    if is_document(head) and b'"role"' in head and (b'"tool_calls"' in head or b'"function_call"' in head) \
            and b'"tool_use"' not in head and b'"samples"' not in head[:65536] and b'"eval"' not in head[:4096]:
        return True
    return False


def sniff_responses(head: bytes, first: object, path: Path) -> bool:
    if isinstance(first, dict) and first.get("type") in _ITEM_TYPES:
        return True
    if isinstance(first, dict) and first.get("object") == "response" and isinstance(first.get("output"), list):
        return True
    if is_document(head) and (b'"type": "function_call"' in head or b'"type":"function_call"' in head
                              or b'"local_shell_call"' in head) and b'"role": "tool"' not in head:
        return True
    return False


def _conversations(path: Path, name: str) -> Iterator[tuple[list, str | None, int | None] | ReadError]:
    """(messages, conversation id, line number) per conversation in the file."""
    head = path.open("rb").read(65536)
    if is_document(head):
        doc, error = load_document(path, name)
        if error:
            yield error
            return
        if isinstance(doc, dict):
            messages = doc.get("messages") if isinstance(doc.get("messages"), list) else doc.get("output")
            yield (messages if isinstance(messages, list) else []), doc.get("id"), None
        elif isinstance(doc, list):
            yield doc, None, None
        return
    loose: list = []
    lines: list[int] = []
    for item in json_lines(path, name):
        if isinstance(item, ReadError):
            yield item
            continue
        number, value = item
        if isinstance(value, dict) and isinstance(value.get("messages"), list):
            yield value["messages"], value.get("id") or f"line{number}", number
        elif isinstance(value, dict) and value.get("object") == "response" and isinstance(value.get("output"), list):
            yield value["output"], value.get("id") or f"line{number}", number
        elif isinstance(value, dict):
            loose.append(value)
            lines.append(number)
        else:
            yield ReadError(name, number, "expected a JSON object (a message or an item)")
    if loose:
        yield loose, None, lines  # one conversation, one message per line


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    run = path.stem
    step = 0
    for item in _conversations(path, name):
        if isinstance(item, ReadError):
            yield item
            continue
        messages, conversation, where = item
        results = _results(messages)
        for index, message in enumerate(messages):
            if isinstance(where, list):
                source = Location(name, line=where[index])
            elif where is not None:
                source = Location(name, line=where, message=index)
            else:
                source = Location(name, message=index)
            if not isinstance(message, dict):
                yield ReadError(name, source.line, f"message {index} is not an object")
                continue
            for call in item_calls(message):
                call_id, tool, arguments = call
                args, raw = parse_arguments(arguments)
                output, exit_code = results.get(call_id, (None, None)) if call_id else (None, None)
                yield action(tool=tool, args=args, raw=raw, step=step, run=run, episode=conversation,
                             ts=timestamp(message.get("timestamp") or message.get("created_at")), source=source,
                             output=output, exit_code=exit_code, call_id=call_id)
                step += 1


def item_calls(message: dict) -> Iterator[tuple[str | None, str, Any]]:
    """(call id, tool, arguments) of each tool call a chat message or a Responses item makes."""
    kind = message.get("type")
    if kind == "function_call":
        yield message.get("call_id") or message.get("id"), str(message.get("name") or ""), message.get("arguments")
        return
    if kind == "custom_tool_call":
        given = message.get("input")
        yield message.get("call_id") or message.get("id"), str(message.get("name") or ""), \
            {"input": given} if isinstance(given, str) else given
        return
    if kind in ("local_shell_call", "shell_call"):
        act = message.get("action") or {}
        command = act.get("command") if isinstance(act, dict) else None
        if isinstance(command, list):
            command = shlex.join(str(c) for c in command)  # argv, quoted so a shell reads it back unchanged
        commands = act.get("commands") if isinstance(act, dict) else None
        if command is None and isinstance(commands, list):
            command = "\n".join(str(c) for c in commands)  # shell_call: shell command lines, run in order
        args = {"command": command} if command is not None else (act if isinstance(act, dict) else {})
        yield message.get("call_id") or message.get("id"), "local_shell" if kind == "local_shell_call" else "shell", args
        return
    if message.get("role") != "assistant":
        return
    for call in message.get("tool_calls") or []:
        if not isinstance(call, dict):
            continue
        function = call.get("function") or {}
        if isinstance(function, dict):
            yield call.get("id"), str(function.get("name") or ""), function.get("arguments")
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        yield None, str(legacy.get("name") or ""), legacy.get("arguments")


def _results(messages: list) -> dict[str, tuple[str | None, int | None]]:
    found: dict[str, tuple[str | None, int | None]] = {}
    for message in messages:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool" and message.get("tool_call_id"):
            found[str(message["tool_call_id"])] = (text_of(message.get("content")), None)
        elif message.get("type") in OUTPUT_TYPES:
            output = message.get("output")
            exit_code = None
            if isinstance(output, list):  # shell_call_output: one {stdout, stderr, outcome} per command
                parts = [o for o in output if isinstance(o, dict)]
                codes = [(o.get("outcome") or {}).get("exit_code") for o in parts if isinstance(o.get("outcome"), dict)]
                exit_code = next((c for c in reversed(codes) if isinstance(c, int)), None)
                output = "\n".join(str(o.get("stdout") or "") + str(o.get("stderr") or "") for o in parts)
            elif isinstance(output, dict):
                exit_code = output.get("exit_code")
                output = output.get("output") or output.get("stdout")
            found[str(message.get("call_id"))] = (text_of(output), exit_code if isinstance(exit_code, int) else None)
    return found


read = guarded(read)
