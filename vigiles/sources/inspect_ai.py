"""Inspect AI logs: `.eval` archives (a zip of header.json and samples/*.json) and `.json` logs.

Each sample's messages hold assistant `tool_calls` (`function` names the tool, `arguments` is an
object) and `tool` messages answering them (`tool_call_id`, `content`, `error`). run is the eval's
run id (else the file name), episode is `<sample id>#<epoch>`, step counts tool calls per sample.
Archives are read member by member with a bound on each member's uncompressed size and on the
number of members, so a zip bomb is refused, not expanded.
"""
from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Iterator

import msgspec

from ..events import Event, Location
from .base import TOO_DEEP, ReadError
from .calls import action, guarded, load_document, parse_arguments, text_of, timestamp

MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_MEMBERS = 100_000


def sniff(head: bytes, first: object, path: Path) -> bool:
    if head.startswith(b"PK\x03\x04"):
        return b"header.json" in head or b"samples/" in head or path.suffix == ".eval"
    start = head.lstrip()[:1]
    return start == b"{" and b'"eval"' in head[:65536] and (b'"samples"' in head or b'"status"' in head
                                                             or b'"plan"' in head or b'"version"' in head)


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    with open(path, "rb") as stream:
        magic = stream.read(4)
    if magic == b"PK\x03\x04":
        yield from _read_archive(path, name)
        return
    doc, error = load_document(path, name)
    if error:
        yield error
        return
    if not isinstance(doc, dict):
        yield ReadError(name, None, "an Inspect log is a JSON object")
        return
    run = _run_id(doc.get("eval"), path)
    for index, sample in enumerate(doc.get("samples") or []):
        if isinstance(sample, dict):
            yield from _sample(sample, run, name, f"samples[{index}]")
        else:
            yield ReadError(name, None, f"samples[{index}] is not an object")


def _read_archive(path: Path, name: str) -> Iterator[Event | ReadError]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield ReadError(name, None, f"not a readable .eval archive: {exc}")
        return
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            yield ReadError(name, None, f"archive has {len(members)} members, over the {MAX_MEMBERS} limit")
            return
        header = _member(archive, "header.json", name)
        if not header:  # a run still in progress has only its journal
            header = _member(archive, "_journal/start.json", name)
        run = _run_id(header.get("eval") if isinstance(header, dict) else None, path)
        for info in sorted(members, key=lambda m: m.filename):
            if not (info.filename.startswith("samples/") and info.filename.endswith(".json")):
                continue
            sample = _member(archive, info.filename, name)
            if isinstance(sample, ReadError):
                yield sample
            elif isinstance(sample, dict):
                yield from _sample(sample, run, name, info.filename)


def _member(archive: zipfile.ZipFile, member: str, name: str) -> Any:
    try:
        info = archive.getinfo(member)
    except KeyError:
        return {}
    if info.file_size > MAX_MEMBER_BYTES:
        return ReadError(name, None, f"{member}: {info.file_size} bytes uncompressed, over the limit")
    try:
        with archive.open(info) as stream:
            data = stream.read(MAX_MEMBER_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        return ReadError(name, None, f"{member}: cannot be read: {exc}")
    if len(data) > MAX_MEMBER_BYTES:
        return ReadError(name, None, f"{member}: larger than its header says, refused")
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        return ReadError(name, None, f"{member}: not valid JSON: {exc}")
    except RecursionError:
        return ReadError(name, None, f"{member}: {TOO_DEEP}")


def _run_id(spec: Any, path: Path) -> str:
    if isinstance(spec, dict):
        return str(spec.get("run_id") or spec.get("eval_id") or spec.get("task") or path.stem)
    return path.stem


def _resolve(value: Any, attachments: dict, depth: int = 0) -> Any:
    """Inspect stores long strings once, as `attachment://<hash>` into the sample's attachments."""
    if isinstance(value, str) and value.startswith("attachment://"):
        found = attachments.get(value[len("attachment://"):])
        return found if isinstance(found, str) else value
    if depth > 32:
        return value
    if isinstance(value, dict):
        return {k: _resolve(v, attachments, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, attachments, depth + 1) for v in value]
    return value


def _sample(sample: dict, run: str, name: str, where: str) -> Iterator[Event | ReadError]:
    episode = f"{sample.get('id')}#{sample.get('epoch', 1)}"
    messages = sample.get("messages") or []
    attachments = sample.get("attachments")
    if isinstance(attachments, dict) and attachments and isinstance(messages, list):
        messages = _resolve(messages, attachments)
    if not isinstance(messages, list):
        yield ReadError(name, None, f"{where}: messages is not a list")
        return
    results = {}
    for message in messages:
        if isinstance(message, dict) and message.get("role") == "tool" and message.get("tool_call_id"):
            output = text_of(message.get("content"))
            error = message.get("error")
            if isinstance(error, dict) and error.get("message"):
                output = (output or "") + f"\n[error] {error.get('message')}"
            results[str(message["tool_call_id"])] = output
    step = 0
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        for call in message.get("tool_calls") or []:
            if not isinstance(call, dict):
                continue
            args, raw = parse_arguments(call.get("arguments"))
            function = call.get("function")
            tool = function.get("name") if isinstance(function, dict) else function
            yield action(tool=str(tool or ""), args=args, raw=raw, step=step, run=run, episode=episode,
                         ts=timestamp(message.get("timestamp")), source=Location(f"{name}!{where}", message=index),
                         output=results.get(str(call.get("id"))), call_id=call.get("id"))
            step += 1


read = guarded(read)
