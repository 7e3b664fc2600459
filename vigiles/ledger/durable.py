"""Durable file writes: write a temporary file, fsync it, rename it into place, fsync the directory.

A reader (or a restarted writer) sees either the old file or the whole new one, never a
torn one; once the function returns, the new file survives a crash or power loss. New
directories are made durable the same way, by syncing the directory that holds them.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Mapping

TMP_DIR = ".tmp"


def fsync_dir(path: Path | str) -> None:
    """Make the names in a directory (renames, new files, new subdirectories) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def make_dirs(path: Path, dirty: set[Path]) -> None:
    """mkdir -p, adding to `dirty` the parent of every directory created (it must be synced)."""
    missing = []
    while not path.is_dir():
        missing.append(path)
        path = path.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:
            pass
        dirty.add(d.parent)


def write_file(path: Path, data: bytes, tmp_dir: Path, *, mode: int = 0o644, dirty: set[Path] | None = None) -> None:
    """Atomically replace `path` with `data`; the caller syncs the directories in `dirty`.

    When `dirty` is None the directory is synced here, so the write is durable on return.
    """
    own = dirty is None
    dirty = set() if dirty is None else dirty
    make_dirs(path.parent, dirty)
    make_dirs(tmp_dir, dirty)
    tmp = tmp_dir / f"{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dirty.add(path.parent)
    if own:
        sync_dirs(dirty)


def write_files(root: Path, files: Mapping[str, bytes] | Iterable[tuple[str, bytes]], tmp_dir: Path | None = None) -> None:
    """Write many files under `root` atomically each, then sync every directory touched once."""
    tmp_dir = tmp_dir or root / TMP_DIR
    dirty: set[Path] = set()
    items = files.items() if isinstance(files, Mapping) else files
    for rel, data in items:
        write_file(root / rel, data, tmp_dir, dirty=dirty)
    sync_dirs(dirty)


def sync_dirs(dirs: Iterable[Path]) -> None:
    # Deepest first: a new directory's own entries are durable before its name is.
    for d in sorted(set(dirs), key=lambda p: len(p.parts), reverse=True):
        fsync_dir(d)


def clear_tmp(root: Path) -> None:
    """Remove temporary files a crash left behind (they were never renamed into place)."""
    tmp = root / TMP_DIR
    if tmp.is_dir():
        for p in tmp.iterdir():
            try:
                p.unlink()
            except OSError:
                pass
