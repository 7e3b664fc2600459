"""Static reading of interpreter snippets (python -c, perl -e, php -r, node -e, ruby -e).

Python is read with `ast` (parsing only; nothing is ever evaluated). The other languages are read
for the few things rules need: which calls run a shell, which open sockets, and the string
literals handed to them, which are then read as shell in turn.
"""
from __future__ import annotations

import ast
import base64
import binascii
import codecs
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
    r"""(?:system|exec|shell_exec|passthru|popen|proc_open|execSync|spawnSync|spawn|execFile|`)\s*\(?\s*(?:\[\s*)?"""
    r"""(?:"((?:[^"\\]|\\.)+)"|'((?:[^'\\]|\\.)+)')""")
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
_INDIRECT_EXEC = re2.compile(
    r"""(?:system|exec)\s*\{\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')\s*\}\s*\(?\s*"""
    r"""(?:((?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')(?:\s*,\s*(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))*)"""
    r"""|qw\s*[(\[{/<|]([^)\]}/>|]*))""")
"""perl's `exec {PROGRAM} NAME, ARGS`: PROGRAM run with NAME for its argv[0], the name ps shows; the
list as quoted words or as `qw(NAME ARGS)` (words split at white space)."""
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
    writes: list[tuple[str, str | None, bool]] = field(default_factory=list)
    """Files the code opens for writing or appending: (path, what it writes there where a literal
    says (`open(p, 'a').write('...')`, `Path(p).write_text('...')`) else None, whether it appends)."""


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


def _literal(node: ast.AST, names: dict | None = None, depth: int = 0) -> object:
    """A node's value where the code fixes it: literals, and with `names` (what simple assignments
    set, `_assigned`) the expressions agents build commands with (`_computed`)."""
    if names is not None and depth <= MAX_JOIN_DEPTH:
        value = _computed(node, names, depth)
        if value is not None:
            return value
    folded = _joined(node, 0)
    if folded is not None:
        return folded
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _sized(value: object) -> object:
    return value if not isinstance(value, (str, bytes, list, tuple)) or len(value) <= MAX_JOINED else None


def _computed(node: ast.AST, names: dict, depth: int) -> object:
    """Names, `+` of strings or lists, f-strings, `sep.join(...)` (of strings, or of chr() over a
    list of ints), chr(), str(), `[::-1]`, .replace(), .decode(), .split(), bytes([...]), codecs rot13
    and the decoders of _decoded_literal; None for anything else."""
    value = lambda child: _literal(child, names, depth + 1)  # noqa: E731
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = value(node.left), value(node.right)
        if isinstance(left, (str, bytes, list)) and type(left) is type(right):
            return _sized(left + right)
        return None
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [value(e) for e in node.elts[:MAX_ITEMS]]
        return items if all(i is not None for i in items) and len(node.elts) <= MAX_ITEMS else None
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            got = value(part.value) if isinstance(part, ast.FormattedValue) else value(part)
            if got is None:
                return None
            parts.append(str(got))
        return _sized("".join(parts))
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
        whole = value(node.value)
        step = node.slice.step
        if (isinstance(whole, (str, bytes)) and node.slice.lower is None and node.slice.upper is None
                and isinstance(step, ast.UnaryOp) and isinstance(step.op, ast.USub)
                and isinstance(step.operand, ast.Constant) and step.operand.value == 1):
            return whole[::-1]
        return None
    if not isinstance(node, ast.Call):
        return None
    func, args = node.func, node.args
    name = _dotted(func)
    if name in ("chr", "str") and len(args) == 1:
        got = value(args[0])
        if name == "chr":
            return chr(got) if isinstance(got, int) and 0 <= got < 0x110000 else None
        return got if isinstance(got, str) else None
    if name == "bytes" and len(args) == 1:
        got = value(args[0])
        if isinstance(got, list) and all(isinstance(i, int) and 0 <= i < 256 for i in got):
            return bytes(got)
        return None
    if name in ("codecs.decode", "codecs.encode") and len(args) == 2:
        text, how = value(args[0]), value(args[1])
        if isinstance(text, str) and how in ("rot13", "rot_13", "ROT13"):
            return codecs.encode(text, "rot13")
        return None
    if isinstance(func, ast.Attribute):
        owner = value(func.value)
        if func.attr == "join" and isinstance(owner, str) and len(args) == 1:
            items = _iterated(args[0], names, depth)
            return _sized(owner.join(items)) if items is not None else None
        if func.attr == "replace" and isinstance(owner, str) and len(args) == 2:
            old, new = value(args[0]), value(args[1])
            if isinstance(old, str) and isinstance(new, str) and old:
                return _sized(owner.replace(old, new))
            return None
        if func.attr == "decode" and isinstance(owner, bytes):
            return decode.as_text(owner)
        if func.attr == "decode" and isinstance(owner, str):
            return owner  # (what a decoder here gives is already text: `bytes.fromhex('..').decode()`)
        if func.attr == "split" and isinstance(owner, str) and len(args) <= 1:
            sep = value(args[0]) if args else None
            if args and not (isinstance(sep, str) and sep):
                return None
            words = owner.split(sep)
            return words if len(words) <= MAX_ITEMS else None
    decoded = _decoded_literal(node, names) if name.endswith(("decode", "fromhex", "unhexlify", "decompress")) else None
    return decoded


def _iterated(node: ast.AST, names: dict, depth: int) -> list[str] | None:
    """The strings `sep.join(...)` gets: a list or tuple of them, `chr(x) for x in [ints]` or
    `map(chr, [ints])`."""
    if (isinstance(node, ast.Call) and _dotted(node.func) == "map" and len(node.args) == 2
            and _dotted(node.args[0]) == "chr"):
        codes = _literal(node.args[1], names, depth + 1)
        if isinstance(codes, (list, tuple)) and len(codes) <= MAX_JOINED and all(
                isinstance(c, int) and 0 <= c < 0x110000 for c in codes):
            return [chr(c) for c in codes]
        return None
    if isinstance(node, (ast.GeneratorExp, ast.ListComp)) and len(node.generators) == 1:
        loop = node.generators[0]
        element = node.elt
        if (not loop.ifs and isinstance(loop.target, ast.Name) and isinstance(element, ast.Call)
                and _dotted(element.func) == "chr" and len(element.args) == 1
                and isinstance(element.args[0], ast.Name) and element.args[0].id == loop.target.id):
            codes = _literal(loop.iter, names, depth + 1)
            if isinstance(codes, (list, tuple)) and len(codes) <= MAX_JOINED and all(
                    isinstance(c, int) and 0 <= c < 0x110000 for c in codes):
                return [chr(c) for c in codes]
        return None
    items = _literal(node, names, depth + 1)
    if isinstance(items, (list, tuple)) and all(isinstance(i, str) for i in items):
        return list(items)
    return None


MAX_ITEMS = 4096
MAX_NAMES = 256


def _assigned(nodes: list[ast.AST]) -> dict:
    """What simple assignments (`cmd = '...'`, `parts = [...]`) set, in the order they are written, each
    value computed from the names set before it; a name set twice keeps the later value."""
    names: dict = {}
    assignments = sorted((n for n in nodes if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None),
                         key=lambda n: (n.lineno, n.col_offset))
    for node in assignments:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            continue
        value = _literal(node.value, names)
        if value is not None and (targets[0].id in names or len(names) < MAX_NAMES):
            names[targets[0].id] = value
    return names


def _call_name(func: ast.AST, names: dict) -> str:
    """A call's dotted name; `getattr(os, 'sys' + 'tem')` is os.system."""
    if isinstance(func, ast.Call) and _dotted(func.func) == "getattr" and len(func.args) >= 2:
        attribute = _literal(func.args[1], names)
        if isinstance(attribute, str):
            return f"{_dotted(func.args[0])}.{attribute}"
    return _dotted(func)


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


def _decoded_literal(node: ast.AST, names: dict | None = None) -> str | None:
    """The text of b64decode('...') / b32decode / bytes.fromhex('...') / zlib.decompress(...) /
    '...'[::-1] arguments, when literal."""
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        inner = node.args[0] if node.args else None
        if inner is None:
            return None
        value = _literal(inner, names)
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
            packed = _decoded_literal(inner, names)
            module = name.rsplit(".", 2)[-2] if "." in name else ""  # zlib of zlib.decompress
            return decode.decompress(_DECOMPRESS.get(module, "gzip"), packed) if packed is not None else None
        if name.endswith("decode") and isinstance(inner, ast.Call):
            return _decoded_literal(inner, names)
        if name.endswith("decode"):
            return _decoded_literal(node.func.value, names) if isinstance(node.func, ast.Attribute) else None
    value = _literal(node, names)
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


def _exec_argv(name: str, args: list[ast.expr], names: dict | None = None) -> list[str] | None:
    """What an os.exec*/os.spawn*/os.posix_spawn* call runs: the program it names, then the
    arguments after argv[0] (which is only the name the process shows: `os.execv('/usr/bin/ssh',
    ['kworker', '-R', ...])` runs ssh). [] when they are not literals; None for other calls."""
    if name in _EXEC_ARGV:
        at, listed = _EXEC_ARGV[name]
        if len(args) <= listed:
            return []
        program, values = _literal(args[at], names), _literal(args[listed], names)
        if not isinstance(program, str) or not isinstance(values, (list, tuple)):
            return []
        rest = list(values[1:])
    elif name in _EXEC_LISTED:
        at = _EXEC_LISTED[name]
        if len(args) <= at:
            return []
        program = _literal(args[at], names)
        rest = []
        for node in args[at + 2:]:
            value = _literal(node, names)
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
    names = _assigned(nodes)
    for node in nodes:
        if isinstance(node, ast.Call):
            name = _call_name(node.func, names)
            head, _, tail = name.partition(".")
            if head in aliases:
                name = aliases[head] + ("." + tail if tail else "")
            if name == "__import__" and node.args:
                module = _literal(node.args[0], names)
                if isinstance(module, str):
                    code.modules.add(module)
            code.calls.add(name)
            short = name.rsplit(".", 1)[-1]
            argv = _exec_argv(name, node.args, names)
            if argv is not None:
                if argv:
                    reading.argv.append(argv)
            elif (name in _SHELL_CALLS or short in ("system", "popen", "Popen", "check_output", "spawn")) and node.args:
                first = node.args[0]
                value = _literal(first, names)
                if isinstance(value, str):
                    reading.shell.append(value)
                elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                    reading.argv.append(list(value))
                else:
                    decoded = _decoded_literal(first, names)
                    if decoded:
                        reading.shell.append(decoded)
            if short in ("exec", "eval", "compile") and node.args:
                decoded = _decoded_literal(node.args[0], names)
                if decoded and decoded != text:
                    reading.python.append(decoded)
            if short in ("connect", "connect_ex", "create_connection", "bind") and node.args:
                target = _literal(node.args[0], names)
                if isinstance(target, list):
                    target = tuple(target)
                if isinstance(target, tuple) and len(target) >= 2 and isinstance(target[1], int):
                    host = target[0] if isinstance(target[0], str) else None
                    reading.endpoints.append(Endpoint(host, target[1], "tcp"))
            if len(reading.writes) < MAX_CODE_WRITES:
                written = _file_written(node, name, short, names)
                if written is not None:
                    reading.writes.append(written)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and "/dev/tcp/" in node.value:
            reading.shell.append(node.value)
    return reading


MAX_CODE_WRITES = 64
_WRITE_MODES = frozenset("wax+")


def _file_written(call: ast.Call, name: str, short: str, names: dict) -> tuple[str, str | None, bool] | None:
    """(path, literal content or None, appending) where `call` opens a file to write or writes one:
    open(P, 'w') (io.open, codecs.open) and its .write(S); Path(P).write_text(S) and write_bytes."""
    opened = call
    content = None
    if short in ("write", "writelines") and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Call):
        opened = call.func.value  # open(P, 'a').write(S)
        if call.args:
            value = _literal(call.args[0], names)
            content = value if isinstance(value, str) else None
    elif short in ("write_text", "write_bytes") and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Call):
        target = call.func.value
        if _call_name(target.func, names).rsplit(".", 1)[-1] in ("Path", "PosixPath") and target.args:
            path = _literal(target.args[0], names)
            if isinstance(path, str) and call.args:
                value = _literal(call.args[0], names)
                return path, value if isinstance(value, str) else None, False
        return None
    opener = name if opened is call else _call_name(opened.func, names)
    if opener not in ("open", "io.open", "codecs.open") or not opened.args:
        return None
    path = _literal(opened.args[0], names)
    mode = _literal(opened.args[1], names) if len(opened.args) > 1 else next(
        (_literal(k.value, names) for k in opened.keywords if k.arg == "mode"), "r")
    if not isinstance(path, str) or not isinstance(mode, str) or not _WRITE_MODES.intersection(mode):
        return None
    return path, content, "a" in mode


_DECOMPRESS = {"zlib": "gzip", "gzip": "gzip", "bz2": "bzip2", "lzma": "xz"}
"""Python modules whose decompress() undoes a format decode.decompress reads (zlib's streams too)."""
_PERL_PACKED = re2.compile(r"""pack\s*\(\s*["']H\*["']\s*,\s*["']([0-9A-Fa-f]{2,})["']\s*\)""")
"""perl's pack("H*", "HEX"): the text the hex spells."""

_FEATURE_WORDS = ("ocket", "sockopen", "net.", "createConnection", "child_process", "require(", "exec", "system",
                  "popen", "proc_open", "passthru", "dup2", "STDIN", "/dev/tcp", "base64_decode", "b64decode", "eval",
                  "fork")
"""Words one of which each of _OTHER_FEATURES' alternatives holds (Socket and socket both end in `ocket`)."""
_RUN_WORDS = ("system", "exec", "passthru", "popen", "proc_open", "spawn", "`")
"""Words one of which _OTHER_SHELL, _OTHER_ARGV and _INDIRECT_EXEC each need (execSync and shell_exec hold exec)."""
_JOINED = re2.compile(r"\"[ \t]*[.+][ \t]*\"|'[ \t]*[.+][ \t]*'")
"""Two string literals joined (perl and php `"n"."c"`, ruby and node `"n"+"c"`): read as one."""


_STRING_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "e": "\x1b", "a": "\a", "f": "\f", "v": "\v"}
_STRING_ESCAPE = re2.compile(r"\\(x\{[0-9A-Fa-f]{1,6}\}|x[0-9A-Fa-f]{1,2}|u\{[0-9A-Fa-f]{1,6}\}|u[0-9A-Fa-f]{4}|[0-7]{1,3}|(?s:.))")


def _escaped(match) -> str:
    code = match.group(1)
    if code[0] in "xu" and len(code) > 1:
        digits = code[1:].strip("{}")
        value = int(digits, 16)
        return chr(value) if value < 0x110000 and not 0xD800 <= value < 0xE000 else ""
    if code[0] in "01234567":
        return chr(int(code, 8))
    return _STRING_ESCAPES.get(code, code)


def _double_quoted(body: str) -> str:
    r"""A double-quoted string's text in perl, ruby, php or JavaScript: `\x6e`, `\156`, `\u006e`,
    `\n` and the like, and a backslash before any other character quoting it (`u\@h` is u@h)."""
    if "\\" not in body:
        return body
    return _STRING_ESCAPE.sub(_escaped, body)


def _single_quoted(body: str) -> str:
    r"""A single-quoted string's text in perl, ruby or php: only `\\` and `\'` are escapes."""
    return body.replace("\\'", "'").replace("\\\\", "\\") if "\\" in body else body


def _read_other(lang: str, text: str) -> CodeReading:
    text = text[:MAX_CODE]
    reading = CodeReading(Code(lang, text))
    # Each pattern is searched only where the words it needs are in the text (re2's Python search costs
    # a few µs even where nothing matches; most code an agent runs, awk's above all, calls nothing).
    quoted = '"' in text or "'" in text
    if quoted and ("." in text or "+" in text):
        text = _JOINED.sub("", text)
    if any(word in text for word in _FEATURE_WORDS):
        for match in _OTHER_FEATURES.finditer(text):
            reading.code.calls.add(match.group(1))
    runs = any(word in text for word in _RUN_WORDS)
    if runs:
        for match in _OTHER_SHELL.finditer(text):
            literal = _double_quoted(match.group(1)) if match.group(1) else _single_quoted(match.group(2) or "")
            if literal:
                reading.shell.append(literal)
    if "pack" in text:
        for match in _PERL_PACKED.finditer(text):
            decoded = decode.hexdecode(match.group(1))
            if decoded:
                reading.shell.append(decoded)
    if runs and quoted:
        for match in _OTHER_ARGV.finditer(text):
            reading.argv.append(_quoted_words(match.group(1)))
        for match in _INDIRECT_EXEC.finditer(text):
            words = _quoted_words(match.group(3)) if match.group(3) is not None else match.group(4).split()
            reading.argv.append([_quoted(match), *words[1:]])
    for match in _HOSTPORT.finditer(text) if quoted else ():
        host, port = match.group(1), int(match.group(2))
        if 0 < port < 65536 and (is_ip(host) or "." in host):
            reading.endpoints.append(Endpoint(host, port, "tcp"))
    return reading


def _quoted(match) -> str:
    """The text of a double- or single-quoted literal matched as groups 1 and 2 (_ARGV_WORD's shape)."""
    return decode.unbackslash(match.group(1) if match.group(1) is not None else match.group(2))


def _quoted_words(text: str) -> list[str]:
    """Each quoted literal of a list (`"ssh", '-R', ...`), as _quoted reads it."""
    return [_quoted(word) for word in _ARGV_WORD.finditer(text)]


def read_code(lang: str, text: str) -> CodeReading:
    if lang == "python":
        return read_python(text)
    return _read_other(lang, text)
