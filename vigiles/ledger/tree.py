"""RFC 6962 Merkle trees: hashing, stored-hash layout, inclusion and consistency proofs.

The log's hashes are kept in the "stored hash" order of Go's golang.org/x/mod/sumdb/tlog:
after leaf n come the hashes of every subtree that leaf completes, so the hashes of a tree
only ever grow at the end. Proofs are produced by reading stored hashes through a
`HashReader` (memory, or tiles on disk) and checked with the iterative algorithms of
RFC 9162 sections 2.1.3.2 and 2.1.4.2, a different route to the same answer, so the two
halves test each other.
"""
from __future__ import annotations

import hashlib
from typing import Callable, Sequence

HASH_SIZE = 32
EMPTY_HASH = hashlib.sha256(b"").digest()
"""The root of the empty tree: the hash of the empty string (RFC 6962 section 2.1)."""

HashReader = Callable[[Sequence[int]], "list[bytes]"]
"""Returns the stored hashes at the given stored-hash indexes, in the order asked."""


class ProofError(ValueError):
    """A proof does not verify, or cannot be made for the sizes asked."""


_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """MTH of one entry: SHA-256(0x00 || data), RFC 6962 section 2.1."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """MTH of an inner node: SHA-256(0x01 || left || right), RFC 6962 section 2.1."""
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2): RFC 6962's k."""
    return 1 << ((n - 1).bit_length() - 1)


# Stored hash layout ------------------------------------------------------------------------

def stored_hash_index(level: int, n: int) -> int:
    """Where the n-th hash at `level` (level 0 = leaves) sits in the stored-hash sequence.

    The n-th hash at level L is written right after the (2n+1)-th hash at level L-1, so it
    follows leaf m = (n+1)*2**L - 1; leaf m itself sits after m + m/2 + m/4 + ... hashes,
    which is 2m - popcount(m).
    """
    m = ((n + 1) << level) - 1
    return 2 * m - m.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """The inverse of `stored_hash_index`: (level, n)."""
    # Leaf n sits at index < 2n, so it is at least index/2; walk forward from there. Each
    # leaf n brings 1 + trailing_ones(n) hashes: itself and the subtrees it completes.
    n = index // 2
    start = stored_hash_index(0, n)
    while True:
        following = start + 1 + _trailing_ones(n)
        if index < following:
            level = index - start
            return level, n >> level
        n += 1
        start = following


def _trailing_ones(n: int) -> int:
    return ((n + 1) & -(n + 1)).bit_length() - 1


def stored_hash_count(size: int) -> int:
    """How many stored hashes a tree of `size` leaves has."""
    if size == 0:
        return 0
    count = stored_hash_index(0, size - 1) + 1
    last = size - 1
    while last & 1:
        count += 1
        last >>= 1
    return count


def stored_hashes(n: int, data: bytes, read: HashReader) -> list[bytes]:
    """The hashes to append to storage when entry `n` (holding `data`) joins a tree of n leaves."""
    return stored_hashes_for_leaf_hash(n, leaf_hash(data), read)


def stored_hashes_for_leaf_hash(n: int, h: bytes, read: HashReader) -> list[bytes]:
    """Like `stored_hashes`, given the leaf hash: the leaf, then each subtree it completes."""
    completes = _trailing_ones(n)
    # The left siblings of those subtrees, smallest level first.
    siblings = read([stored_hash_index(level, (n >> level) - 1) for level in range(completes)])
    out = [h]
    for sibling in siblings:
        h = node_hash(sibling, h)
        out.append(h)
    return out


# Reading subtree hashes --------------------------------------------------------------------

def _perfect_subtrees(lo: int, hi: int) -> list[int]:
    """Stored indexes of the perfect subtrees that make up [lo, hi), left to right.

    RFC 6962 only ever asks for ranges whose start is aligned to the largest power of two
    that fits, so the greedy split is exact.
    """
    out = []
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        while lo & ((1 << level) - 1):
            level -= 1
        out.append(stored_hash_index(level, lo >> level))
        lo += 1 << level
    return out


def _fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of consecutive perfect subtrees of decreasing size: they nest to the right."""
    h = hashes[-1]
    for left in reversed(hashes[:-1]):
        h = node_hash(left, h)
    return h


def _range_hashes(ranges: list[tuple[int, int]], read: HashReader) -> list[bytes]:
    """MTH(D[lo:hi]) for each range, with one call to `read`."""
    parts = [_perfect_subtrees(lo, hi) for lo, hi in ranges]
    flat = read([i for part in parts for i in part])
    out, at = [], 0
    for part in parts:
        out.append(_fold(flat[at:at + len(part)]))
        at += len(part)
    return out


def tree_hash(size: int, read: HashReader) -> bytes:
    """The root hash of the first `size` leaves."""
    if size == 0:
        return EMPTY_HASH
    return _range_hashes([(0, size)], read)[0]


# Inclusion proofs (RFC 6962 section 2.1.1, PATH) -------------------------------------------

def _path_ranges(m: int, lo: int, hi: int, out: list[tuple[int, int]]) -> None:
    """The ranges whose hashes make PATH(m, D[lo:hi]), leaf's sibling first."""
    if hi - lo <= 1:
        return
    k = _split(hi - lo)
    if m < lo + k:
        _path_ranges(m, lo, lo + k, out)
        out.append((lo + k, hi))
    else:
        _path_ranges(m, lo + k, hi, out)
        out.append((lo, lo + k))


def prove_record(size: int, index: int, read: HashReader) -> list[bytes]:
    """The inclusion proof of leaf `index` in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    ranges: list[tuple[int, int]] = []
    _path_ranges(index, 0, size, ranges)
    return _range_hashes(ranges, read)


def inclusion_proof_length(index: int, size: int) -> int:
    """How many hashes the inclusion proof of `index` in a tree of `size` has.

    Below the level where the paths to `index` and to the last leaf part, every level
    contributes a sibling; above it, only the levels where `index` is a right child do.
    """
    inner = (index ^ (size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


def check_record(proof: Sequence[bytes], size: int, root: bytes, index: int, leaf: bytes) -> None:
    """Raise ProofError unless `proof` shows leaf hash `leaf` at `index` under `root` (RFC 9162 2.1.3.2)."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    if len(proof) != inclusion_proof_length(index, size):
        raise ProofError(f"an inclusion proof for index {index} in size {size} has "
                         f"{inclusion_proof_length(index, size)} hashes, not {len(proof)}")
    fn, sn, r = index, size - 1, leaf
    sha = _sha256
    for p in proof:
        if len(p) != HASH_SIZE:
            raise ProofError("inclusion proof has the wrong shape")
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = sha(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root")


# Consistency proofs (RFC 6962 section 2.1.2, SUBPROOF) -------------------------------------

def _consistency_ranges(m: int, lo: int, hi: int, whole: bool, out: list[tuple[int, int]]) -> None:
    """The ranges whose hashes make SUBPROOF(m - lo, D[lo:hi], whole)."""
    if m == hi:
        if not whole:
            out.append((lo, hi))
        return
    k = _split(hi - lo)
    if m <= lo + k:
        _consistency_ranges(m, lo, lo + k, whole, out)
        out.append((lo + k, hi))
    else:
        _consistency_ranges(m, lo + k, hi, False, out)
        out.append((lo, lo + k))


def prove_tree(size: int, old: int, read: HashReader) -> list[bytes]:
    """The consistency proof from the tree of `old` leaves to the tree of `size` leaves.

    Empty when old is 0 or equal to size: the empty tree is a prefix of every tree, and a
    tree is consistent with itself when the roots match.
    """
    if not 0 <= old <= size:
        raise ProofError(f"cannot prove size {old} against the smaller size {size}")
    if old == 0 or old == size:
        return []
    ranges: list[tuple[int, int]] = []
    _consistency_ranges(old, 0, size, True, ranges)
    return _range_hashes(ranges, read)


def consistency_proof_length(old: int, size: int) -> int:
    """How many hashes the consistency proof from `old` to `size` has (0 < old < size).

    It is the inclusion proof of leaf old-1, less the levels inside the perfect subtree
    that ends at old (its root stands for them), plus that root unless old is a power of two.
    """
    shift = (old & -old).bit_length() - 1
    index = old - 1
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return (0 if old == 1 << shift else 1) + inner - shift + border


def check_tree(proof: Sequence[bytes], size: int, root: bytes, old: int, old_root: bytes) -> None:
    """Raise ProofError unless `proof` shows tree (old, old_root) is a prefix of (size, root) (RFC 9162 2.1.4.2)."""
    if not 0 <= old <= size:
        raise ProofError(f"old size {old} is larger than size {size}")
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        if size == 0 and root != EMPTY_HASH:
            raise ProofError("an empty tree must have the empty root")
        return
    if old == size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if root != old_root:
            raise ProofError("same size, different roots: the log forked")
        return
    if len(proof) != consistency_proof_length(old, size):
        raise ProofError(f"a consistency proof from {old} to {size} has "
                         f"{consistency_proof_length(old, size)} hashes, not {len(proof)}")
    path = list(proof)
    if any(len(p) != HASH_SIZE for p in path):
        raise ProofError("consistency proof has the wrong shape")
    if old & (old - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofError("consistency proof is empty")
    fn, sn = old - 1, size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    sha = _sha256
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = sha(b"\x01" + c + fr).digest()
            sr = sha(b"\x01" + c + sr).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            sr = sha(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != root:
        raise ProofError("consistency proof does not lead to the new root")


# In-memory trees ---------------------------------------------------------------------------

class MemoryTree:
    """All stored hashes in a list: for tests, bundles and small trees."""

    def __init__(self, entries: Sequence[bytes] = ()) -> None:
        self.hashes: list[bytes] = []
        self.size = 0
        for entry in entries:
            self.append(entry)

    def read(self, indexes: Sequence[int]) -> list[bytes]:
        return [self.hashes[i] for i in indexes]

    def append(self, data: bytes) -> int:
        return self.append_leaf_hash(leaf_hash(data))

    def append_leaf_hash(self, h: bytes) -> int:
        self.hashes.extend(stored_hashes_for_leaf_hash(self.size, h, self.read))
        self.size += 1
        return self.size - 1

    def root(self, size: int | None = None) -> bytes:
        return tree_hash(self.size if size is None else size, self.read)

    def prove_record(self, index: int, size: int | None = None) -> list[bytes]:
        return prove_record(self.size if size is None else size, index, self.read)

    def prove_tree(self, old: int, size: int | None = None) -> list[bytes]:
        return prove_tree(self.size if size is None else size, old, self.read)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH straight from RFC 6962's recursive definition (slow; the reference for tests)."""
    if not leaf_hashes:
        return EMPTY_HASH
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = _split(len(leaf_hashes))
    return node_hash(root_of(leaf_hashes[:k]), root_of(leaf_hashes[k:]))
