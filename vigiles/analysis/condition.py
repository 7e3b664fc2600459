"""The condition language of rules: parsing, compiling to closures, and prefilter literals.

    condition := or
    or        := and ("or" and)*
    and       := unary ("and" unary)*
    unary     := "not" unary | "(" condition ")" | MACRO | FIELD OP [VALUE]
    OP        := = | != | < | <= | > | >= | in | contains | icontains | startswith | endswith
                 | glob | regex | pmatch | dmatch | exists
                 | ieq | istartswith | iendswith            (case-insensitive forms)
    VALUE     := word | 'quoted' | "quoted" | number | "(" item ("," item)* ")"   (items may name lists)

A field with several values (arguments, flags, hosts) satisfies a comparison when any value does.
Regular expressions are RE2 (linear time); glob is fnmatch-style, translated to RE2.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import re2

from .fields import FIELDS, Subject
from .regex import searcher

OPS = ("=", "!=", "<=", ">=", "<", ">", "in", "contains", "icontains", "startswith", "endswith", "glob",
       "regex", "pmatch", "dmatch", "exists", "ieq", "istartswith", "iendswith")
_WORD_OPS = {"in", "contains", "icontains", "startswith", "endswith", "glob", "regex", "pmatch", "dmatch", "exists"}


class RuleSyntaxError(ValueError):
    pass


@dataclass
class Hits:
    """Which leaves of a condition held: (field, value) pairs, for evidence."""

    items: list[tuple[str, Any]] = field(default_factory=list)


Pred = Callable[[Subject, Hits], bool]


# -- tokens ---------------------------------------------------------------------------------------
def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "(),":
            tokens.append(ch)
            i += 1
        elif ch in "'\"":
            end = i + 1
            buf = []
            while end < n and text[end] != ch:
                if text[end] == "\\" and end + 1 < n and text[end + 1] in (ch, "\\"):
                    end += 1
                buf.append(text[end])
                end += 1
            if end >= n:
                raise RuleSyntaxError(f"unterminated quote at offset {i}")
            tokens.append("\x00" + "".join(buf))
            i = end + 1
        elif text.startswith(("!=", "<=", ">="), i):
            tokens.append(text[i:i + 2])
            i += 2
        elif ch in "=<>":
            tokens.append(ch)
            i += 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in "(),'\"":
                if text[end] in "=<>!" and text[i:end] in FIELDS:
                    break  # `field=value` without spaces; elsewhere these characters belong to the word
                end += 1
            if end == i:
                end = i + 1
            tokens.append(text[i:end])
            i = end
    return tokens


def _is_quoted(token: str) -> bool:
    return token.startswith("\x00")


def _value(token: str) -> str:
    return token[1:] if _is_quoted(token) else token


# -- syntax tree ----------------------------------------------------------------------------------
@dataclass
class Node:
    op: str  # and, or, not, macro, cmp
    children: list["Node"] = field(default_factory=list)
    field_name: str = ""
    cmp: str = ""
    values: list[Any] = field(default_factory=list)
    macro: str = ""


MAX_NESTING = 64
"""Parentheses and `not`s a condition may nest: what evaluates it recurses that deep."""


class _Parser:
    def __init__(self, tokens: list[str], lists: dict[str, list], macros: set[str]):
        self.tokens = tokens
        self.pos = 0
        self.lists = lists
        self.macros = macros
        self.nesting = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise RuleSyntaxError("condition ends too early")
        self.pos += 1
        return token

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise RuleSyntaxError(f"unexpected {_value(self.peek())!r}")
        return node

    def or_(self) -> Node:
        nodes = [self.and_()]
        while self.peek() == "or":
            self.take()
            nodes.append(self.and_())
        return nodes[0] if len(nodes) == 1 else Node("or", nodes)

    def and_(self) -> Node:
        nodes = [self.unary()]
        while self.peek() == "and":
            self.take()
            nodes.append(self.unary())
        return nodes[0] if len(nodes) == 1 else Node("and", nodes)

    def unary(self) -> Node:
        token = self.take()
        if token in ("not", "("):
            self.nesting += 1
            if self.nesting > MAX_NESTING:
                raise RuleSyntaxError(f"nested more than {MAX_NESTING} deep")
            if token == "not":
                node = Node("not", [self.unary()])
            else:
                node = self.or_()
                if self.take() != ")":
                    raise RuleSyntaxError("missing ')'")
            self.nesting -= 1
            return node
        if _is_quoted(token):
            raise RuleSyntaxError(f"expected a field or macro, found the string {_value(token)!r}")
        if token in FIELDS:
            return self.comparison(token)
        if token in self.macros:
            return Node("macro", macro=token)
        raise RuleSyntaxError(f"unknown field or macro {token!r}")

    def comparison(self, name: str) -> Node:
        op = self.take()
        if op not in OPS:
            raise RuleSyntaxError(f"expected an operator after {name}, found {_value(op)!r}")
        if op == "exists":
            return Node("cmp", field_name=name, cmp=op)
        if self.peek() == "(":
            self.take()
            values: list[Any] = []
            while True:
                token = self.take()
                if token == ")":
                    break
                if token == ",":
                    continue
                if not _is_quoted(token) and token in self.lists:
                    values.extend(self.lists[token])
                else:
                    values.append(_value(token))
                if self.peek() not in (",", ")"):
                    # `(perl code, awk)` would be three values, perl and code among them: say so
                    raise RuleSyntaxError(f"expected , or ) after {_value(token)!r} in the values of {name}, found "
                                          f"{_value(self.peek() or 'the end')!r} (quote a value that holds spaces)")
        else:
            token = self.take()
            if not _is_quoted(token) and token in self.lists:
                values = list(self.lists[token])
            else:
                values = [_value(token)]
        return Node("cmp", field_name=name, cmp=op, values=values)


def parse(text: str, lists: dict[str, list], macros: set[str]) -> Node:
    return _Parser(tokenize(text), lists, macros).parse()


# -- compiling ------------------------------------------------------------------------------------
def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _glob_to_re2(pattern: str) -> str:
    """fnmatch-style glob as an RE2 pattern: * any run, ? one character, [...] a class."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            out.append("(?s:.*)")
        elif ch == "?":
            out.append("(?s:.)")
        elif ch == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                out.append(r"\[")
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re2.escape(ch) if not ch.isalnum() else ch)
        i += 1
    return "".join(out)


def _leaf_test(op: str, values: list[Any]) -> Callable[[Any], bool]:
    strs = [str(v) for v in values]
    if op in ("=", "in"):
        wanted = set(strs)
        return lambda v: str(v) in wanted
    if op == "!=":
        wanted = set(strs)
        return lambda v: str(v) not in wanted
    if op in ("<", "<=", ">", ">="):
        bound = _number(values[0]) if values else None
        if bound is None:
            raise RuleSyntaxError(f"{op} needs a number")
        compare = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}[op]

        def numeric(v: Any) -> bool:
            number = _number(v)
            return number is not None and compare(number, bound)
        return numeric
    if op == "contains":
        return lambda v: any(s in str(v) for s in strs)
    if op == "icontains":
        lowered = [s.lower() for s in strs]
        return lambda v: any(s in str(v).lower() for s in lowered)
    if op == "ieq":
        wanted = {s.lower() for s in strs}
        return lambda v: str(v).lower() in wanted
    if op == "istartswith":
        prefixes = tuple(s.lower() for s in strs)
        return lambda v: str(v).lower().startswith(prefixes)
    if op == "iendswith":
        suffixes = tuple(s.lower() for s in strs)
        return lambda v: str(v).lower().endswith(suffixes)
    if op == "startswith":
        prefixes = tuple(strs)
        return lambda v: str(v).startswith(prefixes)
    if op == "endswith":
        suffixes = tuple(strs)
        return lambda v: str(v).endswith(suffixes)
    if op == "pmatch":
        prefixes = tuple(s.rstrip("/") for s in strs)
        return lambda v: any(str(v) == p or str(v).startswith(p + "/") for p in prefixes)
    if op == "dmatch":
        return _in_domains(strs)
    if op in ("glob", "regex"):
        patterns = [_glob_to_re2(s) for s in strs] if op == "glob" else strs
        try:
            compiled = re2.compile("|".join(f"(?:{p})" for p in patterns))
        except re2.error as exc:
            raise RuleSyntaxError(f"bad {op} {strs!r}: {exc}") from None
        if op == "glob":
            return lambda v: compiled.fullmatch(str(v)) is not None
        matches = searcher(compiled)
        literals = [regex_literals(p, minimum=2) for p in patterns]
        if all(literals):
            # Most values cannot match: look for the pattern's literals before running RE2 on them.
            required = tuple({x for found in literals for x in found})

            def search(v: Any) -> bool:
                text = str(v)
                lowered = text.lower()
                return any(x in lowered for x in required) and matches(text)
            return search
        return lambda v: matches(str(v))
    raise RuleSyntaxError(f"unknown operator {op}")


_UNSET = object()
_COMPUTED = frozenset({"cmd.image", "cmd.hosts", "cmd.ports", "cmd.env"})
"""Command fields built on each read (lists): kept per command for the event's other rules."""


def _memoised(getter: Callable[[Subject], Any], fname: str) -> Callable[[Subject], Any]:
    def get(s: Subject) -> Any:
        memo = s.memo
        if memo is None or s.cmd is None:
            return getter(s)
        key = (id(s.cmd), fname)
        value = memo.get(key, _UNSET)
        if value is _UNSET:  # (not try/except: most lookups miss, and a raised KeyError costs more)
            value = memo[key] = getter(s)
        return value
    return get


def compile_node(node: Node, macros: dict[str, Pred]) -> Pred:
    if node.op == "and":
        parts = [compile_node(c, macros) for c in node.children]

        def all_of(s: Subject, hits: Hits) -> bool:
            mark = len(hits.items)
            for part in parts:
                if not part(s, hits):
                    del hits.items[mark:]
                    return False
            return True
        return all_of
    if node.op == "or":
        parts = [compile_node(c, macros) for c in node.children]

        def any_of(s: Subject, hits: Hits) -> bool:
            for part in parts:
                if part(s, hits):
                    return True
            return False
        return any_of
    if node.op == "not":
        inner = compile_node(node.children[0], macros)

        def negate(s: Subject, hits: Hits) -> bool:
            scratch = Hits()
            return not inner(s, scratch)
        return negate
    if node.op == "macro":
        name = node.macro

        def macro(s: Subject, hits: Hits) -> bool:
            return macros[name](s, hits)
        return macro
    getter = FIELDS[node.field_name].get
    fname = node.field_name
    if fname in _COMPUTED:
        getter = _memoised(getter, fname)
    if node.cmp == "exists":
        def exists(s: Subject, hits: Hits) -> bool:
            value = getter(s)
            return value is not None and value != [] and value != set()
        return exists
    test = _leaf_test(node.cmp, node.values)
    negative = node.cmp == "!="

    if FIELDS[fname].scope != "cmd":
        # The value depends on the event only: decide once per event and replay the hit.
        def event_leaf(s: Subject, hits: Hits) -> bool:
            memo = s.memo
            if memo is None:
                return leaf(s, hits)
            key = id(event_leaf)
            found = memo.get(key)
            if found is None:
                scratch = Hits()
                found = memo[key] = (leaf(s, scratch), scratch.items)
            if found[0]:
                hits.items.extend(found[1])
            return found[0]

    def leaf(s: Subject, hits: Hits) -> bool:
        value = getter(s)
        if value is None:
            return False
        if isinstance(value, (list, set, tuple, frozenset)):
            if isinstance(value, (set, frozenset)):
                value = sorted(value)  # the item reported as matched is the same on every run
            if negative:
                if all(test(v) for v in value):
                    hits.items.append((fname, list(value)[:5]))
                    return True
                return False
            for item in value:
                if test(item):
                    hits.items.append((fname, item))
                    return True
            return False
        if test(value):
            hits.items.append((fname, value))
            return True
        return False
    return event_leaf if FIELDS[fname].scope != "cmd" else leaf


def _in_domains(domains: list[str]) -> Callable[[Any], bool]:
    """dmatch: a host name that is one of `domains` or a subdomain of one, ignoring case and a final
    dot (`tunnel.us.ngrok.com.` is in ngrok.com; `notngrok.com` is not), as DNS names compare."""
    exact = frozenset(d.lower().rstrip(".") for d in domains)
    suffixes = tuple("." + d for d in exact)

    def in_domain(v: Any) -> bool:
        name = str(v).lower().rstrip(".")
        return name in exact or name.endswith(suffixes)
    return in_domain


# -- analysis for the prefilter and for scoping -----------------------------------------------------
SYNTHETIC_NAMES = frozenset({"assign", "write_file", "write", "create"})
"""Program names the reader gives to things that are not programs (assignments, the write tools);
they never appear in the text. A file event's command is named by its operation (chmod, delete,
rename) too, but file events run every rule of their kind without a prefilter (Engine.analyze),
so those names are needles for the texts that are searched, where they are programs."""
_NEEDLE_OPS = {"=", "in", "contains", "icontains", "startswith", "endswith", "pmatch", "dmatch", "ieq",
               "istartswith", "iendswith"}


def needles(node: Node, macro_nodes: dict[str, Node], via: bool = False) -> set[str] | None:
    """Literals of which at least one appears (lowercased) in the event's text whenever `node` holds.

    None means no such set is known and the rule must run on every event of its kinds. With `via`,
    `cmd.via` names count too (`via_names`): sound for the event's text, not for the command's own.
    """
    if node.op == "and":
        best: set[str] | None = None
        for child in node.children:
            found = needles(child, macro_nodes, via)
            if found is not None and (best is None or _quality(found) > _quality(best)):
                best = found
        return best
    if node.op == "or":
        union: set[str] = set()
        for child in node.children:
            found = needles(child, macro_nodes, via)
            if found is None:
                return None
            union |= found
        return union
    if node.op == "not":
        return None
    if node.op == "macro":
        return needles(macro_nodes[node.macro], macro_nodes, via)
    if via and node.field_name == "cmd.via":
        return via_names(node) or via_written(node)
    spec = FIELDS[node.field_name]
    if spec.needle and node.cmp == "regex" and node.values:
        out = set()
        for pattern in node.values:
            found = regex_literals(str(pattern)) or regex_literals(str(pattern), minimum=2)
            if found is None:
                return None
            out |= found
        return _sure_needles(node.field_name, out)
    if not spec.needle or node.cmp not in _NEEDLE_OPS or not node.values:
        if node.cmp == "glob" and spec.needle:
            out = set()
            for pattern in node.values:
                pieces = [p for p in _split_glob(str(pattern)) if len(p) >= 2]
                if not pieces:
                    return None
                out.add(max(pieces, key=len).lower())
            return out
        return None
    out = set()
    for value in node.values:
        text = str(value).lower()
        if node.field_name == "cmd.name" and text in SYNTHETIC_NAMES:
            return None
        if node.field_name == "code.calls":
            text = text.rsplit(".", 1)[-1]
        if len(text) < 2:
            return None
        out.add(text)
    return _sure_needles(node.field_name, out)


ONE_WORD_FIELDS = frozenset({"cmd.name", "cmd.path", "cmd.args", "cmd.writes", "cmd.reads", "cmd.hosts",
                             "cmd.pipe_from", "cmd.pipe_to", "cmd.fed_by", "code.calls", "code.modules", "proc.exe",
                             "proc.pexe", "file.path"})
"""Fields each value of which is one word of the command (a program, an argument, a path, a host):
white space in it is in the event's text as written, quoted or escaped there. A field joined from
several words (cmd.line, evt.text, cmd.env, code.text) shows one space where the text may hold a
tab, a line break or a run of spaces."""


def as_searched(literal: str) -> str:
    """A literal as the searched text shows it: texts are searched with spaces around pipes removed
    (engine._lower), and so are the literals looked for in them."""
    if "|" in literal:
        return " ".join(literal.split()).replace(" |", "|").replace("| ", "|")
    return literal


def in_text(field_name: str, literal: str) -> str:
    """A literal found in a field's value, as the event's text surely holds it: for a field joined
    from several words, of a literal with white space (but around a pipe, where the searched text
    has none either: `| bash` is `|bash`) only its longest piece ('' for none)."""
    if field_name in ONE_WORD_FIELDS or not any(ch.isspace() for ch in literal):
        return literal
    return longest_piece(as_searched(literal))


def longest_piece(literal: str) -> str:
    """Of a literal with white space, its longest piece without ('' for none): what a text that may
    hold other white space there surely holds."""
    pieces = literal.split()
    if len(pieces) == 1:  # (most literals: nothing to compare)
        return pieces[0]
    return max(pieces, key=len, default="")


def _sure_needles(field_name: str, found: set[str]) -> set[str] | None:
    out = {in_text(field_name, literal) for literal in found}
    return None if any(len(literal) < 2 for literal in out) else out


_WORD_FIELDS = frozenset({"cmd.name", "cmd.args", "cmd.hosts"})
_PROGRAM = re2.compile(r"[a-z0-9][a-z0-9_.+-]*")
_SYNTHETIC_VIA = frozenset({"function"})


def covers(literals: set[str], node: Node, macro_nodes: dict[str, Node]) -> bool:
    """Whether a text holds one of `literals` whenever `node` holds (a rule's own `prefilter` is
    trusted only then): every branch of an `or` must be covered, one part of an `and` suffices, and
    each needle of a comparison must contain one of the literals."""
    if node.op == "or":
        return all(covers(literals, child, macro_nodes) for child in node.children)
    if node.op == "and":
        return any(covers(literals, child, macro_nodes) for child in node.children)
    if node.op == "macro":
        return covers(literals, macro_nodes[node.macro], macro_nodes)
    if node.op != "cmp":
        return False
    found = needles(node, macro_nodes, via=True)
    return found is not None and all(any(lit in needle for lit in literals) for needle in found)


def via_names(node: Node) -> set[str] | None:
    """The programs a `cmd.via = X` / `in (...)` names: a command reached through `trap`, `sudo` or
    `find -exec` was read from one whose name is in the event's text (or in its reading, when the
    name was computed). Steps that are not programs (`$()`, `function`, `python code`, `script P`)
    give nothing."""
    if node.cmp not in ("=", "in") or not node.values:
        return None
    names = {str(v).lower() for v in node.values}
    if any(len(n) < 2 or n in _SYNTHETIC_VIA or not _PROGRAM.fullmatch(n) for n in names):
        return None
    return names


def via_written(node: Node) -> set[str] | None:
    """What `cmd.via regex "^writes PATH"` needs of the path (`writes ~/.bashrc`: a command of a
    file written with known content): the path is in the text that wrote it, as the target of
    `>`, `tee` or a write tool, or in what reading it revealed."""
    if node.cmp != "regex" or not node.values:
        return None
    out: set[str] = set()
    for pattern in node.values:
        pattern = str(pattern)
        if not pattern.startswith(_WRITES):
            return None
        found = regex_literals(pattern[len(_WRITES):], minimum=2)
        if not found:
            return None
        out |= found
    return out


_WRITES = "^writes "
MAX_ALTERNATIVES = 16


def alternatives(node: Node, macro_nodes: dict[str, Node], via: bool = False) -> list[list[set[str]]] | None:
    """When `node` can hold, read from its literals: a list of alternatives, each a list of literal
    sets (clauses); the node holds only if, for some alternative, every clause has a member in the
    event's text. None: nothing is known. `needles` gives one set that must be met; this also keeps
    the others, so `sudo -l` needs `-l` besides `sudo` and an ordinary `sudo apt install` is never
    read for that rule. An `and` distributes over its children's alternatives up to
    MAX_ALTERNATIVES, and beyond that adds a child's `needles` as one clause."""
    if node.op == "or":
        out: list[list[set[str]]] = []
        for child in node.children:
            found = alternatives(child, macro_nodes, via)
            if found is None:
                return None
            out.extend(found)
        if len(out) > MAX_ALTERNATIVES:
            union = needles(node, macro_nodes, via)
            return [[union]] if union else None
        return out
    if node.op == "and":
        combos: list[list[set[str]]] = [[]]
        for child in node.children:
            found = alternatives(child, macro_nodes, via)
            if found is None:
                continue
            if len(combos) * len(found) <= MAX_ALTERNATIVES:
                combos = [combo + alt for combo in combos for alt in found]
            else:
                union = needles(child, macro_nodes, via)
                if union:
                    combos = [combo + [union] for combo in combos]
        return combos if any(combos) else None
    if node.op == "macro":
        return alternatives(macro_nodes[node.macro], macro_nodes, via)
    if node.op == "not":
        return None
    if node.op == "cmp" and node.field_name == "cmd.flags" and node.cmp in ("=", "in") and node.values:
        return [[{flag_literal(str(v)) for v in node.values}]]
    if node.op == "cmp" and node.field_name == "cmd.ports" and node.cmp in ("=", "in") and node.values:
        # a port is read from digits the text shows (`:10250`, `-p 10250`); one an expansion
        # computes makes words, and then these literals are not trusted (engine._builds_words)
        ports = {str(v).strip() for v in node.values}
        return [[{str(int(p)) for p in ports}]] if all(p.isdigit() for p in ports) else None
    if node.op == "cmp" and node.cmp == "regex" and node.values and FIELDS[node.field_name].needle:
        out = []
        for pattern in node.values:
            # one character is too common to choose a rule by, but as one more part that a text
            # must hold (`@` of `http POST url @file`) it is cheap to check and often absent
            forms = regex_alternatives(str(pattern), minimum=1)
            if not forms:
                return None
            for clauses in forms:
                out.append([{in_text(node.field_name, literal) for literal in clause} for clause in clauses])
        return out if len(out) <= MAX_ALTERNATIVES else None
    found = needles(node, macro_nodes, via)
    if found and node.op == "cmp" and (_whole_word(node) or via and node.field_name == "cmd.via"):
        found = {word_literal(x) for x in found}
    return [[found]] if found else None


def regex_literals(pattern: str, minimum: int = 3) -> set[str] | None:
    """Lowercase literals one of which occurs in any text the regular expression matches, or None.

    Read from the pattern's syntax tree: a sequence takes its most selective literal run or group,
    an alternation needs literals on every branch, an optional part gives none.
    """
    tree, sre = _syntax_tree(pattern)
    if tree is None:
        return None
    return _sequence_literals(list(tree), sre, minimum)


def _syntax_tree(pattern: str):
    """The pattern's syntax tree by the stdlib's parser (RE2 syntax is a subset for this purpose),
    or None. POSIX classes (`[[:space:]]`, which RE2 has) it would read as a set and a literal `]`:
    such a pattern gets no literals."""
    if "[:" in pattern:
        return None, None
    try:
        import re._parser as sre
        return sre.parse(pattern), sre
    except Exception:  # any pattern it cannot read simply gets no literals
        return None, None


FLAG_MARK = "\x01"
WORD_MARK = "\x02"
WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
"""What a program name or an argument is made of, for the prefilter: `nc` in `sync` is not `nc`."""


def word_literal(literal: str) -> str:
    """A literal that a program name, an argument or a host must be as a whole (cmd.name = rg,
    cmd.args in (run, exec)): WORD_MARK + it, which the engine checks against the text's words
    (engine.words_of), so `rg` in `argon2` or `ag` in `package` does not count. Literals with other
    characters stay plain substrings."""
    return WORD_MARK + literal if literal and WORD_CHARS.issuperset(literal) else literal


def flag_literal(flag: str) -> str:
    """What shows an option in a command's text: a long option or a cluster as written; a single
    letter (-l) may sit in a cluster (-al), so it is FLAG_MARK + the letter, which the engine
    checks against the letters of the text's short-option words (engine.short_flags)."""
    flag = flag.lower()
    if len(flag) == 2 and flag[0] == "-" and flag[1] != "-":
        return FLAG_MARK + flag[1]
    return flag


def regex_clauses(pattern: str, minimum: int = 2) -> list[set[str]] | None:
    """Every literal set of the pattern's top-level sequence that a match must contain (one member
    of each): `^(/tmp|/dev/shm)/(sshd|crond)$` needs one of the folders and one of the names."""
    tree, sre = _syntax_tree(pattern)
    if tree is None:
        return None
    return _clauses_of(list(tree), sre, minimum) or None


def _clauses_of(items: list, sre, minimum: int) -> list[set[str]]:
    """The literal sets a match of the sequence must contain (one member of each), simplest."""
    return _simplest(_sequence_literals(items, sre, minimum, every=True))


def regex_alternatives(pattern: str, minimum: int = 2) -> list[list[set[str]]] | None:
    """`regex_clauses` of each form a match takes, where telling the forms apart says more: a
    top-level alternation is its branches, and a repeated character between literals, `c{n,}`, is
    either exactly n of it (the literals around it are then one run) or more. `/\\.? +/` needs `/ /`
    or `/. /`, or else `/  ` and `  /`: each rarer than `/ ` and ` /`, which `find / -name` has.
    None where a form gives nothing to look for; the plain `regex_clauses` where the forms would be
    more than MAX_ALTERNATIVES."""
    tree, sre = _syntax_tree(pattern)
    if tree is None:
        return None
    items = list(tree)
    if len(items) == 1 and items[0][0] is sre.BRANCH:
        sequences = [list(branch) for branch in items[0][1][1]]
    else:
        sequences = [items]
    forms: list[tuple[list, bool]] = []
    for sequence in sequences:
        forms.extend(_repeat_forms(sequence, sre))
    if len(forms) > MAX_ALTERNATIVES:
        whole = _clauses_of(items, sre, minimum)
        return [whole] if whole else None
    out = []
    for form, more_space in forms:
        clauses = _clauses_of(form, sre, minimum)
        if not clauses:
            return None
        out.append(clauses + [{UNPIPED}] if more_space else clauses)
    return out


UNPIPED = "\x03"
"""A clause of its own in a form of `regex_alternatives` that has more than the fewest of a repeated
white space: such a form is looked for only in a text with no pipe. In a text with a pipe only the
longest piece of a literal with white space is looked for (engine._required_as_searched), and the
form with the fewest white space asks no less than this one."""


def _repeat_forms(items: list, sre) -> list[tuple[list, bool]]:
    """The sequence with each `c{n,}` that has a literal on both sides written as `c{n}` and as
    `c{n+1,}` (every such form; a match has one of them), each with whether it has more than the
    fewest of a white space."""
    forms: list[tuple[list, bool]] = [([], False)]
    for position, (op, arg) in enumerate(items):
        repeated = _repeated_literal(op, arg, sre)
        if (repeated is not None and 0 < position < len(items) - 1 and _in_run(items[position - 1], sre)
                and _in_run(items[position + 1], sre) and len(forms) * 2 <= MAX_ALTERNATIVES):
            char, least = repeated
            exact = [(sre.LITERAL, ord(char))] * least
            more = [(op, (least + 1, arg[1], arg[2]))]
            forms = [shape for form, spaced in forms
                     for shape in ((form + exact, spaced), (form + more, spaced or char.isspace()))]
        else:
            forms = [(form + [(op, arg)], spaced) for form, spaced in forms]
    return forms


def _in_run(item, sre) -> bool:
    """Whether a syntax item is part of a literal run (a character, or a small choice of them)."""
    return item[0] is sre.LITERAL or _literal_choices(item[0], item[1], sre) is not None


def _simplest(clauses: list[set[str]]) -> list[set[str]]:
    """The same demand with less to check: a member that holds another (`crond` holds `cron`) adds
    nothing to its clause, and a clause is implied by one whose every member holds one of its own
    (`/tmp/` holds `/tmp`)."""
    clauses = [{x for x in c if not any(y != x and y in x for y in c)} for c in clauses]
    out: list[set[str]] = []
    for i, clause in enumerate(clauses):
        implied = any(j != i and (other != clause or j < i) and all(any(a in b for a in clause) for b in other)
                      for j, other in enumerate(clauses))
        if not implied:
            out.append(clause)
    return out


MAX_RUN_FORMS = 16


def _sequence_literals(items, sre, minimum: int, every: bool = False):
    return _literal_runs(items, sre, minimum, every)[0]


def _literal_runs(items, sre, minimum: int, every: bool = False, start: set[str] | None = None):
    """(the sequence's literals as `_sequence_literals` gives them, the forms its text may end with).

    The ending forms let a group's last literal join the one after it: `(\\.\\.\\.+| +)/` ends
    with `...` or ` `, so a match holds `.../` or ` /`. `start`: the forms of the run just before
    the sequence (a group's), which its first literal joins: `/(sshd|init)` holds `/sshd` or `/init`,
    rarer than `init` (`git init`)."""
    candidates: list[set[str]] = []
    run: set[str] = set(start) if start else {""}
    """The literal run so far, in each of its forms: `-(W|R)` is {"-W", "-R"}."""

    def close_run() -> None:
        nonlocal run
        if run != {""}:
            candidates.append({form.lower() for form in run})
        run = {""}

    def continue_with(tails: set[str] | None) -> None:
        nonlocal run
        if tails and tails != {""} and len(tails) <= MAX_RUN_FORMS:
            run = set(tails)

    for op, arg in items:
        if op is sre.LITERAL:
            run = {form + chr(arg) for form in run}
            continue
        repeated = _repeated_literal(op, arg, sre)
        if repeated is not None:
            # c{n,}: the run ends with at least n more c, and whatever follows comes right after the
            # last of them: `\\.\\.\\.+/` holds `...` and `.../`, ` +/` holds ` /`.
            char, least = repeated
            run = {form + char * least for form in run}
            ends = {char * (len(form) - len(form.rstrip(char))) for form in run}
            close_run()
            run = ends
            continue
        choices = _literal_choices(op, arg, sre)
        if choices is not None and len(run) * len(choices) <= MAX_RUN_FORMS:
            run = {form + choice for form in run for choice in choices}
            continue
        before = run if run != {""} else None
        close_run()
        if op is sre.SUBPATTERN:
            inner, tails = _literal_runs(list(arg[-1]), sre, minimum, start=before)
            if inner:
                candidates.append(inner)
            continue_with(tails)
        elif op is sre.BRANCH:
            union: set[str] | None = set()
            """Every branch's literals; None once a branch has none (the alternation then gives none)."""
            tails: set[str] | None = set()
            for branch in arg[1]:
                inner, branch_tails = _literal_runs(list(branch), sre, minimum, start=before)
                union = union | inner if union is not None and inner else None
                tails = tails | branch_tails if tails is not None and branch_tails else None
                if union is None and tails is None:
                    break
            if union:
                candidates.append(union)
            continue_with(tails)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)) and arg[0] >= 1:
            inner = _sequence_literals(list(arg[2]), sre, minimum)
            if inner:
                candidates.append(inner)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and arg[0] == 0 and arg[1] == 1 and before is not None:
            # (X)?: what follows comes right after the run before it, or after X's own ending;
            # `/(\\S*/)?(sshd|init)` holds `/sshd` or `/init` either way
            _, tails = _literal_runs(list(arg[2]), sre, minimum, start=before)
            if tails and len(before | tails) <= MAX_RUN_FORMS:
                run = before | tails
    tails = run
    close_run()
    # a member that holds another says nothing more (`-audit` beside `audit`, where a join took
    # both the forms with and without what came before)
    candidates = [{x for x in c if not any(y != x and y in x for y in c)} for c in candidates]
    usable = [c for c in candidates if c and min(len(x) for x in c) >= minimum]
    if every:
        return usable, tails
    return (max(usable, key=_quality) if usable else None), tails


def _repeated_literal(op, arg, sre) -> tuple[str, int] | None:
    """(c, n) for `c{n,}` with n >= 1 and no upper bound (`c+`), else None."""
    if op is not sre.MAX_REPEAT and op is not sre.MIN_REPEAT:
        return None
    least, most, inner = arg
    inner = list(inner)
    if least >= 1 and most is sre.MAXREPEAT and len(inner) == 1 and inner[0][0] is sre.LITERAL:
        return chr(inner[0][1]), least
    return None


def _literal_choices(op, arg, sre) -> list[str] | None:
    """The strings a small alternation of plain literals (`(W|R)`, `[WR]`, `x?`) can stand for, else None."""
    if op is sre.MAX_REPEAT or op is sre.MIN_REPEAT:
        least, most, inner = arg
        inner = list(inner)
        if least == 0 and most == 1 and len(inner) == 1 and inner[0][0] is sre.LITERAL:
            return ["", chr(inner[0][1])]
        return None
    if op is sre.SUBPATTERN:
        inner = list(arg[-1])
        if len(inner) != 1:
            return _plain_string(inner, sre)
        op, arg = inner[0]
    if op is sre.BRANCH:
        out = []
        for branch in arg[1]:
            text = _plain_string(list(branch), sre)
            if text is None:
                return None
            out.append(text[0])
        return out
    if op is sre.IN and arg and all(kind is sre.LITERAL for kind, _ in arg):
        return [chr(code) for _, code in arg]
    if op is sre.LITERAL:
        return [chr(arg)]
    return None


def _plain_string(items, sre) -> list[str] | None:
    if items and all(op is sre.LITERAL for op, _ in items):
        return ["".join(chr(code) for _, code in items)]
    return None


def name_needles(node: Node, macro_nodes: dict[str, Node], via: bool = False) -> set[str]:
    """Needles that are whole words of the command (a program, an argument, a host named exactly).

    The prefilter counts them only where they stand as a word, so `nc` in `sync` or `tor` in
    `monitor` makes no candidate.
    """
    def leaf(node: Node) -> set[str]:
        if _whole_word(node):
            return {str(v).lower() for v in node.values}
        if via and node.field_name == "cmd.via":
            return via_names(node) or set()
        return set()
    return _gather(node, macro_nodes, leaf)


def substring_needles(node: Node, macro_nodes: dict[str, Node]) -> set[str]:
    """Literals that comparisons other than whole-word ones (`icontains`, `startswith`, regex, ...)
    look for: where a name needle is one of them too, it must count anywhere, not only as a word
    (`cmd.name = reptile or cmd.args icontains reptile`)."""
    return _gather(node, macro_nodes, lambda leaf: set() if _whole_word(leaf) or leaf.field_name == "cmd.via"
                   else needles(leaf, macro_nodes) or set())


def _whole_word(node: Node) -> bool:
    """A comparison that a program name, an argument or a host meets only as a whole word."""
    return node.field_name in _WORD_FIELDS and node.cmp in ("=", "in", "ieq")


def _gather(node: Node, macro_nodes: dict[str, Node], leaf: Callable[[Node], set[str]]) -> set[str]:
    """The union of `leaf` over every comparison of the condition, macros expanded."""
    if node.op == "cmp":
        return leaf(node)
    if node.op == "macro":
        return _gather(macro_nodes[node.macro], macro_nodes, leaf)
    out: set[str] = set()
    for child in node.children:
        out |= _gather(child, macro_nodes, leaf)
    return out


def _split_glob(pattern: str) -> list[str]:
    pieces, buf = [], []
    depth = 0
    for ch in pattern:
        if ch == "[":
            depth += 1
        if ch in "*?[]" or depth:
            if buf:
                pieces.append("".join(buf))
                buf = []
            if ch == "]":
                depth = max(0, depth - 1)
            continue
        buf.append(ch)
    if buf:
        pieces.append("".join(buf))
    return pieces


COMMON_WORDS = frozenset({
    "create", "start", "stop", "run", "scale", "launch", "add", "set", "get", "list", "delete", "remove", "update",
    "restart", "enable", "disable", "install", "up", "down", "new", "show", "status", "service", "systemctl",
    "sudo", "exec", "user", "http", "https", "curl", "wget", "file", "path", "name", "test", "config", "data",
    "instances", "instance", "server", "client", "send", "open", "read", "write", "copy", "echo", "cat", "tmp",
    "find", "grep", "env", "export", "exec", "set", "bash", "python", "python3", "/tmp/", "git", "docker",
    "-name", "-iname", "-type", "-exec", "-print", "-path", "-delete", "-mtime", "-size", "--help", "--version",
})
"""Words too common in ordinary commands to choose as a rule's prefilter literal when another will do."""


def _quality(found: set[str]) -> float:
    """How selective a set of literals is likely to be: longer is rarer; common words, short
    options (-name, -l) and a space with a character or two after it are seen in ordinary commands
    all the time."""
    common = sum(1 for x in found if x in COMMON_WORDS or (x.startswith("-") and len(x) <= 3)
                 or (x[:1].isspace() and len(x) <= 3))  # ` /`, ` -x`: the start of any word
    return min((len(x) for x in found), default=0) - len(found) / 100 - 10 * common


def field_names(node: Node, macro_nodes: dict[str, Node]) -> set[str]:
    return _gather(node, macro_nodes, lambda leaf: {leaf.field_name})
