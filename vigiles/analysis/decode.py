"""Static evaluation of the commands agents use to hide payloads: echo, printf, base64, base32,
basenc, gunzip/bunzip2/unxz (bounded), xxd, rev,
tr, sed (vigiles/analysis/sed.py), perl -pe (vigiles/analysis/perl_filter.py) and the line
filters grep, head, tail, cut, ... (vigiles/analysis/filters.py).

Only what can be computed without running anything is computed; anything else is unknown (None).
"""
from __future__ import annotations

import base64
import binascii
import bz2
import lzma
import re
import zlib
from functools import lru_cache

import re2

MAX_DECODED = 1 << 20

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "busybox", "fish", "tcsh", "csh",
                    "rbash"})


def unbackslash(text: str) -> str:
    """Each backslash taken as quoting the character after it (`a\\@h` is a@h): an unquoted shell
    word's, and other languages' string literals read for their words."""
    if "\\" not in text:
        return text
    out = []
    chars = iter(text)
    for ch in chars:
        out.append(next(chars, "") if ch == "\\" else ch)
    return "".join(out)


_CODE_POINT = r"x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}"
"""The escapes every one of bash's readers takes as a character by number, in hexadecimal."""
_C_ESCAPE = re.compile(rf"\\({_CODE_POINT}|[0-7]{{1,3}}|c.|.)", re.S)
"""(Python's re: linear here, bounded repetition and no nesting; RE2's sub calls back into Python at
several times the cost, which a text of many escapes turns into seconds)"""
_PRINTF_ESCAPE = re.compile(rf"\\({_CODE_POINT}|[0-7]{{1,3}}|.)", re.S)
"""printf's format: as $'...', but \\c is no escape there (bash prints `\\curl` as written)."""
_ECHO_ESCAPE = re.compile(rf"\\({_CODE_POINT}|0[0-7]{{0,3}}|[1-7][0-7]{{0,2}}|c|.)", re.S)
_C_SIMPLE = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
             "v": "\v", "\\": "\\", "'": "'", '"': '"', "?": "?"}
_ECHO_AS_WRITTEN = frozenset({"'", '"', "?"})
"""Escapes $'...' reads and echo -e and printf's %b leave as written."""
SHORT_TEXT = 4096
"""Decoded texts up to this long are cached by the hundred, longer ones two at a time: a shell
function's body is decoded at each call, and the cache must not keep hostile texts alive."""


def _cached(decoder):
    """`decoder(text, flag)` cached as SHORT_TEXT says."""
    short, long = lru_cache(maxsize=256)(decoder), lru_cache(maxsize=2)(decoder)
    return lambda text, flag: (short if len(text) <= SHORT_TEXT else long)(text, flag)


def unescape_c(text: str, control: bool = True) -> str:
    """Backslash escapes as bash's $'...' reads them: \\xH and \\xHH, \\uH to \\uHHHH, \\UH.. to eight
    digits, \\N to \\NNN in octal, \\cX (unless not `control`: printf's format, which leaves it as
    written), \\n and the like. Each escape is read by itself, and one bash does not know is left as
    written, as bash leaves it: a malformed one (`\\x` at the end) spoils none of the others."""
    if "\\" not in text:
        return text
    return _unescape_c_cached(text, control)


def ansi_c_string(body: str) -> str:
    """The value of `$'BODY'`: its escapes read, and cut at the first NUL, as bash cuts it."""
    return unescape_c(body).split("\0", 1)[0]


def _unescape_c(text: str, control: bool) -> str:
    return (_C_ESCAPE if control else _PRINTF_ESCAPE).sub(_c_escaped, text)


_unescape_c_cached = _cached(_unescape_c)


def unescape_echo(text: str, octal: bool = False) -> str:
    """Backslash escapes as `echo -e` reads them: an octal escape is \\0 and up to three digits
    (`\\0156` is n; `\\156` is left as written, unless `octal`, as printf's %b reads it), \\c ends the
    output, and \\' \\" \\? are left as written; the others as unescape_c."""
    return echo_escapes(text, octal)[0]


def echo_escapes(text: str, octal: bool = False) -> tuple[str, bool]:
    """unescape_echo's text, and whether a \\c ended it (echo then prints no newline either)."""
    if "\\" not in text:
        return text, False
    return _echo_cached(text, octal)


def _echo_escapes(text: str, octal: bool) -> tuple[str, bool]:
    out = []
    last = 0
    for match in _ECHO_ESCAPE.finditer(text):
        out.append(text[last:match.start()])
        last = match.end()
        body = match.group(1)
        if body == "c":
            return "".join(out), True
        if body[0] in "1234567" and not octal or body in _ECHO_AS_WRITTEN:
            out.append(match.group(0))
        elif body[0] == "0":
            out.append(chr(int(body[1:] or "0", 8) & 0xFF))
        else:
            out.append(_c_escaped(match))
    out.append(text[last:])
    return "".join(out), False


_echo_cached = _cached(_echo_escapes)


def _c_escaped(match) -> str:
    body = match.group(1)
    head = body[0]
    if head in "xuU" and len(body) > 1:
        code = int(body[1:], 16)
        return chr(code) if code < 0x110000 and not 0xD800 <= code < 0xE000 else match.group(0)  # (no lone surrogates)
    if head in "01234567":
        return chr(int(body, 8) & 0xFF)
    if head == "c" and len(body) == 2:
        return "\x7f" if body[1] == "?" else chr(ord(body[1]) & 0x1F)
    return _C_SIMPLE.get(body, match.group(0))


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
        return as_text(raw)
    return None


def as_text(raw: bytes) -> str:
    """Decoded bytes as the text a pipe carries: UTF-8 where they are, else one character a byte
    (latin-1), so that a decompressor further down the pipe gets the bytes back (`decompress`)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def b32decode(text: str, hex_alphabet: bool = False) -> str | None:
    compact = "".join(text.split()).upper()
    if not compact or len(compact) > MAX_DECODED * 2:
        return None
    compact += "=" * (-len(compact) % 8)
    try:
        raw = base64.b32hexdecode(compact) if hex_alphabet else base64.b32decode(compact)
    except (binascii.Error, ValueError):
        return None
    return as_text(raw)


_DECOMPRESSORS = {"gzip": lambda: zlib.decompressobj(zlib.MAX_WBITS | 32), "bzip2": bz2.BZ2Decompressor,
                  "xz": lambda: lzma.LZMADecompressor()}


def decompress(kind: str, text: str) -> str | None:
    """What gunzip/bunzip2/unxz make of bytes a pipe carries (as_text), at most MAX_DECODED bytes of
    it: a bomb is cut, never expanded whole."""
    try:
        data = text.encode("latin-1")
    except UnicodeEncodeError:
        return None  # text, not bytes a decoder left
    try:
        out = _DECOMPRESSORS[kind]().decompress(data, MAX_DECODED)
    except (zlib.error, OSError, lzma.LZMAError, EOFError, ValueError):
        return None
    return as_text(out) if out else None


_COMPRESSED = {"gunzip": "gzip", "zcat": "gzip", "gzcat": "gzip", "bunzip2": "bzip2", "bzcat": "bzip2",
               "unxz": "xz", "xzcat": "xz", "unlzma": "xz", "lzcat": "xz"}
_COMPRESSORS = {"gzip": "gzip", "bzip2": "bzip2", "xz": "xz", "lzma": "xz"}
"""Decompressors, and compressors that decompress with -d (gzip -dc), by the format they read."""


def hexdecode(text: str) -> str | None:
    compact = "".join(text.split()).replace("\\x", "").replace("0x", "")
    if not compact or len(compact) % 2 or len(compact) > MAX_DECODED * 2:
        return None
    try:
        return as_text(bytes.fromhex(compact))
    except ValueError:
        return None


_PRINTF_SPEC = re2.compile(r"%([-+ #0]*)(\*|[0-9]*)(?:\.(\*|[0-9]*))?[hlLqjzt]*([a-zA-Z%])")
_PRINTF_KINDS = frozenset("sbqdiouxXcfFeEgG%")
MAX_PRINTF = 1 << 20
MAX_PRECISION = 256
"""Digits after the point a float conversion prints here (bash prints more; none matter to a reader)."""


def _printf(args: list[str]) -> str | None:
    """printf as bash runs it: the format's escapes read, each conversion given the next argument
    (none left: empty, or 0), `*` widths and precisions taken from the arguments, and the format
    used again while arguments remain (`printf '%s\\n' a b` prints two lines). At most MAX_PRINTF
    characters; None where the format holds a conversion not read here (`%(...)T`, `%n`)."""
    if not args:
        return ""
    fmt, values = args[0], args[1:]
    if "%(" in fmt:
        return None
    parts: list = []
    last = 0
    for match in _PRINTF_SPEC.finditer(fmt):
        if match.group(4) not in _PRINTF_KINDS:
            return None
        parts.append(unescape_c(fmt[last:match.start()], control=False))
        parts.append(match)
        last = match.end()
    parts.append(unescape_c(fmt[last:], control=False))
    conversions = sum(1 for p in parts if not isinstance(p, str) and p.group(4) != "%")
    out: list[str] = []
    size = 0
    used = 0
    while True:
        for part in parts:
            if isinstance(part, str):
                piece = part
            elif part.group(4) == "%":
                piece = "%"
            else:
                width, precision = part.group(2), part.group(3)
                if width == "*":
                    width = values[used] if used < len(values) else "0"
                    used += 1
                if precision == "*":
                    precision = values[used] if used < len(values) else "0"
                    used += 1
                value = values[used] if used < len(values) else None
                if part.group(4) == "b" and value and "\\c" in value:
                    # `\c` in a %b argument: the rest of it and all output after it are dropped, as bash does
                    out.append(_convert(part.group(1), width, precision, "b", value[:value.index("\\c")], MAX_PRINTF - size))
                    return "".join(out)[:MAX_PRINTF]
                piece = _convert(part.group(1), width, precision, part.group(4), value, MAX_PRINTF - size)
                used += 1
            out.append(piece)
            size += len(piece)
            if size >= MAX_PRINTF:
                return "".join(out)[:MAX_PRINTF]
        if not conversions or used >= len(values):
            return "".join(out)


def _convert(flags: str, width: str, precision: str | None, kind: str, value: str | None, room: int) -> str:
    """One conversion, at most `room` characters wide."""
    width_n = _small(width, room)
    precision_n = None if precision is None else _small(precision, room)
    if kind in "sbqc":
        text = "" if value is None else value
        if kind == "b":
            text = unescape_echo(text, octal=True)
        elif kind == "q":
            text = _SHELL_SPECIAL.sub(r"\\\1", text) if text else "''"
        elif kind == "c":
            text = text[:1]
        if precision_n is not None and kind != "c":
            text = text[:precision_n]
    else:
        number = _number(value)
        try:
            if kind in "di":
                text = format(int(number), "+d" if "+" in flags else " d" if " " in flags else "d")
            elif kind in "uoxX":
                whole = int(number) % (1 << 64)  # (bash prints a negative number as unsigned 64-bit)
                text = format(whole, "d" if kind == "u" else kind)
            else:
                digits = 6 if precision_n is None else min(precision_n, MAX_PRECISION)
                text = format(float(number), f".{digits}{kind}")
        except (ValueError, OverflowError):
            text = "0"
        if precision_n is not None and kind in "diuoxX":  # an integer's precision: at least that many digits
            sign = text[:1] if text[:1] in "+- " else ""
            text = sign + text[len(sign):].rjust(precision_n, "0")
    if width_n and len(text) < width_n:
        text = text.ljust(width_n) if "-" in flags else text.rjust(width_n, "0" if "0" in flags and kind not in "sbqc" else " ")
    return text[:max(room, 0)]


def _small(digits: str, most: int) -> int:
    """A width or precision, at most `most` (a negative `*` argument counts as none)."""
    try:
        return max(0, min(int(digits or 0), most))
    except ValueError:
        return 0


def _number(value: str | None) -> float | int:
    """A printf numeric argument as bash takes it: decimal, 0x hex, 0 octal, 'c (the character's code)."""
    if not value:
        return 0
    if value[0] in "'\"" and len(value) > 1:
        return ord(value[1])
    try:
        return int(value, 0) if not value.startswith("0") or value.lower().startswith("0x") or value == "0" else int(value, 8)
    except ValueError:
        try:
            return float(value)
        except ValueError:
            return 0


_SHELL_SPECIAL = re2.compile(r"([^A-Za-z0-9_./,:@%+=-])")


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
        stopped = False
        if escapes:
            text, stopped = echo_escapes(text)
        return text + ("\n" if newline and not stopped else "")
    if name == "printf":
        return _printf(args[1:] if args[:1] == ["--"] else args)  # (`--` ends printf's options)
    if name in _SILENT:
        return ""
    if name in ("cat", "tee") and stdin is not None and not [a for a in args if not a.startswith("-")]:
        return stdin
    if name == "base64" and stdin is not None and ({"-d", "--decode", "-D"} & set(args)):
        return b64decode(stdin)
    if name == "base32" and stdin is not None and ({"-d", "--decode"} & set(args)):
        return b32decode(stdin)
    if name == "basenc" and stdin is not None and ({"-d", "--decode"} & set(args)):
        if {"--base64", "--base64url"} & set(args):
            return b64decode(stdin)
        if "--base32" in args or "--base32hex" in args:
            return b32decode(stdin, hex_alphabet="--base32hex" in args)
        if "--base16" in args:
            return hexdecode(stdin)
        return None
    if stdin is not None and (name in _COMPRESSED and not [a for a in args if not a.startswith("-")]
                              or name in _COMPRESSORS and any(a.startswith("-") and not a.startswith("--")
                                                              and "d" in a or a == "--decompress" for a in args)):
        return decompress(_COMPRESSED.get(name) or _COMPRESSORS[name], stdin)
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
    if name in _AWKS:
        from .awk import output as awk_output
        return awk_output(args, stdin)
    if name == "dd":
        return _dd(args, stdin)
    if name in _LINE_FILTERS and stdin is not None:
        from .filters import output_of as filtered
        return filtered(name, args, stdin)
    return None


_AWKS = frozenset({"awk", "gawk", "mawk", "nawk"})
_DD_SIZES = frozenset({"bs", "ibs", "obs", "cbs"})
_DD_STATUS = frozenset({"none", "noxfer", "progress"})
_DD_CONV_NEUTRAL = frozenset({"noerror", "notrunc", "fsync", "fdatasync", "nocreat", "excl"})


def _dd(args: list[str], stdin: str | None) -> str | None:
    """`dd [conv=lcase|ucase] [bs=N] [status=...]` copying stdin to stdout (ASCII case mapping, as
    in the C locale); None with if=, of=, count=, skip=, any other operand or conversion, a size
    that is not a plain positive number, or lcase with ucase (GNU dd refuses those and prints
    nothing)."""
    if stdin is None or not stdin.isascii():
        return None
    cases = set()
    for arg in args:
        key, eq, value = arg.partition("=")
        if not eq:
            return None
        if key in _DD_SIZES:
            if not (value.isascii() and value.isdigit() and value[0] != "0" and len(value) < 10):
                return None  # a suffix (1K, 1e3), zero or a huge size: not read
        elif key == "status":
            if value not in _DD_STATUS:
                return None
        elif key == "conv":
            for conv in value.split(","):
                if conv in ("lcase", "ucase"):
                    cases.add(conv)
                elif conv not in _DD_CONV_NEUTRAL:
                    return None
        else:
            return None
    if len(cases) > 1:
        return None
    if "lcase" in cases:
        return stdin.lower()
    if "ucase" in cases:
        return stdin.upper()
    return stdin


_LINE_FILTERS = frozenset({"grep", "egrep", "fgrep", "head", "tail", "tac", "uniq", "cut"})


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
    """`tr SET1 SET2` (set2 padded with its last character, as GNU tr), `tr -d SET` and `tr -s SET`,
    with ranges (`a-z`, so ROT13 is read), [:classes:] and backslash escapes, on ASCII; None for -c
    or anything else."""
    if not stdin.isascii():
        return None  # GNU tr maps bytes: a character beyond ASCII is several
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
    if len(args) == 2 and args[0] == "-s":
        squeezed = _tr_set(args[1])
        if squeezed is None:
            return None
        out: list[str] = []
        for ch in stdin:
            if not (out and ch == out[-1] and ch in squeezed):
                out.append(ch)
        return "".join(out)
    return None


def _tr_set(text: str) -> str | None:
    """A tr set spelled out; None for forms not computed ([=c=], [c*n], anything beyond ASCII:
    GNU tr works on bytes, `\\303` is one, and sets over MAX_TR_SET)."""
    if not text.isascii():
        return None
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
        ch, i = _tr_char(text, i)
        if i + 1 < n and text[i] == "-":  # a range: ch-end
            end, i = _tr_char(text, i + 1)
            if ch is None or end is None or ord(end) < ord(ch):
                return None  # GNU tr refuses a reversed range
            chars.extend(chr(c) for c in range(ord(ch), ord(end) + 1))
        elif ch is None:
            return None
        else:
            chars.append(ch)
        if len(chars) > MAX_TR_SET:
            return None
    return "".join(chars)


def _tr_char(text: str, i: int) -> tuple[str | None, int]:
    """The character at text[i], a backslash escape read as GNU tr reads it (an octal escape has at
    most three digits and stops before passing \\377); None for a byte beyond ASCII."""
    if text[i] != "\\" or i + 1 >= len(text):
        return text[i], i + 1
    nxt = text[i + 1]
    if nxt not in "01234567":
        return _TR_ESCAPES.get(nxt, nxt), i + 2
    j = i + 1
    while j < len(text) and j < i + 4 and text[j] in "01234567" and int(text[i + 1:j + 1], 8) <= 0o377:
        j += 1
    value = int(text[i + 1:j], 8)
    return (chr(value) if value < 0x80 else None), j
