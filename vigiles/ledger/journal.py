"""The append journal: where entries become durable before they are acknowledged.

Tiles and bundles are only written at checkpoints; between two checkpoints each batch of
entries is appended here and fdatasync'ed before `Log.append` returns. After a checkpoint
of size S has been made durable, the journal is replaced by an empty one based at S.

    header  "VIGILES-JOURNAL/1\\n" || u64 base index
    record  u32 length || u32 CRC-32 of the entry || entry

A crash can only tear the unsynced tail, so recovery keeps every record up to the first
incomplete or mismatching one and cuts the file there; nothing acknowledged is lost.
"""
from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Sequence

from .durable import write_file

MAGIC = b"VIGILES-JOURNAL/1\n"
HEADER = len(MAGIC) + 8
_RECORD = struct.Struct(">II")


class JournalError(ValueError):
    """The journal file is missing or is not a journal."""


def encode_records(entries: Sequence[bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        out += _RECORD.pack(len(entry), zlib.crc32(entry))
        out += entry
    return bytes(out)


def read_journal(path: Path) -> tuple[int, list[bytes], int]:
    """(base index, intact entries, length of the intact prefix in bytes); does not modify the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise JournalError(f"{path} is missing") from exc
    if len(data) < HEADER or not data.startswith(MAGIC):
        raise JournalError(f"{path} is not a vigiles journal")
    (base,) = struct.unpack_from(">Q", data, len(MAGIC))
    entries, at = [], HEADER
    while at + _RECORD.size <= len(data):
        length, crc = _RECORD.unpack_from(data, at)
        end = at + _RECORD.size + length
        if end > len(data):
            break
        entry = data[at + _RECORD.size:end]
        if zlib.crc32(entry) != crc:
            break
        entries.append(entry)
        at = end
    return base, entries, at


class Journal:
    """An open journal, appended to with one write and one fdatasync per batch."""

    def __init__(self, path: Path, base: int, count: int) -> None:
        self.path = path
        self.base = base
        self.count = count
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    @classmethod
    def open(cls, path: Path) -> tuple["Journal", list[bytes]]:
        """Open for appending, first cutting off a torn tail left by a crash."""
        base, entries, intact = read_journal(path)
        if intact != path.stat().st_size:
            fd = os.open(path, os.O_WRONLY)
            try:
                os.ftruncate(fd, intact)
                os.fsync(fd)
            finally:
                os.close(fd)
        return cls(path, base, len(entries)), entries

    @staticmethod
    def create(path: Path, base: int, entries: Sequence[bytes] = (), tmp_dir: Path | None = None) -> None:
        """Atomically replace the journal by one starting at `base` holding `entries`."""
        data = MAGIC + struct.pack(">Q", base) + encode_records(entries)
        write_file(path, data, tmp_dir or path.parent / ".tmp")

    def append(self, entries: Sequence[bytes]) -> None:
        """Append and make durable: when this returns, the entries survive a crash."""
        data = memoryview(encode_records(entries))
        while data:
            data = data[os.write(self._fd, data):]
        os.fdatasync(self._fd)
        self.count += len(entries)

    def reset(self, base: int, tmp_dir: Path | None = None) -> None:
        """Start over, empty, at `base` (after a checkpoint of size `base` is durable)."""
        Journal.create(self.path, base, (), tmp_dir)
        os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self.base, self.count = base, 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
