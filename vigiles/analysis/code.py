"""Static reading of interpreter snippets (python -c, perl -e, php -r, node -e, ruby -e).

Python is read with `ast` (parsing only; nothing is ever evaluated). The other languages are read
for the few things rules need: which calls run a shell, which open sockets, and the string
literals handed to them, which are then read as shell in turn.
"""
from __future__ import annotations

import ast
import base64
import binascii
from dataclasses import dataclass, field

import re2

from . import decode
from .command import Code
from .endpoints import Endpoint, is_ip

MAX_CODE = 256 * 1024

INTERPRETERS = {
    "python": "python", "python2": "python", "python3": "python", "pypy": "python", "pypy3": "python",
    "perl": "perl", "php": "php", "node": "node", "nodejs": "node", "ruby": "ruby", "lua": "lua",
    "bun": "node", "deno": "node", "osascript": "osascript", "awk": "awk", "gawk": "awk",
}


def language_of(program: str) -> str | None:
    """The language an interpreter's name says (`python3.11` is python), or None."""
    return INTERPRETERS.get(program) or INTERPRETERS.get(program.rstrip("0123456789."))


CODE_FLAGS = {"python": ("-c",), "perl": ("-e", "-E"), "php": ("-r",), "node": ("-e", "--eval", "-p"),
              "ruby": ("-e",), "lua": ("-e",), "awk": (), "osascript": ("-e",)}

_SHELL_CALLS = frozenset({"os.system", "os.popen", "subprocess.run", "subprocess.call", "subprocess.Popen",
                          "subprocess.check_output", "subprocess.check_call", "subprocess.getoutput",
                          "subprocess.getstatusoutput", "pty.spawn", "os.execl", "os.execlp", "os.execv",
                          "os.execvp", "os.execve", "os.execle", "os.spawnl", "os.spawnlp", "os.posix_spawn",
                          "commands.getoutput", "system", "popen", "Popen", "run", "call", "check_output",
                          "spawn", "getoutput"})

# Other languages: calls that hand a string to a shell, and the literal after them.
_OTHER_SHELL = re2.compile(
    r"""(?:system|exec|shell_exec|passthru|popen|proc_open|execSync|spawnSync|spawn|execFile|`)\s*\(?\s*(?:\[\s*)?(?:"([^"\\]+)"|'([^'\\]+)')""")
_OTHER_FEATURES = re2.compile(
    r"(IO::Socket(?:::INET)?|Socket|socket|fsockopen|stream_socket_client|net\.connect|net\.Socket|"
    r"createConnection|TCPSocket|child_process|require\(['\"][a-z_]+['\"]\)|exec|system|popen|"
    r"proc_open|shell_exec|passthru|dup2|STDIN|/dev/tcp|base64_decode|b64decode|eval|fork)")
_OTHER_ARGV = re2.compile(
    r"""(?:system|exec|spawn|spawnSync|execFile|execFileSync|proc_open|pcntl_exec)\s*\(?\s*\[?\s*"""
    r"""((?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')(?:\s*,\s*\[?\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))+)""")
"""A call given a program and its arguments as a list of literals (perl `exec "ssh", "-R", ...`, ruby
`system("ssh", "-R", ...)`, node `spawn("ssh", ["-R", ...])`, php `proc_open(["ssh", ...], ...)`):
run without a shell, each literal one word."""
_ARGV_WORD = re2.compile(r""""((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'""")
_HOSTPORT = re2.compile(r"""["']((?:\d{1,3}\.){3}\d{1,3}|[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24})["']\s*[,:)]\s*["']?(\d{1,5})""")


@dataclass(slots=True)
class CodeReading:
    code: Code
    shell: list[str] = field(default_factory=list)
    """Strings the code hands to a shell; the caller reads them as shell commands."""
    argv: list[list[str]] = field(default_factory=list)
    """Argument vectors the code executes directly (subprocess.run([...]))."""
    endpoints: list[Endpoint] = field(default_factory=list)
    python: list[str] = field(default_factory=list)
    """Python source the code decodes and executes (exec(b64decode(...)))."""


def _dotted(node: ast.AST) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    elif isinstance(node, ast.Call):
        parts.append(_dotted(node.func) + "()")
    return ".".join(reversed(parts))


def _literal(node: ast.AST) -> object:
    folded = _joined(node, 0)
    if folded is not None:
        return folded
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


MAX_JOINED = 65536
MAX_JOIN_DEPTH = 64


def _joined(node: ast.AST, depth: int) -> str | bytes | None:
    """A string built from literals with `+` or an f-string of literal parts (`"n" + "c -e ..."`),
    which ast.literal_eval does not fold; None for anything else."""
    if depth > MAX_JOIN_DEPTH:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _joined(node.left, depth + 1), _joined(node.right, depth + 1)
        if left is None or right is None or type(left) is not type(right) or len(left) + len(right) > MAX_JOINED:
            return None
        return left + right
    if isinstance(node, ast.JoinedStr):
        parts = [_joined(v, depth + 1) for v in node.values]
        if all(isinstance(p, str) for p in parts) and sum(len(p) for p in parts) <= MAX_JOINED:
            return "".join(parts)
    return None


def _decoded_literal(node: ast.AST) -> str | None:
    """The text of b64decode('...') / b32decode / bytes.fromhex('...') / zlib.decompress(...) /
    '...'[::-1] arguments, when literal."""
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        inner = node.args[0] if node.args else None
        if inner is None:
            return None
        value = _literal(inner)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if name.endswith(("b64decode", "decodebytes", "decodestring")) and isinstance(value, str):
            try:
                return decode.as_text(base64.b64decode(value + "=" * (-len(value) % 4)))
            except (binascii.Error, ValueError):
                return None
        if name.endswith("b32decode") and isinstance(value, str):
            return decode.b32decode(value)
        if name.endswith(("fromhex", "unhexlify", "b16decode", "a2b_hex")) and isinstance(value, str):
            return decode.hexdecode(value)
        if name.endswith("decompress") and isinstance(inner, ast.Call):
            packed = _decoded_literal(inner)
            kind = _DECOMPRESS.get(name.rsplit(".", 1)[0].rsplit(".", 1)[-1]) if "." in name else "gzip"
            return decode.decompress(kind or "gzip", packed) if packed is not None else None
        if name.endswith("decode") and isinstance(inner, ast.Call):
            return _decoded_literal(inner)
        if name.endswith("decode"):
            return _decoded_literal(node.func.value) if isinstance(node.func, ast.Attribute) else None
    value = _literal(node)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None


_EXEC_ARGV = {"os.execv": (0, 1), "os.execve": (0, 1), "os.execvp": (0, 1), "os.execvpe": (0, 1),
              "os.posix_spawn": (0, 1), "os.posix_spawnp": (0, 1), "os.spawnv": (1, 2), "os.spawnve": (1, 2),
              "os.spawnvp": (1, 2), "os.spawnvpe": (1, 2)}
"""exec/spawn calls given a program and an argument list: the positions of the two."""
_EXEC_LISTED = {"os.execl": 0, "os.execle": 0, "os.execlp": 0, "os.execlpe": 0, "os.spawnl": 1, "os.spawnle": 1,
                "os.spawnlp": 1, "os.spawnlpe": 1}
"""exec/spawn calls given a program, then each argument: the program's position."""


def _exec_argv(name: str, args: list[ast.expr]) -> list[str] | None:
    """What an os.exec*/os.spawn*/os.posix_spawn* call runs: the program it names, then the
    arguments after argv[0] (which is only the name the process shows: `os.execv('/usr/bin/ssh',
    ['kworker', '-R', ...])` runs ssh). [] when they are not literals; None for other calls."""
    if name in _EXEC_ARGV:
        at, listed = _EXEC_ARGV[name]
        if len(args) <= listed:
            return []
        program, values = _literal(args[at]), _literal(args[listed])
        if not isinstance(program, str) or not isinstance(values, (list, tuple)):
            return []
        rest = list(values[1:])
    elif name in _EXEC_LISTED:
        at = _EXEC_LISTED[name]
        if len(args) <= at:
            return []
        program = _literal(args[at])
        rest = []
        for node in args[at + 2:]:
            value = _literal(node)
            if not isinstance(value, str):
                break  # execle's environment
            rest.append(value)
        if not isinstance(program, str):
            return []
    else:
        return None
    if not all(isinstance(value, str) for value in rest):
        return []
    return [program, *rest]


def read_python(text: str) -> CodeReading:
    reading = CodeReading(Code("python", text[:MAX_CODE]))
    try:
        tree = ast.parse(text[:MAX_CODE])
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return _read_other("python", text)
    code = reading.code
    try:
        nodes = list(ast.walk(tree))
    except RecursionError:
        return _read_other("python", text)
    aliases: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                code.modules.add(alias.name)
                aliases[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module:
            code.modules.add(node.module)
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in nodes:
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            head, _, tail = name.partition(".")
            if head in aliases:
                name = aliases[head] + ("." + tail if tail else "")
            if name == "__import__" and node.args:
                module = _literal(node.args[0])
                if isinstance(module, str):
                    code.modules.add(module)
            code.calls.add(name)
            short = name.rsplit(".", 1)[-1]
            argv = _exec_argv(name, node.args)
            if argv is not None:
                if argv:
                    reading.argv.append(argv)
            elif (name in _SHELL_CALLS or short in ("system", "popen", "Popen", "check_output", "spawn")) and node.args:
                first = node.args[0]
                value = _literal(first)
                if isinstance(value, str):
                    reading.shell.append(value)
                elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                    reading.argv.append(list(value))
                else:
                    decoded = _decoded_literal(first)
                    if decoded:
                        reading.shell.append(decoded)
            if short in ("exec", "eval", "compile") and node.args:
                decoded = _decoded_literal(node.args[0])
                if decoded and decoded != text:
                    reading.python.append(decoded)
            if short in ("connect", "connect_ex", "create_connection", "bind") and node.args:
                target = _literal(node.args[0])
                if isinstance(target, tuple) and len(target) >= 2 and isinstance(target[1], int):
                    host = target[0] if isinstance(target[0], str) else None
                    reading.endpoints.append(Endpoint(host, target[1], "tcp"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "/dev/tcp/" in node.value:
            reading.shell.append(node.value)
    return reading


_DECOMPRESS = {"zlib": "gzip", "gzip": "gzip", "bz2": "bzip2", "lzma": "xz"}
"""Python modules whose decompress() undoes a format decode.decompress reads (zlib's streams too)."""
_PERL_PACKED = re2.compile(r"""pack\s*\(\s*["']H\*["']\s*,\s*["']([0-9A-Fa-f]{2,})["']\s*\)""")
"""perl's pack("H*", "HEX"): the text the hex spells."""

_JOINED = re2.compile(r"\"[ \t]*[.+][ \t]*\"|'[ \t]*[.+][ \t]*'")
"""Two string literals joined (perl and php `"n"."c"`, ruby and node `"n"+"c"`): read as one."""


def _read_other(lang: str, text: str) -> CodeReading:
    text = text[:MAX_CODE]
    reading = CodeReading(Code(lang, text))
    text = _JOINED.sub("", text)
    for match in _OTHER_FEATURES.finditer(text):
        reading.code.calls.add(match.group(1))
    for match in _OTHER_SHELL.finditer(text):
        literal = match.group(1) or match.group(2)
        if literal:
            reading.shell.append(literal)
    for match in _PERL_PACKED.finditer(text):
        decoded = decode.hexdecode(match.group(1))
        if decoded:
            reading.shell.append(decoded)
    for match in _OTHER_ARGV.finditer(text):
        words = [_unbackslash(word.group(1) if word.group(1) is not None else word.group(2))
                 for word in _ARGV_WORD.finditer(match.group(1))]
        reading.argv.append(words)
    for match in _HOSTPORT.finditer(text):
        host, port = match.group(1), int(match.group(2))
        if 0 < port < 65536 and (is_ip(host) or "." in host):
            reading.endpoints.append(Endpoint(host, port, "tcp"))
    return reading


def read_code(lang: str, text: str) -> CodeReading:
    if lang == "python":
        return read_python(text)
    return _read_other(lang, text)


def _unbackslash(word: str) -> str:
    """A literal's backslash escapes taken as the character they escape (`a\\@h` is a@h)."""
    if "\\" not in word:
        return word
    out, escaped = [], False
    for char in word:
        if escaped or char != "\\":
            out.append(char)
            escaped = False
        else:
            escaped = True
    return "".join(out)
