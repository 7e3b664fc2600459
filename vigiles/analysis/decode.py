"""Static evaluation of the commands agents use to hide payloads: echo, printf, base64, xxd, rev,
tr, sed (vigiles/analysis/sed.py) and perl -pe (vigiles/analysis/perl_filter.py).

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
    if name == "tr" and stdin is not None:
        return _tr(args, stdin)
    if name == "sed" and stdin is not None:
        from .sed import output
        return output(args, stdin)
    if name == "perl" and stdin is not None:
        from .perl_filter import output as perl_output
        return perl_output(args, stdin)
    return None


_TR_CLASSES = {
    "lower": "abcdefghijklmnopqrstuvwxyz", "upper": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "digit": "0123456789",
    "alpha": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "alnum": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "space": "\t\n\v\f\r ", "blank": "\t ", "xdigit": "0123456789ABCDEFabcdef",
    "punct": "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
}
_TR_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "v": "\v", "f": "\f", "a": "\a", "b": "\b", "\\": "\\"}
MAX_TR_SET = 4096


def _tr(args: list[str], stdin: str) -> str | None:
    """`tr SET1 SET2` (set2 padded with its last character, as GNU tr) and `tr -d SET`, with ranges
    (`a-z`, so ROT13 is read), [:classes:] and backslash escapes; None for -c, -s or anything else."""
    if len(args) == 2 and not args[0].startswith("-"):
        source, dest = _tr_set(args[0]), _tr_set(args[1])
        if source is None or dest is None or not dest:
            return None
        dest = dest + dest[-1] * (len(source) - len(dest))
        table: dict[int, str] = {}
        for a, b in zip(source, dest):
            table[ord(a)] = b  # a character given twice maps as its last mention, as GNU tr
        return stdin.translate(table)
    if len(args) == 2 and args[0] == "-d":
        gone = _tr_set(args[1])
        return None if gone is None else stdin.translate({ord(c): None for c in gone})
    return None


def _tr_set(text: str) -> str | None:
    """A tr set spelled out; None for forms not computed ([=c=], [c*n], sets over MAX_TR_SET)."""
    chars: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("[:", i):
            end = text.find(":]", i + 2)
            members = _TR_CLASSES.get(text[i + 2:end]) if end > 0 else None
            if members is None:
                return None
            chars.extend(members)
            i = end + 2
            continue
        if text.startswith(("[=", "[."), i) or (text[i] == "[" and "*" in text[i:i + 8]):
            return None
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "01234567":
                j = i + 1
                while j < n and j < i + 4 and text[j] in "01234567":
                    j += 1
                ch, i = chr(int(text[i + 1:j], 8)), j
            else:
                ch, i = _TR_ESCAPES.get(nxt, nxt), i + 2
        else:
            i += 1
        if i + 1 < n and text[i] == "-":  # a range: ch-end
            end = text[i + 1]
            if end == "\\" and i + 2 < n:
                end = _TR_ESCAPES.get(text[i + 2], text[i + 2])
                i += 1
            if ord(end) < ord(ch):
                return None  # GNU tr refuses a reversed range
            chars.extend(chr(c) for c in range(ord(ch), ord(end) + 1))
            i += 2
        else:
            chars.append(ch)
        if len(chars) > MAX_TR_SET:
            return None
    return "".join(chars)
