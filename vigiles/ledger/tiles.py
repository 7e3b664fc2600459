"""The c2sp.org/tlog-tiles layout: tile and entry-bundle paths, tile hashes, bundles, reading tiles.

A tile at level L holds up to 256 consecutive hashes of subtrees of height 8L; a full tile
at level L hashes to one entry of level L+1. Paths, widths and the bundle encoding follow
the spec exactly, so any tlog-tiles client (Go's sumdb/tlog, Tessera, Sunlight) can read a
vigiles ledger directory served as static files.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .tree import HASH_SIZE, node_hash, split_stored_hash_index

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY_SIZE = 0xFFFF
"""Entry bundles prefix each entry with a big-endian uint16 length (tlog-tiles, Log entries)."""


class TileError(ValueError):
    """A tile or bundle is malformed, missing, or not the one asked for."""


@dataclass(frozen=True)
class Tile:
    """Tile `index` at `level`, holding `width` hashes (256 when full), in a tree of `height`-high tiles."""

    level: int
    index: int
    width: int = TILE_WIDTH
    height: int = TILE_HEIGHT

    @property
    def full(self) -> bool:
        return self.width == 1 << self.height

    def path(self) -> str:
        return tile_path(self.level, self.index, self.width, self.height)


# Paths ---------------------------------------------------------------------------------------

def encode_index(n: int) -> str:
    """N as zero-padded 3-digit path elements, all but the last prefixed with x: 1234067 -> x001/x234/067."""
    if n < 0:
        raise TileError(f"negative tile index {n}")
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n > 0:
        parts.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(parts))


def decode_index(path: str) -> int:
    """The inverse of `encode_index`; rejects any other spelling so one index has one path."""
    parts = path.split("/")
    if not all(re.fullmatch(r"x\d{3}", p) for p in parts[:-1]) or not re.fullmatch(r"\d{3}", parts[-1]):
        raise TileError(f"malformed tile index {path!r}")
    if len(parts) > 1 and parts[0] == "x000":
        raise TileError(f"tile index {path!r} has a leading zero element")
    n = 0
    for p in parts:
        n = n * 1000 + int(p.lstrip("x"))
    return n


def tile_path(level: int, index: int, width: int = TILE_WIDTH, height: int = TILE_HEIGHT) -> str:
    """tile/<L>/<N>[.p/<W>] (the .p suffix only for partial tiles)."""
    if not 0 <= level <= 63 or not 1 <= width <= 1 << height:
        raise TileError(f"no tile at level {level} with width {width}")
    suffix = "" if width == 1 << height else f".p/{width}"
    return f"tile/{level}/{encode_index(index)}{suffix}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """tile/entries/<N>[.p/<W>]: the entry bundle for level-0 tile N."""
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"no entry bundle with width {width}")
    suffix = "" if width == TILE_WIDTH else f".p/{width}"
    return f"tile/entries/{encode_index(index)}{suffix}"


def parse_tile_path(path: str) -> tuple[str, int, int]:
    """('entries' or the level as text, index, width) from a path made by `tile_path`/`entries_path`."""
    m = re.fullmatch(r"tile/(entries|0|[1-9]\d?)/((?:x\d{3}/)*\d{3})(?:\.p/([1-9]\d{0,2}))?", path)
    if not m:
        raise TileError(f"not a tile path: {path!r}")
    width = int(m.group(3)) if m.group(3) else TILE_WIDTH
    if (m.group(3) and width >= TILE_WIDTH) or (m.group(1) != "entries" and int(m.group(1)) > 63):
        raise TileError(f"not a tile path: {path!r}")
    return m.group(1), decode_index(m.group(2)), width


# Which tiles a tree has ----------------------------------------------------------------------

def partial_width(size: int, level: int, height: int = TILE_HEIGHT) -> int:
    """floor(size / 256**level) mod 256: the width of the rightmost tile at `level` (0 = none)."""
    return (size >> (height * level)) & ((1 << height) - 1)


def tiles_for_size(size: int, height: int = TILE_HEIGHT) -> list[Tile]:
    """Every tile of a tree of `size` leaves: the full ones and the rightmost partial one per level."""
    out = []
    level = 0
    while size >> (height * level):
        hashes = size >> (height * level)
        out.extend(Tile(level, n, 1 << height, height) for n in range(hashes >> height))
        if hashes & ((1 << height) - 1):
            out.append(Tile(level, hashes >> height, hashes & ((1 << height) - 1), height))
        level += 1
    return out


def new_tiles(old: int, new: int, height: int = TILE_HEIGHT) -> list[Tile]:
    """The tiles that a tree of `new` leaves has and one of `old` leaves does not (what to write)."""
    have = set(tiles_for_size(old, height))
    return [t for t in tiles_for_size(new, height) if t not in have]


def tile_for_index(stored_index: int, height: int = TILE_HEIGHT) -> tuple[Tile, int, int]:
    """The narrowest tile holding stored hash `stored_index`, and the byte range of its hashes there.

    A stored hash at a level inside a tile (not a multiple of the tile height) is not in any
    tile itself: it is the hash of a run of 2**k consecutive tile hashes, which is the range.
    """
    level, n = split_stored_hash_index(stored_index)
    tile_level = level // height
    within = level - tile_level * height
    index = (n << within) >> height
    n -= (index << height) >> within
    start, end = (n << within), ((n + 1) << within)
    return Tile(tile_level, index, end, height), start * HASH_SIZE, end * HASH_SIZE


def tile_hash(data: bytes | Sequence[bytes]) -> bytes:
    """MTH of a power-of-two run of hashes (bytes of concatenated hashes, or a list of them)."""
    hashes = data if not isinstance(data, (bytes, bytearray, memoryview)) else [
        bytes(data[i:i + HASH_SIZE]) for i in range(0, len(data), HASH_SIZE)]
    hashes = list(hashes)
    if not hashes or len(hashes) & (len(hashes) - 1):
        raise TileError(f"cannot hash {len(hashes)} tile hashes as one subtree")
    while len(hashes) > 1:
        hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def hash_from_tile(tile: Tile, data: bytes, stored_index: int) -> bytes:
    """Stored hash `stored_index`, computed from the contents of `tile`."""
    want, start, end = tile_for_index(stored_index, tile.height)
    if (want.level, want.index) != (tile.level, tile.index) or tile.width < want.width:
        raise TileError(f"stored hash {stored_index} is in {want}, not {tile}")
    if len(data) < tile.width * HASH_SIZE:
        raise TileError(f"{tile.path()} holds {len(data) // HASH_SIZE} hashes, expected {tile.width}")
    return tile_hash(data[start:end])


# Entry bundles -------------------------------------------------------------------------------

def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """Entries as big-endian uint16 length-prefixed records (tlog-tiles, Log entries)."""
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise TileError(f"entry of {len(entry)} bytes is over the {MAX_ENTRY_SIZE}-byte limit of entry bundles")
        out += struct.pack(">H", len(entry))
        out += entry
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    """The entries of a bundle; any trailing or missing byte is an error."""
    out, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileError(f"entry bundle ends inside a length prefix at byte {at}")
        (n,) = struct.unpack_from(">H", data, at)
        at += 2
        if at + n > len(data):
            raise TileError(f"entry bundle ends inside an entry at byte {at}")
        out.append(bytes(data[at:at + n]))
        at += n
    return out


# Reading tiles from a directory --------------------------------------------------------------

class TileStore:
    """Reads the tiles of one tree size from a tlog-tiles directory, with a small cache.

    Full tiles are preferred; a partial tile (the only kind a checkpoint's right edge has)
    may be replaced by a prefix of the full tile once that exists, as tlog-tiles allows.
    """

    def __init__(self, root: Path | str, size: int, cache: int = 64) -> None:
        self.root = Path(root)
        self.size = size
        self._cache: dict[tuple[int, int], bytes] = {}
        self._cache_max = cache
        self._hashes: dict[int, bytes] = {}  # stored hashes already computed (tiles never change)

    def tile_width(self, level: int, index: int) -> int:
        """How wide tile (level, index) is in this tree (0 if it does not exist)."""
        hashes = self.size >> (TILE_HEIGHT * level)
        if (index + 1) << TILE_HEIGHT <= hashes:
            return TILE_WIDTH
        if index == hashes >> TILE_HEIGHT:
            return hashes & (TILE_WIDTH - 1)
        return 0

    def read_tile(self, level: int, index: int) -> bytes:
        key = (level, index)
        data = self._cache.get(key)
        if data is None:
            width = self.tile_width(level, index)
            if width == 0:
                raise TileError(f"tile {level}/{index} is not part of a tree of size {self.size}")
            data = read_tile_file(self.root, level, index, width)
            if len(self._cache) >= self._cache_max:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = data
        return data

    def read_hashes(self, indexes: Sequence[int]) -> list[bytes]:
        """A `tree.HashReader` over the tiles of this tree."""
        out = []
        for stored_index in indexes:
            h = self._hashes.get(stored_index)
            if h is None:
                tile, start, end = tile_for_index(stored_index)
                data = self.read_tile(tile.level, tile.index)
                if len(data) < end:
                    raise TileError(f"stored hash {stored_index} is beyond tree size {self.size}")
                h = tile_hash(data[start:end])
                if len(self._hashes) >= 1 << 16:
                    self._hashes.clear()
                self._hashes[stored_index] = h
            out.append(h)
        return out

    def read_entries(self, index: int) -> list[bytes]:
        """The entries of bundle `index` in this tree."""
        width = self.tile_width(0, index)
        if width == 0:
            raise TileError(f"entry bundle {index} is not part of a tree of size {self.size}")
        return read_bundle_file(self.root, index, width)


def read_tile_file(root: Path, level: int, index: int, width: int) -> bytes:
    """The `width` hashes of tile (level, index): the partial file, or a prefix of the full one."""
    paths = [tile_path(level, index, width)]
    if width != TILE_WIDTH:
        paths.append(tile_path(level, index))
    for rel in paths:
        try:
            data = (root / rel).read_bytes()
        except FileNotFoundError:
            continue
        if len(data) < width * HASH_SIZE or (rel == paths[0] and len(data) != width * HASH_SIZE):
            raise TileError(f"{rel} holds {len(data)} bytes, expected {width * HASH_SIZE}")
        return data[:width * HASH_SIZE]
    raise TileError(f"{paths[0]} is missing")


def read_bundle_file(root: Path, index: int, width: int) -> list[bytes]:
    """The first `width` entries of bundle `index`: the partial file, or a prefix of the full one."""
    paths = [entries_path(index, width)]
    if width != TILE_WIDTH:
        paths.append(entries_path(index))
    for rel in paths:
        try:
            data = (root / rel).read_bytes()
        except FileNotFoundError:
            continue
        entries = decode_bundle(data)
        if len(entries) < width or (rel == paths[0] and len(entries) != width):
            raise TileError(f"{rel} holds {len(entries)} entries, expected {width}")
        return entries[:width]
    raise TileError(f"{paths[0]} is missing")
