"""What a ledger entry holds: one record, as RFC 8785 canonical JSON, with large evidence in blobs.

    {"kind": "<kind>", "record": {...}}                       small records
    {"blobs": ["sha256:<hex>", ...], "kind": ..., "record": ...}  when evidence was moved out

Canonical JSON makes the entry bytes a function of the record alone, so anyone holding the
record can recompute the leaf hash. An entry must fit an entry bundle (65,535 bytes); long
strings (and, as a last resort, the whole record) move to content-addressed files
blobs/sha256/<hex>, replaced in the record by {"$blob": "sha256:<hex>", "size": n,
"type": "text"|"json"}. The entry commits to each blob's SHA-256, so blobs are as
tamper-evident as the entry.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Callable, Protocol

import rfc8785

from .durable import write_file
from .tiles import MAX_ENTRY_SIZE

MAX_KIND_LENGTH = 64
MIN_BLOB_STRING = 256
"""Strings shorter than this stay inline: moving them would save nearly nothing."""


class RecordError(ValueError):
    """A record cannot be encoded, or an entry is not a well-formed record."""


class BlobSink(Protocol):
    def put(self, data: bytes) -> str: ...


class BlobStore:
    """Content-addressed files under <root>/blobs/sha256/<hex>, written durably."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        algo, _, hexdigest = digest.partition(":")
        if algo != "sha256" or len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest):
            raise RecordError(f"bad blob reference {digest!r}")
        return self.root / "blobs" / "sha256" / hexdigest

    def put(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.path(digest)
        if not path.exists():
            write_file(path, data, self.root / ".tmp")
        return digest

    def get(self, digest: str) -> bytes:
        """The blob, after checking that it still hashes to its name."""
        data = self.path(digest).read_bytes()
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            raise RecordError(f"blob {digest} does not match its hash")
        return data


class HashOnlyBlobs:
    """A sink that names blobs without storing them (to recompute an entry's bytes)."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        self.blobs[digest] = data
        return digest


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical JSON."""
    try:
        return rfc8785.dumps(obj)
    except Exception as exc:  # rfc8785 raises its own error types for NaN, big ints, bad keys
        raise RecordError(f"record is not canonicalisable JSON: {exc}") from exc


def encode_record(kind: str, obj: dict, blobs: BlobSink | None = None, limit: int = MAX_ENTRY_SIZE) -> bytes:
    """The entry bytes for one record; evidence that does not fit goes to `blobs`."""
    if not isinstance(kind, str) or not kind or len(kind) > MAX_KIND_LENGTH:
        raise RecordError(f"record kind must be a non-empty string of at most {MAX_KIND_LENGTH} characters")
    entry = canonical_json({"kind": kind, "record": obj})
    if len(entry) <= limit:
        return entry
    if blobs is None:
        raise RecordError(f"record of {len(entry)} bytes is over the {limit}-byte entry limit and no blob store was given")
    record, refs = _move_strings(obj, len(entry) - limit, blobs)
    entry = canonical_json({"blobs": sorted(set(refs)), "kind": kind, "record": record})
    if len(entry) <= limit:
        return entry
    whole = blobs.put(canonical_json(obj))
    placeholder = {"$blob": whole, "size": len(canonical_json(obj)), "type": "json"}
    entry = canonical_json({"blobs": [whole], "kind": kind, "record": placeholder})
    if len(entry) > limit:
        raise RecordError("record does not fit an entry even as a blob reference")
    return entry


def _move_strings(obj: Any, excess: int, blobs: BlobSink) -> tuple[Any, list[str]]:
    """A copy of obj with its longest strings replaced by blob references until `excess` bytes are saved."""
    found: list[tuple[int, tuple]] = []

    def walk(value: Any, path: tuple) -> None:
        if isinstance(value, str):
            size = len(value.encode("utf-8"))
            if size >= MIN_BLOB_STRING:
                found.append((size, path))
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(v, path + (k,))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, path + (i,))

    walk(obj, ())
    found.sort(key=lambda item: -item[0])
    chosen, saved = [], 0
    for size, path in found:
        if saved > excess:
            break
        chosen.append(path)
        saved += size - 120  # a placeholder costs about 120 bytes
    copy = json.loads(json.dumps(obj))
    refs = []
    for path in chosen:
        parent = copy
        for step in path[:-1]:
            parent = parent[step]
        text = parent[path[-1]]
        data = text.encode("utf-8")
        ref = blobs.put(data)
        refs.append(ref)
        parent[path[-1]] = {"$blob": ref, "size": len(data), "type": "text"}
    return copy, refs


def decode_record(entry: bytes) -> dict:
    """{"kind", "record", "blobs"} of an entry; raises RecordError if it is not a vigiles record."""
    try:
        value = json.loads(entry)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordError("entry is not JSON") from exc
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str) or "record" not in value:
        raise RecordError("entry is not a {kind, record} object")
    extra = set(value) - {"kind", "record", "blobs"}
    if extra:
        raise RecordError(f"entry has unexpected fields {sorted(extra)}")
    refs = value.get("blobs", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise RecordError("entry blobs must be a list of strings")
    return {"kind": value["kind"], "record": value["record"], "blobs": refs}


def expand_record(record: Any, get_blob: Callable[[str], bytes]) -> Any:
    """The record with every blob reference replaced by the blob's content (checked by hash)."""
    if isinstance(record, dict):
        if set(record) == {"$blob", "size", "type"} and isinstance(record["$blob"], str):
            data = get_blob(record["$blob"])
            if "sha256:" + hashlib.sha256(data).hexdigest() != record["$blob"]:
                raise RecordError(f"blob {record['$blob']} does not match its hash")
            if record["type"] == "text":
                return data.decode("utf-8")
            return json.loads(data)
        return {k: expand_record(v, get_blob) for k, v in record.items()}
    if isinstance(record, list):
        return [expand_record(v, get_blob) for v in record]
    return record


def record_matches(entry: bytes, kind: str, obj: dict) -> bool:
    """Whether `entry` is exactly what `encode_record(kind, obj)` gives (blob names included)."""
    try:
        return encode_record(kind, obj, HashOnlyBlobs()) == entry
    except RecordError:
        return False
