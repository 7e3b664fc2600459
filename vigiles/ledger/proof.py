"""c2sp.org/tlog-proof@v1: an offline-verifiable proof that an entry is in a (witnessed) log.

    c2sp.org/tlog-proof@v1
    [extra <base64>]
    index <n>
    <base64 inclusion proof hash, leaf's sibling first>...
    <empty line>
    <the checkpoint, verbatim, with its signatures>
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .checkpoint import Checkpoint, open_checkpoint
from .note import NoteError, b64decode, b64encode
from .policy import Policy, PolicyError
from .tree import HASH_SIZE, ProofError, check_record, leaf_hash

HEADER = "c2sp.org/tlog-proof@v1"


class TlogProofError(ValueError):
    """The proof document is malformed or does not verify."""


@dataclass(frozen=True)
class TlogProof:
    index: int
    path: tuple[bytes, ...]
    checkpoint: bytes
    extra: bytes | None = None

    def encode(self) -> bytes:
        lines = [HEADER]
        if self.extra is not None:
            lines.append(f"extra {b64encode(self.extra)}")
        lines.append(f"index {self.index}")
        lines += [b64encode(h) for h in self.path]
        return ("\n".join(lines) + "\n\n").encode("ascii") + self.checkpoint


def parse_proof(data: bytes) -> TlogProof:
    """Parse a proof document (tlog-proof, Format)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TlogProofError("proof is not UTF-8") from exc
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise TlogProofError("proof has no empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise TlogProofError(f"proof does not start with {HEADER}")
    at = 1
    extra = None
    if at < len(lines) and lines[at].startswith("extra "):
        try:
            extra = b64decode(lines[at][6:])
        except NoteError as exc:
            raise TlogProofError("bad extra line") from exc
        at += 1
    if at >= len(lines) or not re.fullmatch(r"index (0|[1-9][0-9]{0,19})", lines[at]):
        raise TlogProofError("proof has no well-formed index line")
    index = int(lines[at][6:])
    path = []
    for line in lines[at + 1:]:
        try:
            h = b64decode(line)
        except NoteError as exc:
            raise TlogProofError(f"bad proof hash line {line[:60]!r}") from exc
        if len(h) != HASH_SIZE:
            raise TlogProofError("a proof hash is not 32 bytes")
        path.append(h)
    return TlogProof(index, tuple(path), checkpoint.encode("utf-8"), extra)


def verify_proof(proof: TlogProof, entry: bytes, *, policy: Policy | None = None, verifiers=(),
                 origin: str | None = None) -> Checkpoint:
    """Check that `entry` is at `proof.index` in the tree of the proof's checkpoint.

    The checkpoint must satisfy `policy` (log signature and witness quorum) or, without a
    policy, be signed by one of `verifiers` (the log keys).
    """
    try:
        if policy is not None:
            cp = policy.verify_checkpoint(proof.checkpoint, origin).checkpoint
        else:
            cp, _ = open_checkpoint(proof.checkpoint, list(verifiers), origin)
    except (PolicyError, NoteError) as exc:
        raise TlogProofError(f"checkpoint: {exc}") from exc
    try:
        check_record(proof.path, cp.size, cp.root, proof.index, leaf_hash(entry))
    except ProofError as exc:
        raise TlogProofError(f"entry {proof.index}: {exc}") from exc
    return cp
