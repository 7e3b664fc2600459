"""Rule files: lists, macros, rules and exceptions in YAML (docs/rules.md), loaded into a RuleSet.

Parsing is kept apart from evaluation (as in pySigma): this module turns text into checked,
compiled rules; `engine` decides which rules to run on an event and runs them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Iterable

import yaml

from . import condition as cond
from .fields import FIELDS

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
CATEGORIES = ("network_access", "compute_acquisition", "financial_acquisition", "supervision_evasion",
              "persistence", "self_replication", "privilege_escalation", "credential_access",
              "reconnaissance")
KINDS = ("action", "process", "network", "gpu", "job", "file")
_SCOPE_KINDS = {"cmd": {"action", "process", "file"}, "process": {"process"}, "network": {"network"},
                "gpu": {"gpu"}, "file": {"file"}}


_ELSEWHERE = frozenset({"cmd.pipe_from", "cmd.pipe_to", "cmd.fed_by", "cmd.via"})
"""Command fields whose values name other commands, so they are not in the command's own text."""
PURE_FIELDS = frozenset(name for name, spec in FIELDS.items() if spec.scope == "cmd") | {"evt.text", "evt.kind", "evt.tool"}


class RuleError(ValueError):
    """A rule file problem, naming the file and the rule."""


@dataclass
class Rule:
    id: str
    title: str
    category: str
    severity: str
    condition: str
    attack: list[str] = field(default_factory=list)
    description: str = ""
    why: str = ""
    kinds: set[str] = field(default_factory=set)
    exceptions: list[tuple[str, str]] = field(default_factory=list)
    enabled: bool = True
    source: str = ""
    tags: list[str] = field(default_factory=list)
    # compiled parts
    predicate: Any = None
    exception_predicates: list[Any] = field(default_factory=list)
    needles: set[str] | None = None
    word_needles: set[str] = field(default_factory=set)
    """Needles that are program names: they count only where they stand as a whole word."""
    requires: tuple[tuple[tuple[str, ...], ...], ...] | None = None
    """What the text must hold besides a needle (cond.alternatives): for some alternative, a member
    of each of its literal sets. None when the needles say all that is known."""
    per_command: bool = True
    kind_needles: dict[str, set[str] | None] | None = None
    """Needles for one kind of event text in place of `needles` (Sigma rules: a process event's
    text holds its executable, so Image values are needles there and nowhere else)."""
    kind_requires: dict[str, tuple | None] | None = None
    """`requires` for one kind of event text in place of `requires`, as kind_needles."""
    cmd_needles: set[str] | None = None
    """Literals inferred from the condition (whatever `needles` were chosen) of which one is in the
    text of the very command the rule matches (with its pipe neighbours and `via`): set when every
    field the rule reads belongs to the command, except `cmd.env` (every command carries the
    variables assigned before it, which its own text does not show). A long script then runs the
    rule only on the commands that hold one."""
    cmd_word_needles: set[str] = field(default_factory=set)
    pure: bool = False
    """Whether the rule reads only the command text and what was read from it (not host, time, ...),
    so its verdict on a given text can be reused."""
    prefilter_ignored: bool = False
    """The rule's own `prefilter` list was set aside: it does not cover every branch of the
    condition (cond.covers), so commands the rule matches could pass it unread."""
    origin: str = "vigiles"
    """'vigiles' for rules in our format, 'sigma' for imported Sigma rules."""
    uses_sent_files: bool = False
    """The condition reads cmd.sent_files: its findings also name the events that sent those files
    (Cmd.sent_events), which other rules on the same command do not draw on."""
    own_process: bool = False
    """On a process event, the rule is about the process itself (its exe, argv and parent, as Sigma's
    process_creation is), not about the commands its argv runs: it sees the exec's own command only,
    and where every process rule is such a rule, argv is not read any further (Engine)."""
    reads_parent: bool = True
    """The condition reads a process's parent (proc.pexe, proc.pcmdline) or the event's whole text, which
    holds the parent's line: only then can a literal found in that line make the rule a candidate."""

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]


@dataclass
class RuleSet:
    rules: list[Rule] = field(default_factory=list)
    lists: dict[str, list] = field(default_factory=dict)
    macros: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """Rules that could not be loaded, with the reason; loading goes on past them."""

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}


def builtin_paths() -> list[Path]:
    root = resources.files("vigiles.rules")
    return sorted(Path(str(p)) for p in root.iterdir() if str(p).endswith(".yaml"))


def _items(doc: Any, where: str) -> list[dict]:
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise RuleError(f"{where}: a rule file is a YAML list of list/macro/rule items")
    return doc


class Loader:
    """Accumulates files in order; later files may add to lists, override rules, append exceptions."""

    def __init__(self) -> None:
        self.lists: dict[str, list] = {}
        self.macros: dict[str, str] = {}
        self.raw_rules: dict[str, tuple[dict, str]] = {}
        self.order: list[str] = []
        self.appends: list[tuple[str, dict, str]] = []
        self.problems: list[str] = []

    def add_text(self, text: str, where: str) -> None:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise RuleError(f"{where}: not valid YAML: {exc}") from None
        for index, item in enumerate(_items(doc, where)):
            place = f"{where} item {index + 1}"
            if not isinstance(item, dict):
                self.problems.append(f"{place}: expected a mapping")
                continue
            if "list" in item:
                values = item.get("items") or []
                if not isinstance(values, list):
                    self.problems.append(f"{place}: list {item['list']!r} needs 'items' as a list")
                    continue
                name = str(item["list"])
                if item.get("append") and name in self.lists:
                    self.lists[name] = self.lists[name] + [str(v) for v in values]
                else:
                    self.lists[name] = [str(v) for v in values]
            elif "macro" in item:
                name = str(item["macro"])
                text_ = item.get("condition")
                if not isinstance(text_, str):
                    self.problems.append(f"{place}: macro {name!r} needs a 'condition' string")
                    continue
                if item.get("append") and name in self.macros:
                    self.macros[name] = f"({self.macros[name]}) or ({text_})"
                else:
                    self.macros[name] = text_
            elif "rule" in item:
                name = str(item["rule"])
                if item.get("append") or set(item) <= {"rule", "enabled", "exceptions", "append"}:
                    if name in self.raw_rules:
                        self.appends.append((name, item, place))
                        continue
                if name not in self.raw_rules:
                    self.order.append(name)
                self.raw_rules[name] = (item, place)
            else:
                self.problems.append(f"{place}: expected one of 'list', 'macro' or 'rule'")

    def add_file(self, path: Path) -> None:
        self.add_text(path.read_text(encoding="utf-8"), str(path))

    def build(self) -> RuleSet:
        for name, item, place in self.appends:
            base, where = self.raw_rules[name]
            merged = dict(base)
            if "enabled" in item:
                merged["enabled"] = item["enabled"]
            if item.get("exceptions"):
                merged["exceptions"] = list(base.get("exceptions") or []) + list(item["exceptions"])
            self.raw_rules[name] = (merged, where)
        ruleset = RuleSet(lists=self.lists, macros=self.macros, problems=list(self.problems))
        macro_nodes: dict[str, cond.Node] = {}
        macro_preds: dict[str, cond.Pred] = {}
        names = set(self.macros)
        for name, text in self.macros.items():
            try:
                macro_nodes[name] = cond.parse(text, self.lists, names)
            except cond.RuleSyntaxError as exc:
                ruleset.problems.append(f"macro {name!r}: {exc}")
        _check_macro_cycles(macro_nodes, ruleset.problems)
        for name, node in macro_nodes.items():
            try:
                macro_preds[name] = cond.compile_node(node, macro_preds)
            except cond.RuleSyntaxError as exc:
                ruleset.problems.append(f"macro {name!r}: {exc}")
        for name in self.order:
            item, place = self.raw_rules[name]
            try:
                rule = _build_rule(name, item, place, self.lists, names, macro_nodes, macro_preds)
            except (RuleError, cond.RuleSyntaxError) as exc:
                ruleset.problems.append(f"{place}: rule {name!r}: {exc}")
                continue
            if rule.enabled:
                ruleset.rules.append(rule)
        return ruleset


def _check_macro_cycles(nodes: dict[str, cond.Node], problems: list[str]) -> None:
    def refs(node: cond.Node) -> set[str]:
        if node.op == "macro":
            return {node.macro}
        out: set[str] = set()
        for child in node.children:
            out |= refs(child)
        return out

    state: dict[str, int] = {}

    def visit(name: str) -> None:
        state[name] = 1
        for ref in refs(nodes.get(name, cond.Node("and"))):
            if state.get(ref) == 1:
                problems.append(f"macro {name!r} refers to itself through {ref!r}")
                nodes.pop(name, None)
                return
            if ref not in state:
                visit(ref)
        state[name] = 2

    for name in list(nodes):
        if name not in state:
            visit(name)


def _build_rule(name, item, place, lists, macro_names, macro_nodes, macro_preds) -> Rule:
    for required in ("condition", "category", "severity"):
        if required not in item:
            raise RuleError(f"missing '{required}'")
    severity = str(item["severity"]).lower()
    if severity not in SEVERITY_RANK:
        raise RuleError(f"severity must be one of {', '.join(SEVERITIES)}")
    category = str(item["category"])
    if category not in CATEGORIES:
        raise RuleError(f"category must be one of {', '.join(CATEGORIES)}")
    text = item["condition"]
    if not isinstance(text, str):
        raise RuleError("'condition' must be a string")
    node = cond.parse(text, lists, macro_names)
    predicate = cond.compile_node(node, macro_preds)
    used = cond.field_names(node, macro_nodes)
    exceptions: list[tuple[str, str]] = []
    exception_preds = []
    for index, exc in enumerate(item.get("exceptions") or []):
        if not isinstance(exc, dict) or not isinstance(exc.get("condition"), str):
            raise RuleError(f"exception {index + 1} needs a 'condition' string")
        exc_node = cond.parse(exc["condition"], lists, macro_names)
        exceptions.append((str(exc.get("name", f"exception {index + 1}")), exc["condition"]))
        exception_preds.append(cond.compile_node(exc_node, macro_preds))
        used |= cond.field_names(exc_node, macro_nodes)
    scopes = {FIELDS[f].scope for f in used}
    kinds = set(item.get("kinds") or [])
    if kinds - set(KINDS):
        raise RuleError(f"unknown kinds {sorted(kinds - set(KINDS))}")
    if not kinds:
        narrowed = [(_SCOPE_KINDS[s]) for s in scopes if s in _SCOPE_KINDS]
        kinds = set.intersection(*narrowed) if narrowed else set(KINDS)
        if not kinds:
            raise RuleError("the condition mixes fields of different event kinds")
    # Literals inferred from the condition are sound and, for names, whole-word; a rule's own
    # `prefilter` is used where none can be inferred, or where it is more selective and provably
    # sound (cond.covers): a hand-written `|sh` misses `curl ... | nice bash`.
    # The event's literals may come from commands that led to this one (`cmd.via`); a command's own
    # literals (per-command scoping) may not.
    needles = cond.needles(node, macro_nodes, via=True)
    anywhere = cond.substring_needles(node, macro_nodes)
    word_needles = cond.name_needles(node, macro_nodes, via=True) - anywhere if needles is not None else set()
    inferred_needles = cond.needles(node, macro_nodes)
    inferred_words = cond.name_needles(node, macro_nodes) - anywhere if inferred_needles is not None else set()
    prefilter_ignored = False
    if item.get("prefilter"):
        explicit = {str(p).lower() for p in item["prefilter"]}
        sound = cond.covers(explicit, node, macro_nodes)
        if needles is None or (sound and cond._quality(explicit) > cond._quality(needles)):
            needles, word_needles = explicit, set()
        else:
            prefilter_ignored = not sound
    requires = _requires(cond.alternatives(node, macro_nodes, via=True), needles)
    attack = item.get("attack") or []
    if isinstance(attack, str):
        attack = [attack]
    return Rule(
        id=name, title=str(item.get("title") or name), category=category, severity=severity,
        condition=text, attack=[str(a) for a in attack], description=str(item.get("description") or ""),
        why=str(item.get("why") or ""), kinds=kinds, exceptions=exceptions,
        enabled=bool(item.get("enabled", True)), source=place, tags=[str(t) for t in item.get("tags") or []],
        predicate=predicate, exception_predicates=exception_preds,
        needles=needles,
        word_needles=word_needles,
        requires=requires,
        per_command=any(FIELDS[f].scope == "cmd" for f in used),
        pure=used <= PURE_FIELDS,
        cmd_needles=(inferred_needles if all(FIELDS[f].scope == "cmd" for f in used) and "cmd.env" not in used
                     else None),
        cmd_word_needles=inferred_words,
        prefilter_ignored=prefilter_ignored,
        uses_sent_files="cmd.sent_files" in used,
        reads_parent=bool(used & PARENT_FIELDS),
    )


PARENT_FIELDS = frozenset({"proc.pexe", "proc.pcmdline", "evt.text"})
"""Fields that see a process's parent: its own, and the event's text (Engine.analyze joins the parent's line to it)."""


def _requires(alternatives: list[list[set[str]]] | None, needles: set[str] | None):
    """cond.alternatives as tuples, or None where they add nothing to the needles."""
    if needles is None or not alternatives:
        return None
    out = tuple(tuple(tuple(sorted(c)) for c in alt if c) for alt in alternatives)
    if any(not alt for alt in out):
        return None  # an alternative with no literal at all: the needles are all there is
    if all(len(alt) == 1 and not any(x.startswith(cond.WORD_MARK) for x in alt[0]) and set(alt[0]) >= needles
           for alt in out):
        return None
    return out


def load(paths: Iterable[Path] = (), builtin: bool = True) -> RuleSet:
    """Load the built-in pack (unless `builtin` is false) and then `paths` (files or folders) in order."""
    from . import sigma

    loader = Loader()
    files: list[Path] = list(builtin_paths()) if builtin else []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    sigma_files: list[Path] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
            if sigma.is_sigma_text(text):
                sigma_files.append(path)  # a Sigma rule file: translated by vigiles.analysis.sigma
                continue
            loader.add_text(text, str(path))
        except (OSError, UnicodeDecodeError) as exc:
            loader.problems.append(f"{path}: cannot read: {exc}")
        except RuleError as exc:
            loader.problems.append(str(exc))
    ruleset = loader.build()
    if sigma_files:
        sigma_rules, sigma_problems = sigma.load_sigma(sigma_files)
        ruleset.rules.extend(sigma_rules)
        ruleset.problems.extend(sigma_problems)
    return ruleset
