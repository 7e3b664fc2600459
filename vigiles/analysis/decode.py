"""Static evaluation of the commands agents use to hide payloads: echo, printf, base64, xxd, rev.

Only what can be computed without running anything is computed; anything else is unknown (None).
"""
from __future__ import annotations

import base64
import binascii
import codecs

MAX_DECODED = 1 << 20

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "busybox", "fish", "tcsh", "csh",
                    "rbash"})


def unescape_c(text: str) -> str:
    """Backslash escapes as `echo -e`, `printf` and $'...' read them (\\x41, \\101, \\n, \\u0041)."""
    if "\\" not in text:
        return text
    try:
        return codecs.decode(text.encode("latin-1", "backslashreplace"), "unicode_escape")
    except (UnicodeDecodeError, ValueError):
        return text


def b64decode(text: str) -> str | None:
    compact = "".join(text.split())
    if not compact or len(compact) > MAX_DECODED * 2:
        return None
    compact += "=" * (-len(compact) % 4)
    for decoder in (base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decoder(compact.encode("ascii"))
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
        return raw.decode("utf-8", "replace")
    return None


def hexdecode(text: str) -> str | None:
    compact = "".join(text.split()).replace("\\x", "").replace("0x", "")
    if not compact or len(compact) % 2 or len(compact) > MAX_DECODED * 2:
        return None
    try:
        return bytes.fromhex(compact).decode("utf-8", "replace")
    except ValueError:
        return None


def _printf(args: list[str]) -> str:
    if not args:
        return ""
    fmt, rest = args[0], args[1:]
    if "%" not in fmt:
        return unescape_c(fmt)
    out = unescape_c(fmt)
    for value in rest:
        for spec in ("%s", "%b", "%d"):
            if spec in out:
                out = out.replace(spec, unescape_c(value) if spec == "%b" else value, 1)
                break
    return out.replace("%%", "%")


_SILENT = frozenset({":", "true", "false"})
"""Builtins that write nothing: `c$(:)url` is curl."""


def output_of(name: str, args: list[str], stdin: str | None) -> str | None:
    """What `name args` writes to stdout given `stdin`, when that is knowable statically."""
    if name == "echo":
        words = list(args)
        escapes = False
        newline = True
        while words and words[0] in ("-n", "-e", "-E", "-ne", "-en"):
            flag = words.pop(0)
            escapes = escapes or "e" in flag
            newline = newline and "n" not in flag
        text = " ".join(words)
        return (unescape_c(text) if escapes else text) + ("\n" if newline else "")
    if name == "printf":
        return _printf(args)
    if name in _SILENT:
        return ""
    if name in ("cat", "tee") and stdin is not None and not [a for a in args if not a.startswith("-")]:
        return stdin
    if name == "base64" and stdin is not None and ({"-d", "--decode", "-D"} & set(args)):
        return b64decode(stdin)
    if name == "openssl" and stdin is not None and args[:1] in (["base64"], ["enc"]) and "-d" in args:
        return b64decode(stdin)
    if name == "xxd" and stdin is not None and "-r" in " ".join(args):
        return hexdecode(stdin)
    if name == "rev" and stdin is not None:
        return "\n".join(line[::-1] for line in stdin.split("\n"))
    if name == "tr" and stdin is not None and len(args) == 2 and len(args[0]) == len(args[1]) < 128:
        return stdin.translate(str.maketrans(args[0], args[1]))
    return None
