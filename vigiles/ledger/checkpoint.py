"""c2sp.org/tlog-checkpoint: the signed tree head, a note whose text is origin, size and root.

    example.com/behind-the-sofa
    20852163
    CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=

Optional extension lines follow the root; vigiles writes none (they are not auditable).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .note import NoteError, Note, b64decode, b64encode, open_note, sign_note
from .tree import EMPTY_HASH, HASH_SIZE


class CheckpointError(NoteError):
    """The note text is not a well-formed checkpoint, or not the expected log's."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return f"{self.origin} size {self.size} root {b64encode(self.root)}"


def parse_checkpoint(text: str, strict_empty: bool = True) -> Checkpoint:
    """The checkpoint in a note text (tlog-checkpoint, Note text).

    `strict_empty` also rejects a size-0 checkpoint whose root is not the empty hash (a
    witness checks that separately, to answer 422 rather than 400).
    """
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint text must end in a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(line == "" for line in lines):
        raise CheckpointError("checkpoint needs origin, size and root lines, none empty")
    origin, size_line, root_line = lines[0], lines[1], lines[2]
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_line) or int(size_line) >= 1 << 63:
        raise CheckpointError(f"bad checkpoint size {size_line[:30]!r}")
    try:
        root = b64decode(root_line)
    except NoteError as exc:
        raise CheckpointError(f"bad checkpoint root {root_line[:60]!r}") from exc
    if len(root) != HASH_SIZE:
        raise CheckpointError("checkpoint root is not a SHA-256 hash")
    size = int(size_line)
    if strict_empty and size == 0 and root != EMPTY_HASH:
        raise CheckpointError("an empty tree's root must be the hash of the empty string")
    return Checkpoint(origin, size, root, tuple(lines[3:]))


def sign_checkpoint(cp: Checkpoint, signer) -> bytes:
    """The checkpoint as a note signed by the log key (whose name should be the origin)."""
    return sign_note(cp.text(), [signer])


def open_checkpoint(msg: bytes, verifiers, origin: str | None = None) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint against the log's key(s); check the origin if given."""
    note = open_note(msg, verifiers)
    cp = parse_checkpoint(note.text)
    if origin is not None and cp.origin != origin:
        raise CheckpointError(f"checkpoint is for origin {cp.origin!r}, expected {origin!r}")
    return cp, note
