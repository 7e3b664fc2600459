"""The ledger writer: an append-only, signed, tiled transparency log in one directory.

    log.json                 origin and verifier key (written last by init)
    key                      the log's private key, mode 0600 (only when init generated it)
    policy                   c2sp.org/tlog-policy: this log, its witnesses, the quorum
    journal                  entries acknowledged since the latest checkpoint
    checkpoint               the latest signed (and cosigned) checkpoint
    checkpoints/<size>       every checkpoint the log ever signed
    tile/<L>/<N>[.p/<W>]     c2sp.org/tlog-tiles hash tiles
    tile/entries/<N>[.p/<W>] entry bundles
    blobs/sha256/<hex>       evidence too large for an entry

Durability (see docs/ledger.md): `append` returns only after the entries are fsynced in
the journal; tiles and bundles that became full are then written (temp file, fsync, rename,
fsync dir). `checkpoint` writes the partial tiles and bundles the same way, then the signed
checkpoint, then its copy in checkpoints/, then resets the journal. Opening a log after a
crash rebuilds the tree edge from the partial tiles of the latest checkpoint and replays
the journal, so every acknowledged entry is kept and no torn file is ever visible.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Iterable, Sequence

from .checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from .durable import clear_tmp, write_file, write_files
from .journal import Journal, JournalError
from .note import NoteError, Signature, add_signatures, generate_signer, parse_skey, parse_vkey
from .policy import Policy, PolicyError, parse_policy
from .proof import TlogProof
from .records import BlobStore, encode_record
from .tiles import (MAX_ENTRY_SIZE, TILE_HEIGHT, TILE_WIDTH, TileError, TileStore, encode_bundle, encode_index,
                    entries_path, read_bundle_file, read_tile_file, tile_hash, tile_path)
from .tree import EMPTY_HASH, HASH_SIZE, leaf_hash, node_hash, prove_record, prove_tree, tree_hash

FORMAT = "vigiles-ledger/1"
CONFIG = "log.json"
KEY_ENV = "VIGILES_LEDGER_KEY"
KEY_FILE_ENV = "VIGILES_LEDGER_KEY_FILE"

log = logging.getLogger(__name__)


class LedgerError(Exception):
    """The ledger cannot be created, opened or written."""


class LogLockedError(LedgerError):
    """Another process is writing this ledger."""


def load_signer(root: Path | None, key=None):
    """The log's signing key: `key` (a signer or PRIVATE+KEY string), else $VIGILES_LEDGER_KEY,
    else the file named by $VIGILES_LEDGER_KEY_FILE, else <root>/key; None when there is none."""
    if key is not None and not isinstance(key, str):
        return key
    text = key or os.environ.get(KEY_ENV)
    if not text and os.environ.get(KEY_FILE_ENV):
        text = Path(os.environ[KEY_FILE_ENV]).read_text()
    if not text and root is not None and (root / "key").exists():
        text = (root / "key").read_text()
    if not text:
        return None
    try:
        return parse_skey(text)
    except NoteError as exc:
        raise LedgerError(f"bad log key: {exc}") from exc


def root_of_levels(levels: Sequence[Sequence[bytes]]) -> bytes:
    """The tree root from the rightmost (partial) tile of each level, highest level first.

    Level L's partial tile holds hashes of complete subtrees of 256**L leaves; split each
    into power-of-two runs and the tree is those perfect subtrees, nested to the right.
    """
    nodes = []
    for level in reversed(range(len(levels))):
        hashes, at = levels[level], 0
        for bit in reversed(range(TILE_HEIGHT)):
            if len(hashes) & (1 << bit):
                nodes.append(tile_hash(hashes[at:at + (1 << bit)]))
                at += 1 << bit
    if not nodes:
        return EMPTY_HASH
    h = nodes[-1]
    for left in reversed(nodes[:-1]):
        h = node_hash(left, h)
    return h


class Log:
    """A vigiles ledger directory, opened for writing (the default) or read-only."""

    def __init__(self, root: Path, config: dict, signer, *, readonly: bool,
                 checkpoint_interval: float | None, witness_timeout: float) -> None:
        self.root = root
        self.origin: str = config["origin"]
        self.vkey: str = config["vkey"]
        self.verifier = parse_vkey(self.vkey)
        self.readonly = readonly
        self.checkpoint_interval = checkpoint_interval
        self.witness_timeout = witness_timeout
        self.blobs = BlobStore(root)
        self._signer = signer
        self._mutex = threading.RLock()
        self._lock_fd = -1
        self._journal: Journal | None = None
        self._failed: BaseException | None = None
        self._levels: list[list[bytes]] = []
        self._bundle: list[bytes] = []
        self._size = 0
        self._pending: list[tuple[str, bytes]] = []
        self._completed: list[tuple[str, int]] = []
        self._cp: Checkpoint = Checkpoint(self.origin, 0, EMPTY_HASH)
        self._cp_note = b""
        self._tiles = TileStore(root, 0)
        self._last_checkpoint = time.monotonic()
        self._witness_sizes: dict[str, int] = {}
        self._witness_backoff: dict[str, float] = {}
        self._witness_clients: dict[str, object] = {}
        self.policy: Policy | None = None

    # Creating and opening ----------------------------------------------------------------

    @classmethod
    def init(cls, root: Path | str, origin: str, key=None, *, store_key: bool | None = None, **kw) -> "Log":
        """Create a ledger in `root` (new or empty) and open it for writing.

        Without `key`, a fresh Ed25519 key is generated and kept in <root>/key (mode 0600);
        a key given (object or PRIVATE+KEY string) is not copied into the directory unless
        `store_key` says so.
        """
        root = Path(root)
        if (root / CONFIG).exists():
            raise LedgerError(f"{root} is already a ledger")
        # What an init that crashed before writing log.json leaves may be overwritten.
        leftovers = {".tmp", "key", "policy", "checkpoints", "journal", "checkpoint"}
        if root.exists() and any(p.name not in leftovers for p in root.iterdir()):
            raise LedgerError(f"{root} is not empty")
        signer = load_signer(None, key) if key is not None else generate_signer(origin)
        if store_key is None:
            store_key = key is None
        if signer.name != origin:
            raise LedgerError(f"the key is named {signer.name!r}, but the origin is {origin!r}: they must match")
        if getattr(signer, "alg", 1) != 1:
            raise LedgerError("the log key must be a plain Ed25519 note key")
        root.mkdir(parents=True, exist_ok=True)
        if store_key:
            write_file(root / "key", (signer.skey + "\n").encode(), root / ".tmp", mode=0o600)
        vkey = signer.vkey
        note = sign_checkpoint(Checkpoint(origin, 0, EMPTY_HASH), signer)
        write_files(root, [
            ("policy", f"# c2sp.org/tlog-policy for {origin}\nlog {vkey}\nquorum none\n".encode()),
            ("checkpoints/0", note),
        ])
        Journal.create(root / "journal", 0)
        write_file(root / "checkpoint", note, root / ".tmp")
        config = {"format": FORMAT, "origin": origin, "vkey": vkey}
        write_file(root / CONFIG, (json.dumps(config, indent=2) + "\n").encode(), root / ".tmp")
        return cls.open(root, key=signer, **kw)

    @classmethod
    def open(cls, root: Path | str, key=None, *, readonly: bool = False, checkpoint_interval: float | None = 1.0,
             witness_timeout: float = 5.0) -> "Log":
        """Open a ledger; for writing, take the writer lock and recover from any crash.

        `checkpoint_interval`: sign a checkpoint from within `append` once this many
        seconds have passed since the last one (None: only when asked, and at close).
        """
        root = Path(root)
        try:
            config = json.loads((root / CONFIG).read_text())
        except FileNotFoundError as exc:
            raise LedgerError(f"{root} is not a vigiles ledger (no {CONFIG})") from exc
        except ValueError as exc:
            raise LedgerError(f"{root / CONFIG} is not valid JSON") from exc
        if config.get("format") != FORMAT:
            raise LedgerError(f"{root / CONFIG}: unknown format {config.get('format')!r}")
        signer = None if readonly else load_signer(root, key)
        self = cls(root, config, signer, readonly=readonly, checkpoint_interval=checkpoint_interval,
                   witness_timeout=witness_timeout)
        if signer is not None and signer.vkey != self.vkey:
            raise LedgerError("the signing key does not match the log's verifier key")
        try:
            self._load_policy()
            if readonly:
                self._load_checkpoint()
            else:
                self._take_lock()
                self._recover()
        except BaseException:
            self._release()
            raise
        return self

    @classmethod
    def open_or_init(cls, root: Path | str, origin: str, key=None, **kw) -> "Log":
        """Open the ledger at `root`, creating it (with `origin`) when there is none yet."""
        if (Path(root) / CONFIG).exists():
            lg = cls.open(root, key=key, **kw)
            if lg.origin != origin:
                lg.close()
                raise LedgerError(f"{root} is the ledger of {lg.origin!r}, not {origin!r}")
            return lg
        return cls.init(root, origin, key=key, **kw)

    def _load_policy(self) -> None:
        path = self.root / "policy"
        if path.exists():
            try:
                self.policy = parse_policy(path.read_bytes())
            except PolicyError as exc:
                raise LedgerError(f"{path}: {exc}") from exc

    def _take_lock(self) -> None:
        self._lock_fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LogLockedError(f"{self.root} is being written by another process") from exc

    def _release(self) -> None:
        for client in self._witness_clients.values():
            client.close()
        self._witness_clients = {}
        if self._journal is not None:
            self._journal.close()
            self._journal = None
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    def _load_checkpoint(self) -> None:
        try:
            note = (self.root / "checkpoint").read_bytes()
            cp, _ = open_checkpoint(note, [self.verifier], self.origin)
        except FileNotFoundError as exc:
            raise LedgerError(f"{self.root}/checkpoint is missing") from exc
        except NoteError as exc:
            raise LedgerError(f"{self.root}/checkpoint does not verify with the log's key: {exc}") from exc
        self._cp, self._cp_note = cp, note
        self._size = cp.size
        self._tiles = TileStore(self.root, cp.size)

    def _recover(self) -> None:
        """Rebuild the writer's state: the latest checkpoint's tree edge, then the journal."""
        clear_tmp(self.root)
        self._load_checkpoint()
        size = self._cp.size
        history = self.root / "checkpoints" / str(size)
        if not history.exists():
            write_file(history, self._cp_note, self.root / ".tmp")
        levels, level = [], 0
        try:
            while size >> (TILE_HEIGHT * level):
                width = (size >> (TILE_HEIGHT * level)) & (TILE_WIDTH - 1)
                hashes: list[bytes] = []
                if width:
                    data = read_tile_file(self.root, level, size >> (TILE_HEIGHT * (level + 1)), width)
                    hashes = [data[i:i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
                levels.append(hashes)
                level += 1
            bundle = read_bundle_file(self.root, size >> TILE_HEIGHT, size & (TILE_WIDTH - 1)) \
                if size & (TILE_WIDTH - 1) else []
        except TileError as exc:
            raise LedgerError(f"cannot recover the tree at checkpoint size {size}: {exc}") from exc
        if root_of_levels(levels) != self._cp.root:
            raise LedgerError(f"the tiles at size {size} do not match the signed checkpoint; run `vigiles ledger verify`")
        self._levels, self._bundle = levels, bundle
        try:
            journal, entries = Journal.open(self.root / "journal")
        except JournalError as exc:
            raise LedgerError(str(exc)) from exc
        if journal.base > size:
            journal.close()
            raise LedgerError(f"the journal starts at {journal.base}, after the checkpoint size {size}: entries are missing")
        skip = min(size - journal.base, len(entries))
        replay = entries[skip:]
        if journal.base != size:
            # A crash came between a checkpoint and the journal reset: drop what is now in tiles.
            journal.close()
            Journal.create(self.root / "journal", size, replay)
            journal, _ = Journal.open(self.root / "journal")
        self._journal = journal
        for entry in replay:
            self._add(entry)
        self._flush_full()
        if replay:
            log.info("ledger %s: recovered %d journaled entries after checkpoint %d", self.root, len(replay), size)

    # Appending -----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Entries acknowledged so far (checkpointed or not)."""
        return self._size

    @property
    def checkpoint_size(self) -> int:
        return self._cp.size

    def append(self, entry: bytes) -> int:
        """Append one entry; returns its index once it is durable."""
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[bytes]) -> list[int]:
        """Append a batch with one fsync; returns the indexes once all are durable."""
        entries = [bytes(e) for e in entries]
        for e in entries:
            if len(e) > MAX_ENTRY_SIZE:
                raise LedgerError(f"entry of {len(e)} bytes is over the {MAX_ENTRY_SIZE}-byte limit")
        with self._mutex:
            self._check_writable()
            if not entries:
                return []
            first = self._size
            try:
                self._journal.append(entries)
            except BaseException as exc:
                self._failed = exc
                raise
            try:
                for e in entries:
                    self._add(e)
                self._flush_full()
            except BaseException as exc:
                self._failed = exc  # the entries are journaled: reopening recovers them
                raise
            if self.checkpoint_interval is not None and \
                    time.monotonic() - self._last_checkpoint >= self.checkpoint_interval and self._signer is not None:
                self._checkpoint_locked()
            return list(range(first, first + len(entries)))

    def append_record(self, kind: str, record: dict) -> int:
        """Append one record (see records.encode_record); returns its index once durable."""
        return self.append_records([(kind, record)])[0]

    def append_records(self, items: Iterable[tuple[str, dict]]) -> list[int]:
        """Append records as one durable batch; evidence too large for an entry goes to blobs first."""
        return self.append_many([encode_record(kind, record, self.blobs) for kind, record in items])

    def _check_writable(self) -> None:
        if self.readonly:
            raise LedgerError("the ledger is open read-only")
        if self._journal is None:
            raise LedgerError("the ledger is closed")
        if self._failed is not None:
            raise LedgerError(f"an earlier write failed ({self._failed}); reopen the ledger to recover")

    def _add(self, entry: bytes) -> None:
        """Put entry number `self._size` into the in-memory edge of the tree."""
        i = self._size
        self._bundle.append(entry)
        if len(self._bundle) == TILE_WIDTH:
            self._pending.append((entries_path(i >> TILE_HEIGHT), encode_bundle(self._bundle)))
            self._completed.append(("entries", i >> TILE_HEIGHT))
            self._bundle = []
        h, level = leaf_hash(entry), 0
        while True:
            if level == len(self._levels):
                self._levels.append([])
            hashes = self._levels[level]
            hashes.append(h)
            if len(hashes) < TILE_WIDTH:
                break
            index = i >> (TILE_HEIGHT * (level + 1))
            self._pending.append((tile_path(level, index), b"".join(hashes)))
            self._completed.append((str(level), index))
            h = tile_hash(hashes)
            self._levels[level] = []
            level += 1
        self._size = i + 1

    def _flush_full(self) -> None:
        """Write the tiles and bundles that became full (they never change again), so that a
        checkpoint only has the partial ones left to write and its latency stays flat."""
        if self._pending:
            write_files(self.root, self._pending)
            self._pending = []

    # Checkpoints ---------------------------------------------------------------------------

    def checkpoint(self) -> bytes:
        """Make every acknowledged entry part of a signed checkpoint (cosigned by the policy's
        witnesses that have URLs); returns the checkpoint note."""
        with self._mutex:
            self._check_writable()
            return self._checkpoint_locked()

    def _checkpoint_locked(self) -> bytes:
        self._last_checkpoint = time.monotonic()
        size = self._size
        if size == self._cp.size:
            return self._cp_note
        if self._signer is None:
            raise LedgerError("no signing key: give --key-file, set VIGILES_LEDGER_KEY, or keep <ledger>/key")
        try:
            files = list(self._pending)
            for level, hashes in enumerate(self._levels):
                if hashes:
                    files.append((tile_path(level, size >> (TILE_HEIGHT * (level + 1)), len(hashes)), b"".join(hashes)))
            if self._bundle:
                files.append((entries_path(size >> TILE_HEIGHT, len(self._bundle)), encode_bundle(self._bundle)))
            write_files(self.root, files)
            cp = Checkpoint(self.origin, size, root_of_levels(self._levels))
            tiles = TileStore(self.root, size)
            note = self._cosign(sign_checkpoint(cp, self._signer), cp, tiles)
            # The latest checkpoint is the commit point; the history copy follows (and is
            # restored on open if a crash comes in between), so history never runs ahead.
            write_file(self.root / "checkpoint", note, self.root / ".tmp")
            write_file(self.root / "checkpoints" / str(size), note, self.root / ".tmp")
            self._journal.reset(size)
        except BaseException as exc:
            self._failed = exc
            raise
        for kind, index in self._completed:
            shutil.rmtree(self.root / "tile" / kind / (encode_index(index) + ".p"), ignore_errors=True)
        self._pending, self._completed = [], []
        self._cp, self._cp_note, self._tiles = cp, note, tiles
        return note

    def _cosign(self, note: bytes, cp: Checkpoint, tiles: TileStore) -> bytes:
        """Ask each witness of the policy that has a URL to cosign (tlog-witness add-checkpoint)."""
        if self.policy is None:
            return note
        from .witness import WitnessClient, WitnessError
        sigs: list[Signature] = []
        now = time.monotonic()
        for w in self.policy.witnesses.values():
            if not w.url or self._witness_backoff.get(w.name, 0) > now:
                continue
            client = self._witness_clients.get(w.name)
            if client is None or client.url != w.url.rstrip("/") or client.verifier != w.verifier:
                client = self._witness_clients[w.name] = WitnessClient(w.url, w.verifier, timeout=self.witness_timeout)
            try:
                got, size = client.submit(note, cp.size, self._witness_sizes.get(w.name, self._cp.size),
                                          lambda old: prove_tree(cp.size, old, tiles.read_hashes))
            except WitnessError as exc:
                log.warning("witness %s (%s) did not cosign %s: %s", w.name, w.url, cp, exc)
                self._witness_backoff[w.name] = now + 30
                continue
            self._witness_sizes[w.name] = size
            sigs.extend(got)
        return add_signatures(note, sigs) if sigs else note

    def maybe_checkpoint(self) -> bytes | None:
        """Checkpoint if entries are pending and `checkpoint_interval` has passed; for callers
        that stop appending for a while (appends check this themselves)."""
        with self._mutex:
            if self.readonly or self._signer is None or self._size == self._cp.size or \
                    self.checkpoint_interval is None or \
                    time.monotonic() - self._last_checkpoint < self.checkpoint_interval:
                return None
            self._check_writable()
            return self._checkpoint_locked()

    def latest_checkpoint(self) -> bytes:
        """The latest signed checkpoint note."""
        return self._cp_note

    @property
    def checkpoint_info(self) -> Checkpoint:
        return self._cp

    # Reading and proving -------------------------------------------------------------------

    def entry(self, index: int) -> bytes:
        """Entry `index` (checkpointed or still only journaled)."""
        with self._mutex:
            if index < 0 or index >= self._size:
                raise IndexError(f"no entry {index} in a log of {self._size}")
            bundle = index >> TILE_HEIGHT
            if index < self._cp.size:
                try:
                    return self._tiles.read_entries(bundle)[index & (TILE_WIDTH - 1)]
                except TileError as exc:
                    raise LedgerError(str(exc)) from exc
            if bundle == self._size >> TILE_HEIGHT:
                return self._bundle[index & (TILE_WIDTH - 1)]
            try:
                return read_bundle_file(self.root, bundle, TILE_WIDTH)[index & (TILE_WIDTH - 1)]
            except TileError as exc:
                raise LedgerError(str(exc)) from exc

    def root_hash(self, size: int | None = None) -> bytes:
        """The root of the first `size` entries (at most the checkpoint size)."""
        size = self._cp.size if size is None else size
        self._check_provable(size)
        return tree_hash(size, self._tiles.read_hashes)

    def prove_inclusion(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 inclusion proof of entry `index` in the tree of `size` (default: the checkpoint)."""
        size = self._cp.size if size is None else size
        self._check_provable(size)
        return prove_record(size, index, self._tiles.read_hashes)

    def prove_consistency(self, old: int, size: int | None = None) -> list[bytes]:
        """RFC 6962 consistency proof from the tree of `old` to the tree of `size` (default: the checkpoint)."""
        size = self._cp.size if size is None else size
        self._check_provable(size)
        return prove_tree(size, old, self._tiles.read_hashes)

    def _check_provable(self, size: int) -> None:
        if not 0 <= size <= self._cp.size:
            raise LedgerError(f"size {size} is beyond the latest checkpoint ({self._cp.size}); checkpoint first")

    def tlog_proof(self, index: int, extra: bytes | None = None) -> bytes:
        """A c2sp.org/tlog-proof@v1 document for entry `index` against the latest checkpoint."""
        with self._mutex:
            if index >= self._cp.size and not self.readonly and index < self._size:
                self._checkpoint_locked()
            path = self.prove_inclusion(index)
            return TlogProof(index, tuple(path), self._cp_note, extra).encode()

    # Closing -------------------------------------------------------------------------------

    def close(self) -> None:
        """Checkpoint what is pending (when a key is at hand) and release the writer lock."""
        with self._mutex:
            try:
                if not self.readonly and self._journal is not None and self._failed is None \
                        and self._size > self._cp.size and self._signer is not None:
                    self._checkpoint_locked()
            finally:
                self._release()

    def __enter__(self) -> "Log":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
