"""A full audit of a ledger directory: recompute everything, trust nothing but the log's key.

The audit re-hashes every entry, rebuilds every tile, recomputes the root at the size of
every checkpoint the log ever signed (checkpoints/<size>) and of any checkpoint the
auditor remembers, and checks every signature. A change to an entry, a deleted or
swapped entry, a truncated log, a history rewritten and re-signed, or a checkpoint signed
by another key each produce a message naming the file and the entry concerned.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from .checkpoint import Checkpoint, parse_checkpoint
from .journal import JournalError, read_journal
from .note import InvalidSignatureError, NoteError, UnverifiedNoteError, open_note, parse_vkey, split_note
from .policy import Policy, PolicyError
from .records import BlobStore, RecordError, decode_record
from .tiles import TILE_HEIGHT, TILE_WIDTH, TileError, decode_bundle, encode_index, entries_path, tile_path
from .tree import EMPTY_HASH, HASH_SIZE, leaf_hash, node_hash

MAX_LISTED = 10


class AuditUsageError(ValueError):
    """The audit cannot start: bad verifier key or policy given by the caller."""


@dataclass
class AuditReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    size: int = 0
    entries_checked: int = 0
    checkpoints_checked: int = 0
    pending: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


class _Frontier:
    """The right edge of a tree being built leaf by leaf: roots at any size in O(log n),
    and the hashes that fill each tile level, in order."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, bytes]] = []  # (height, hash), heights strictly decreasing
        self.size = 0

    def push(self, h: bytes, on_node) -> None:
        height = 0
        while self.stack and self.stack[-1][0] == height:
            _, left = self.stack.pop()
            h = node_hash(left, h)
            height += 1
            if height % TILE_HEIGHT == 0:
                on_node(height // TILE_HEIGHT, h)
        self.stack.append((height, h))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_HASH
        h = self.stack[-1][1]
        for _, left in reversed(self.stack[:-1]):
            h = node_hash(left, h)
        return h


def _describe_sigs(note: bytes) -> str:
    try:
        _, sigs = split_note(note)
    except NoteError:
        return "none readable"
    return ", ".join(f"{s.name} (key ID {s.key_id:08x})" for s in sigs) or "none"


def _open_signed(data: bytes, label: str, verifier, origin: str, report: AuditReport) -> Checkpoint | None:
    """The checkpoint in `data` if the log's key signed it; a problem otherwise."""
    try:
        note = open_note(data, [verifier])
        cp = parse_checkpoint(note.text)
    except UnverifiedNoteError:
        report.problems.append(
            f"{label} is not signed by the log key {verifier.name}+{verifier.key_id:08x}: "
            f"its signatures are by {_describe_sigs(data)}")
        return None
    except InvalidSignatureError as exc:
        report.problems.append(f"{label}: the log's signature does not verify ({exc}); its text was altered")
        return None
    except NoteError as exc:
        report.problems.append(f"{label} is malformed: {exc}")
        return None
    if cp.origin != origin:
        report.problems.append(f"{label} is for origin {cp.origin!r}, not {origin!r}")
        return None
    report.checkpoints_checked += 1
    return cp


def verify_log(root: Path | str, vkey: str | None = None, policy: Policy | None = None,
               known: Iterable[bytes] = (), check_records: bool = True) -> AuditReport:
    """Audit the ledger at `root` against the trusted `vkey` (default: the key in log.json)."""
    root = Path(root)
    report = AuditReport()
    problems, notes = report.problems, report.notes
    try:
        config = json.loads((root / "log.json").read_text())
        origin, own_vkey = config["origin"], config["vkey"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        problems.append(f"log.json is missing or unreadable: {exc}")
        return report
    if vkey is None and policy is not None:
        named = [log.verifier.vkey for log in policy.logs if log.verifier.name == origin]
        vkey = named[0] if named else None
    try:
        verifier = parse_vkey(vkey or own_vkey)
    except NoteError as exc:
        if vkey:
            raise AuditUsageError(f"bad verifier key: {exc}") from exc
        problems.append(f"log.json holds a bad verifier key: {exc}")
        return report
    if vkey is None:
        notes.append("no verifier key given: trusting the key in log.json (this checks integrity, not identity)")
    elif own_vkey != verifier.vkey:
        problems.append(f"log.json names the key {own_vkey}, not the trusted key {verifier.vkey}")

    # Checkpoints: the latest, the log's own history, and those the auditor remembers.
    latest_data = _read(root / "checkpoint")
    latest = _open_signed(latest_data, "checkpoint", verifier, origin, report) if latest_data is not None else None
    if latest_data is None:
        problems.append("checkpoint is missing")
    if latest is not None and policy is not None:
        try:
            verdict = policy.evaluate(latest_data, origin)
            if not verdict.satisfied:
                problems.append(f"checkpoint (size {latest.size}): witness {verdict.describe()}")
            else:
                notes.append(f"checkpoint (size {latest.size}): witness {verdict.describe()}")
        except PolicyError as exc:
            problems.append(f"checkpoint (size {latest.size}) fails the policy: {exc}")
    signed: list[tuple[str, Checkpoint]] = []
    if latest is not None:
        signed.append(("checkpoint", latest))
    history_dir = root / "checkpoints"
    names = sorted((p.name for p in history_dir.iterdir()), key=lambda n: (len(n), n)) if history_dir.is_dir() else []
    if not names:
        notes.append("checkpoints/ is empty: there is no history to check the log against")
    for name in names:
        label = f"checkpoints/{name}"
        data = _read(history_dir / name)
        if data is None:
            problems.append(f"{label} cannot be read")
            continue
        cp = _open_signed(data, label, verifier, origin, report)
        if cp is None:
            continue
        if str(cp.size) != name:
            problems.append(f"{label} holds a checkpoint of size {cp.size}")
        signed.append((label, cp))
    for i, data in enumerate(known):
        cp = _open_signed(data, f"remembered checkpoint #{i + 1}", verifier, origin, report)
        if cp is not None:
            signed.append((f"remembered checkpoint #{i + 1} (size {cp.size})", cp))
    by_size: dict[int, tuple[str, Checkpoint]] = {}
    for label, cp in signed:
        other = by_size.get(cp.size)
        if other is not None and other[1].root != cp.root:
            problems.append(f"fork: {other[0]} and {label} are both signed for size {cp.size} with different roots")
        by_size.setdefault(cp.size, (label, cp))
    biggest = max((cp.size for _, cp in signed), default=0)
    size = latest.size if latest is not None else biggest
    report.size = size
    rolled_back = latest is not None and biggest > size
    if rolled_back:
        label = next(lbl for lbl, cp in signed if cp.size == biggest)
        problems.append(f"log truncated or rolled back: {label} was signed for size {biggest}, "
                        f"but the latest checkpoint has size {size}")

    # Entries and tiles, recomputed from scratch up to the largest signed size.
    scan = _scan(root, biggest, {cp.size for _, cp in signed}, report, check_records)
    roots_ok = _compare_roots(signed, scan.roots, report) if scan.complete or scan.roots else True
    if not roots_ok or not scan.complete:
        # The entries disagree with what was signed: name the entries that changed.
        _insert_before_roots(report, scan.entry_problems)
    else:
        # The entries match every signature, so any mismatch is in a derived tile.
        scan.tile_problems.extend(_missing_partials(root, signed))
        problems.extend(_limited(scan.tile_problems, "tile problems"))
    problems.extend(_limited(scan.blob_problems, "blob problems"))
    if scan.not_records:
        notes.append(f"{scan.not_records} entries are not vigiles records")

    # The journal: entries acknowledged after the latest checkpoint.
    try:
        base, pending, _ = read_journal(root / "journal")
        if latest is None or rolled_back:
            pass  # the journal is measured against a checkpoint that is already in doubt
        elif base > size:
            problems.append(f"journal starts at entry {base}, but the latest checkpoint ends at {size}: "
                            f"entries {size}..{base - 1} are missing")
        else:
            report.pending = max(0, base + len(pending) - size)
            if report.pending:
                notes.append(f"{report.pending} entries are acknowledged but not yet in a checkpoint (journal)")
    except JournalError as exc:
        notes.append(f"journal: {exc}")
    return report


def _read(path: Path) -> bytes | None:
    """The file's bytes; None when it is missing or cannot be read (reported as missing)."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def _missing_partials(root: Path, signed: list[tuple[str, Checkpoint]]) -> list[str]:
    """tlog-tiles: the partial tiles and bundles of every checkpointed size must be served
    until the full tile exists."""
    out, seen = [], set()
    for label, cp in sorted(signed, key=lambda item: item[1].size):
        level = 0
        while cp.size >> (TILE_HEIGHT * level):
            width = (cp.size >> (TILE_HEIGHT * level)) & (TILE_WIDTH - 1)
            index = cp.size >> (TILE_HEIGHT * (level + 1))
            paths = [(tile_path(level, index, width), tile_path(level, index))] if width else []
            if level == 0 and width:
                paths.append((entries_path(index, width), entries_path(index)))
            for partial, full in paths:
                if partial not in seen and not (root / partial).is_file() and not (root / full).is_file():
                    out.append(f"{partial} is missing ({label} needs it)")
                seen.add(partial)
            level += 1
    return out


def _limited(items: list[str], what: str) -> list[str]:
    out = items[:MAX_LISTED]
    if len(items) > MAX_LISTED:
        out.append(f"... and {len(items) - MAX_LISTED} more {what}")
    return out


def _insert_before_roots(report: AuditReport, entry_problems: list[str]) -> None:
    """Entry-level findings read best before the root mismatches they cause."""
    items = _limited(entry_problems, "entry problems")
    at = next((i for i, p in enumerate(report.problems) if "do not hash to its signed root" in p or p.startswith("fork:")),
              len(report.problems))
    report.problems[at:at] = items


def _compare_roots(signed: list[tuple[str, Checkpoint]], roots: dict[int, bytes], report: AuditReport) -> bool:
    """Each signed checkpoint against the root recomputed from the entries at its size."""
    ok_sizes, bad = [], []
    for label, cp in sorted(signed, key=lambda item: item[1].size):
        got = roots.get(cp.size)
        if got is None:
            continue
        (ok_sizes if got == cp.root else bad).append((label, cp))
    if not bad:
        return True
    good = {cp.size for _, cp in ok_sizes}
    if any(cp.size > bad[0][1].size for _, cp in ok_sizes):
        label, cp = bad[0]
        later = max(cp2.size for _, cp2 in ok_sizes)
        report.problems.append(
            f"fork: {label} was signed over the first {cp.size} entries with a root they no longer hash to, "
            f"yet the checkpoint of size {later} matches them: the history was rewritten and signed again")
    for label, cp in bad:
        lower = max((s for s in good if s < cp.size), default=0)
        where = f" (the first {lower} entries still match)" if lower else ""
        report.problems.append(
            f"{label} (size {cp.size}): the entries do not hash to its signed root{where}; "
            f"the log was changed after it was signed")
    return False


@dataclass
class _Scan:
    roots: dict[int, bytes] = field(default_factory=dict)
    complete: bool = True
    entry_problems: list[str] = field(default_factory=list)
    tile_problems: list[str] = field(default_factory=list)
    blob_problems: list[str] = field(default_factory=list)
    not_records: int = 0


def _scan(root: Path, size: int, wanted: set[int], report: AuditReport, check_records: bool) -> _Scan:
    """Re-hash entries 0..size-1 from the bundles, compare them with the tiles, keep roots at `wanted` sizes."""
    scan = _Scan()
    if 0 in wanted:
        scan.roots[0] = EMPTY_HASH
    frontier = _Frontier()
    levels: list[list[bytes]] = [[]]
    blobs = BlobStore(root)

    def on_node(level: int, h: bytes) -> None:
        while len(levels) <= level:
            levels.append([])
        levels[level].append(h)
        if len(levels[level]) == TILE_WIDTH:
            _check_tile(root, level, frontier.size >> (TILE_HEIGHT * (level + 1)), levels[level], scan.tile_problems)
            levels[level] = []

    for k in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - k * TILE_WIDTH)
        rel, entries, problem = _read_bundle(root, k, width)
        if entries is None:
            scan.entry_problems.append(f"log truncated: {problem}; entries from {k * TILE_WIDTH} on are gone "
                                       f"(signed checkpoints cover {size})")
            scan.complete = False
            return scan
        tile_rel, tile = _read_level0(root, k, width)
        leaves = [leaf_hash(e) for e in entries]
        if tile is None:
            scan.tile_problems.append(f"{tile_rel} is missing")
        elif leaves != tile:
            _compare_leaves(k, rel, tile_rel, leaves, tile, scan.entry_problems)
            scan.tile_problems.append(f"{tile_rel} does not match the entries of {rel}: the tile was altered")
        if len(entries) != width:
            if not any(rel in p for p in scan.entry_problems):
                scan.entry_problems.append(f"{rel} holds {len(entries)} entries, expected {width}")
            scan.complete = False
            return scan
        for e, h in zip(entries, leaves):
            levels[0].append(h)
            frontier.push(h, on_node)
            if frontier.size in wanted:
                scan.roots[frontier.size] = frontier.root()
            if check_records:
                try:
                    rec = decode_record(e)
                except RecordError:
                    scan.not_records += 1
                else:
                    for ref in rec["blobs"]:
                        try:
                            blobs.get(ref)
                        except (OSError, RecordError) as exc:
                            scan.blob_problems.append(f"entry {frontier.size - 1}: blob {ref} is missing or altered ({exc})")
            if len(levels[0]) == TILE_WIDTH:
                _check_partials(root, 0, (frontier.size - 1) >> TILE_HEIGHT, levels[0], scan.tile_problems)
                levels[0] = []
        report.entries_checked += len(entries)
    if levels[0]:
        _check_partials(root, 0, (size - 1) >> TILE_HEIGHT, levels[0], scan.tile_problems)
    for level in range(1, len(levels)):
        if levels[level]:
            _check_tile(root, level, (size - 1) >> (TILE_HEIGHT * (level + 1)), levels[level], scan.tile_problems)
    return scan


def _read_bundle(root: Path, k: int, width: int) -> tuple[str, list[bytes] | None, str]:
    full = entries_path(k)
    rel = full if width == TILE_WIDTH else entries_path(k, width)
    for candidate in ([rel] if rel == full else [rel, full]):
        data = _read(root / candidate)
        if data is None:
            continue
        try:
            entries = decode_bundle(data)
        except TileError as exc:
            return candidate, None, f"{candidate} is malformed ({exc})"
        if candidate == full and rel != full:
            entries = entries[:width]
        return candidate, entries, ""
    return rel, None, f"{rel} is missing"


def _read_level0(root: Path, k: int, width: int) -> tuple[str, list[bytes] | None]:
    full = tile_path(0, k)
    rel = full if width == TILE_WIDTH else tile_path(0, k, width)
    for candidate in ([rel] if rel == full else [rel, full]):
        data = _read(root / candidate)
        if data is not None:
            hashes = [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
            return candidate, hashes[:width]
    return rel, None


def _compare_leaves(k: int, rel: str, tile_rel: str, leaves: list[bytes], tile: list[bytes],
                    problems: list[str]) -> None:
    """Name the entries of bundle k whose hash is not the tile's: modified, swapped, deleted, inserted."""
    base = k * TILE_WIDTH
    if len(leaves) < len(tile) and leaves == tile[:len(leaves)]:
        problems.append(f"log truncated: {rel} stops after {len(leaves)} entries; entries "
                        f"{base + len(leaves)}..{base + len(tile) - 1} are missing")
        return
    if len(leaves) == len(tile) - 1:
        for g in range(len(tile)):
            if leaves[:g] == tile[:g] and leaves[g:] == tile[g + 1:]:
                problems.append(f"entry {base + g} was deleted from {rel} (the tile {tile_rel} still has its hash)")
                return
    if len(leaves) == len(tile) + 1:
        for g in range(len(leaves)):
            if leaves[:g] + leaves[g + 1:] == tile:
                problems.append(f"an entry was inserted at index {base + g} in {rel} (the tile {tile_rel} has no such hash)")
                return
    bad = [i for i in range(min(len(leaves), len(tile))) if leaves[i] != tile[i]]
    seen = set()
    for i in bad:
        if i in seen:
            continue
        j = next((j for j in bad if j != i and j not in seen and leaves[i] == tile[j] and leaves[j] == tile[i]), None)
        if j is not None:
            seen.update((i, j))
            problems.append(f"entries {base + i} and {base + j} are swapped in {rel}")
        else:
            seen.add(i)
            problems.append(f"entry {base + i} in {rel} was modified: it does not hash to leaf {base + i} of {tile_rel}")
    if len(leaves) != len(tile):
        problems.append(f"{rel} holds {len(leaves)} entries where {tile_rel} has {len(tile)} hashes")


def _check_tile(root: Path, level: int, index: int, hashes: list[bytes], out: list[str]) -> None:
    """A recomputed tile at level >= 1 against its file (or the full file's prefix), then its partials."""
    data = b"".join(hashes)
    width = len(hashes)
    rel = tile_path(level, index, width)
    got = _read(root / rel)
    if got is None and width != TILE_WIDTH:
        full = _read(root / tile_path(level, index))
        got = full[:len(data)] if full is not None else None
    if got is None:
        out.append(f"{rel} is missing")
    elif got != data:
        out.append(f"{rel} does not match the tiles below it: its hashes were altered")
    _check_partials(root, level, index, hashes, out)


def _check_partials(root: Path, level: int, index: int, hashes: list[bytes], out: list[str]) -> None:
    """Every partial version of a tile still on disk must be a prefix of the tile."""
    pdir = root / "tile" / str(level) / (encode_index(index) + ".p")
    try:
        names = os.listdir(pdir)
    except (FileNotFoundError, NotADirectoryError):
        return
    data = b"".join(hashes)
    for name in names:
        if not name.isdigit() or not 0 < int(name) < TILE_WIDTH:
            continue
        w = int(name)
        rel = tile_path(level, index, w)
        if any(p.startswith(rel + " ") for p in out) or w > len(hashes):
            continue  # wider than the audited tree: written for a checkpoint not (yet) signed
        if (root / rel).read_bytes() != data[:w * HASH_SIZE]:
            out.append(f"{rel} does not match the entries: the partial tile was altered")
