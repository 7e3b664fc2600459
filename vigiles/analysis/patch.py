"""Codex's apply_patch format: the files a patch adds, changes, moves and deletes, and what it puts in them.

Codex CLI writes files with patches rather than a write tool (a `custom_tool_call` named
apply_patch, or `apply_patch <<'EOF'` in its shell). The grammar, from openai/codex's apply-patch
tool instructions:

    *** Begin Patch
    *** Add File: PATH          then every line of the new file, each prefixed with `+`
    *** Delete File: PATH
    *** Update File: PATH       optionally `*** Move to: NEW_PATH`, then hunks: a `@@` line, and
                                lines prefixed ' ' (kept), '-' (removed) or '+' (added);
                                `*** End of File` may close a hunk
    *** End Patch

A patch is read leniently, as an agent's may be malformed: a missing Begin or End line, stray lines
and unknown markers are passed over; only the file headers and `+` lines matter to what it writes.
"""
from __future__ import annotations

from dataclasses import dataclass

MAX_CHANGES = 256
"""Files one patch is read for; later ones are not read (hostile input stays bounded)."""
MAX_CONTENT = 1 << 20
"""Characters of added lines kept per file."""

_BEGIN = "*** Begin Patch"
_HEADERS = (("*** Add File:", "add"), ("*** Update File:", "update"), ("*** Delete File:", "delete"))
_MOVE = "*** Move to:"


@dataclass(frozen=True, slots=True)
class Change:
    op: str
    """add, update or delete."""
    path: str
    content: str = ""
    """The lines the patch adds: an added file's whole content; for an update, only its `+` lines
    (the rest of the file is not in the patch)."""
    move_to: str | None = None


def is_patch(text: str | None) -> bool:
    """Whether a text is an apply_patch patch (it starts with the Begin line)."""
    return bool(text) and text.lstrip()[: len(_BEGIN)] == _BEGIN


def changes(text: str) -> list[Change]:
    """The patch's file changes in order, at most MAX_CHANGES."""
    out: list[Change] = []
    op = path = move_to = None
    added: list[str] = []
    size = 0

    def close() -> None:
        if op is not None and path:
            out.append(Change(op, path, "".join(added), move_to))

    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        header = next(((bare[len(mark):].strip(), kind) for mark, kind in _HEADERS if bare.startswith(mark)), None)
        if header is not None:
            close()
            if len(out) >= MAX_CHANGES:
                return out
            path, op = header
            move_to, added, size = None, [], 0
        elif op is None:
            continue
        elif bare.startswith(_MOVE) and op == "update":
            move_to = bare[len(_MOVE):].strip() or None
        elif bare.startswith("***"):
            if bare.startswith("*** End Patch"):
                close()
                op = None
        elif line.startswith("+") and op != "delete" and size < MAX_CONTENT:
            piece = line[1:].replace("\r\n", "\n")
            added.append(piece[: MAX_CONTENT - size])
            size += len(piece)
    close()
    return out
