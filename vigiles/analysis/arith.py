"""Shell arithmetic (`$((...))`) on what is known, so a word built with it reads as the shell runs it.

`python$((3))` is python3 and `/dev/tcp/10.0.0.1/$((4440+4))` names port 4444. Only integers and
variables that hold integers are evaluated, with bash's 64-bit wrap-around; anything else (an
unknown variable, an assignment, a division by zero, an exponent too large) leaves the expansion
as written. A small recursive-descent reader over at most MAX_TEXT characters: no eval.
"""
from __future__ import annotations

MAX_TEXT = 256
MAX_DEPTH = 32
MAX_EXPONENT = 64
_BITS = 1 << 64

_BINARY = [  # lowest precedence first, as in bash (no assignment, comparison or comma operators)
    ("|",), ("^",), ("&",), ("<<", ">>"), ("+", "-"), ("*", "/", "%"),
]


class _Unknown(Exception):
    """The expression holds something this reader does not evaluate."""


def evaluate(text: str, env: dict[str, str]) -> int | None:
    """The value of the arithmetic expression `text` (without `$((` and `))`), or None."""
    if len(text) > MAX_TEXT:
        return None
    try:
        reader = _Reader(_tokens(text), env)
        value = reader.binary(0)
        if reader.pos != len(reader.tokens):
            return None
        return value
    except (_Unknown, RecursionError):
        return None


def _wrap(value: int) -> int:
    value %= _BITS
    return value - _BITS if value >= _BITS // 2 else value


def _tokens(text: str) -> list[str]:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch.isalnum() or ch in "_#$":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_#"):
                j += 1
            out.append(text[i:j])
            i = j
        elif text.startswith(("**", "<<", ">>"), i):
            out.append(text[i:i + 2])
            i += 2
        elif ch in "+-*/%()&|^~!":
            out.append(ch)
            i += 1
        else:
            raise _Unknown(ch)
    return out


class _Reader:
    def __init__(self, tokens: list[str], env: dict[str, str]) -> None:
        self.tokens, self.env, self.pos, self.depth = tokens, env, 0, 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _Unknown("end")
        self.pos += 1
        return token

    def binary(self, level: int) -> int:
        if level == len(_BINARY):
            return self.power()
        value = self.binary(level + 1)
        while self.peek() in _BINARY[level]:
            op = self.take()
            value = _apply(op, value, self.binary(level + 1))
        return value

    def power(self) -> int:
        base = self.unary()
        if self.peek() == "**":
            self.take()
            exponent = self.power()  # right-associative
            if exponent < 0 or exponent > MAX_EXPONENT:
                raise _Unknown("exponent")
            return _wrap(base ** exponent)
        return base

    def unary(self) -> int:
        token = self.peek()
        if token in ("+", "-", "~", "!"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Unknown("depth")
            value = self.unary()
            self.depth -= 1
            return {"+": value, "-": _wrap(-value), "~": _wrap(~value), "!": int(not value)}[token]
        return self.atom()

    def atom(self) -> int:
        token = self.take()
        if token == "(":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise _Unknown("depth")
            value = self.binary(0)
            self.depth -= 1
            if self.take() != ")":
                raise _Unknown(")")
            return value
        if token[:1] == "$":
            token = token[1:]
        if token[:1].isdigit():
            return _number(token)
        if token and (token[0].isalpha() or token[0] == "_") and token in self.env:
            value = self.env[token].strip() or "0"
            if not value.lstrip("-")[:1].isdigit():
                raise _Unknown(token)
            sign = -1 if value.startswith("-") else 1
            return _wrap(sign * _number(value.lstrip("-")))
        raise _Unknown(token)


def _number(token: str) -> int:
    """Bash integer constants: 42, 0x2a, 052 (octal), 16#2a (base#digits)."""
    try:
        if "#" in token:
            base, digits = token.split("#", 1)
            if not 2 <= int(base) <= 36:
                raise _Unknown(token)
            return _wrap(int(digits, int(base)))
        if token[:2].lower() == "0x":
            return _wrap(int(token[2:], 16))
        if len(token) > 1 and token[0] == "0":
            return _wrap(int(token[1:], 8))
        return _wrap(int(token, 10))
    except ValueError:
        raise _Unknown(token) from None


def _apply(op: str, a: int, b: int) -> int:
    if op in ("/", "%"):
        if b == 0:
            raise _Unknown("division by zero")
        quotient = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)  # C truncates toward zero
        return _wrap(quotient if op == "/" else a - b * quotient)
    if op in ("<<", ">>"):
        if not 0 <= b < 64:
            raise _Unknown("shift")
        return _wrap(a << b if op == "<<" else a >> b)
    return _wrap({"+": a + b, "-": a - b, "*": a * b, "&": a & b, "|": a | b, "^": a ^ b}[op])
