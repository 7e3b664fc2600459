"""Sigma import: translate Sigma rules (parsed by pySigma) into vigiles rules the same engine runs.

Only `logsource: {product: linux, category: process_creation}` is translated. Each rule's detection
is taken from pySigma's condition tree (`rule.detection.parsed_condition[i].parse()`, with every
modifier already applied to the values) and rewritten as a condition `Node` over our fields:

    Image              -> cmd.image      (on process events: the event's exe; docs/sigma.md)
    CommandLine        -> cmd.line       (process: argv joined; action: each simple command's line)
    ParentImage        -> proc.pexe
    ParentCommandLine  -> proc.pcmdline
    User               -> proc.user
    CurrentDirectory   -> proc.cwd
    ParentProcessId    -> proc.ppid
    keywords           -> cmd.line or evt.text (substring anywhere, case-insensitive)

Sigma strings match case-insensitively (ieq, icontains, istartswith, iendswith); values with inner
wildcards become an anchored RE2 regex with (?i), guarded by an icontains on their longest literal
piece so the prefilter has a needle. Anything that cannot be translated faithfully (a field we do
not have, an unsupported modifier, a regex RE2 rejects, another logsource, a correlation rule)
is reported with the reason and the rest of the file goes on loading.

pySigma is an optional dependency (`pip install vigiles[sigma]`); without it every Sigma file is
reported as a problem and nothing else changes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import re2
import yaml

from . import condition as cond
from .fields import _BIN_DIRS
from .rules import CATEGORIES, PARENT_FIELDS, Rule, _requires

FIELD_MAP: dict[str, str] = {
    "Image": "cmd.image",
    "CommandLine": "cmd.line",
    "ParentImage": "proc.pexe",
    "ParentCommandLine": "proc.pcmdline",
    "User": "proc.user",
    "CurrentDirectory": "proc.cwd",
    "ParentProcessId": "proc.ppid",
}
"""Sigma process_creation fields and the vigiles field each one reads."""

KEYWORD_FIELDS = ("cmd.line", "evt.text")
"""Where a field-less (keyword) detection looks: each simple command, and the event's whole text."""

UNSUPPORTED_MODIFIERS: dict[str, str] = {
    "fieldref": "comparing one field with another is not expressible in the condition language",
    "cidr": "process_creation events carry no IP address field",
    "expand": "placeholders need a processing pipeline to fill them",
    "wide": "UTF-16 text does not occur in Linux command lines",
    "utf16": "UTF-16 text does not occur in Linux command lines",
    "utf16be": "UTF-16 text does not occur in Linux command lines",
    "minute": "timestamp parts are not fields of our events",
    "hour": "timestamp parts are not fields of our events",
    "day": "timestamp parts are not fields of our events",
    "week": "timestamp parts are not fields of our events",
    "month": "timestamp parts are not fields of our events",
    "year": "timestamp parts are not fields of our events",
}

LEVELS = {"informational": "info", "low": "low", "medium": "medium", "high": "high", "critical": "critical"}
DEFAULT_SEVERITY = "medium"
"""For a rule without `level`."""

TACTICS: dict[str, str] = {
    "persistence": "persistence",
    "defense-evasion": "supervision_evasion",
    "stealth": "supervision_evasion",             # ATT&CK v18 split of defense-evasion
    "defense-impairment": "supervision_evasion",  # ATT&CK v18 split of defense-evasion
    "privilege-escalation": "privilege_escalation",
    "credential-access": "credential_access",
    "discovery": "reconnaissance",
    "reconnaissance": "reconnaissance",
    "collection": "reconnaissance",
    "exfiltration": "self_replication",
    "lateral-movement": "self_replication",
    "command-and-control": "network_access",
    "resource-development": "compute_acquisition",
}
"""ATT&CK tactic tag -> vigiles category; the first tactic tag (in the rule's order) that maps wins."""
DEFAULT_CATEGORY = "supervision_evasion"
"""For execution, initial-access, impact (without T1496) or no tactic tag: code run outside what
the operator asked for is, first of all, a way around supervision."""
RESOURCE_HIJACKING = "T1496"
"""attack.t1496 (Resource Hijacking, e.g. cryptomining) makes a rule compute_acquisition whatever its tactic."""

SUPPORTED_LOGSOURCE = ("linux", "process_creation")
KINDS = {"process", "action"}


class Untranslatable(ValueError):
    """A Sigma rule (or part of one) with no faithful translation; the message says why."""


# -- telling Sigma files from ours -----------------------------------------------------------------
def is_sigma_text(text: str) -> bool:
    """A Sigma file is one or more YAML mappings with `detection` and `logsource` (or a correlation).

    Our rule files are YAML lists; a first item line is recognised without parsing the YAML.
    """
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "%")) or stripped == "---":
            continue
        if stripped.startswith(("-", "[")):
            return False
        break
    else:
        return False
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError:
        return False
    if not docs or not all(isinstance(d, dict) for d in docs):
        return False
    keys = set().union(*(d.keys() for d in docs))
    return ("detection" in keys and "logsource" in keys) or "correlation" in keys


# -- loading ---------------------------------------------------------------------------------------
def load_sigma(paths: Iterable[Path | str]) -> tuple[list[Rule], list[str]]:
    """Translate the Sigma rules in `paths` (files or folders of .yml/.yaml).

    Returns the rules and the problems, one per rule (or file) left out: "<file>: <title>: <why>".
    """
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()))
        else:
            files.append(path)
    rules: list[Rule] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    try:
        from sigma.collection import SigmaCollection
    except ImportError:
        return [], [f"{f}: -: pySigma is not installed (pip install 'vigiles[sigma]')" for f in files]
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: -: cannot read: {exc}")
            continue
        try:
            collection = SigmaCollection.from_yaml(text, collect_errors=True)
        except Exception as exc:  # yaml errors and pySigma errors raised outside collect_errors
            problems.append(f"{path}: -: not a valid Sigma file: {_one_line(exc)}")
            continue
        reported = set()
        for item in collection:
            title = str(getattr(item, "title", "") or "-")
            errors = list(getattr(item, "errors", []) or [])
            if errors:
                reported.update(id(e) for e in errors)
                problems.append(f"{path}: {title}: invalid Sigma: {'; '.join(_one_line(e) for e in errors)}")
                continue
            try:
                rule = translate(item, str(path))
            except Untranslatable as exc:
                problems.append(f"{path}: {title}: {exc}")
                continue
            if rule.id in seen:
                problems.append(f"{path}: {title}: duplicate id {rule.id} (already loaded from {seen[rule.id]})")
                continue
            seen[rule.id] = str(path)
            rules.append(rule)
        for error in getattr(collection, "errors", []) or []:
            if id(error) not in reported:
                problems.append(f"{path}: -: invalid Sigma: {_one_line(error)}")
    return rules, problems


def _one_line(exc: Any) -> str:
    return " ".join(str(exc).split())


# -- one rule --------------------------------------------------------------------------------------
def translate(sigma_rule: Any, source: str = "") -> Rule:
    """A pySigma SigmaRule as a compiled vigiles Rule; raises Untranslatable with every reason found."""
    from sigma.rule import SigmaRule

    if not isinstance(sigma_rule, SigmaRule):
        raise Untranslatable(f"{type(sigma_rule).__name__} is not supported (only detection rules)")
    logsource = sigma_rule.logsource
    product, category = (logsource.product or "").lower(), (logsource.category or "").lower()
    if (product, category) != SUPPORTED_LOGSOURCE or logsource.service:
        described = ", ".join(f"{k}={v}" for k, v in (("product", logsource.product),
                                                       ("category", logsource.category),
                                                       ("service", logsource.service)) if v)
        raise Untranslatable(f"logsource not supported: {described or 'empty'}")
    reasons = _modifier_problems(sigma_rule)
    node = None
    try:
        node = _detection_node(sigma_rule, reasons)
    except Untranslatable as exc:
        reasons.append(str(exc))
    except Exception as exc:  # pySigma condition errors (unknown identifier, pipe syntax, ...)
        reasons.append(f"condition: {_one_line(exc)}")
    if reasons or node is None:
        raise Untranslatable("; ".join(dict.fromkeys(reasons)) or "empty detection")
    node = simplify(node)
    try:
        predicate = cond.compile_node(node, {})
    except cond.RuleSyntaxError as exc:
        raise Untranslatable(f"does not compile: {exc}") from None
    tags = [str(t) for t in sigma_rule.tags or []]
    needles, process = prefilter_needles(node), process_needles(node)
    return Rule(
        id=f"sigma:{sigma_rule.id or sigma_rule.title}",
        title=str(sigma_rule.title),
        category=category_of(tags),
        severity=severity_of(sigma_rule.level),
        condition=render(node),
        attack=attack_ids(tags),
        description=" ".join(str(sigma_rule.description or "").split()),
        why=_why(sigma_rule),
        kinds=set(KINDS),
        source=source,
        tags=["sigma", *tags],
        predicate=predicate,
        needles=needles,
        kind_needles={"process": process},
        requires=_requires(cond.alternatives(_needle_view(node), {}), needles),
        kind_requires={"process": _requires(cond.alternatives(_process_view(node), {}), process)},
        per_command=True,
        origin="sigma",
        own_process=True,
        reads_parent=bool(cond.field_names(node, {}) & PARENT_FIELDS),
    )


def _why(sigma_rule: Any) -> str:
    parts = ["Sigma rule"]
    if sigma_rule.status is not None:
        parts.append(f"(status {sigma_rule.status.name.lower()})")
    if sigma_rule.author:
        parts.append(f"by {sigma_rule.author}")
    text = " ".join(parts) + "."
    falsepositives = [str(f) for f in sigma_rule.falsepositives or []]
    if falsepositives:
        text += " False positives: " + "; ".join(falsepositives) + "."
    return text


def severity_of(level: Any) -> str:
    if level is None:
        return DEFAULT_SEVERITY
    return LEVELS.get(getattr(level, "name", str(level)).lower(), DEFAULT_SEVERITY)


def attack_ids(tags: list[str]) -> list[str]:
    out = []
    for tag in tags:
        name = tag.lower().removeprefix("attack.")
        if tag.lower().startswith("attack.") and re2.fullmatch(r"t\d{4}(\.\d{3})?", name):
            out.append(name.upper())
    return out


def category_of(tags: list[str]) -> str:
    if any(a.split(".")[0] == RESOURCE_HIJACKING for a in attack_ids(tags)):
        return "compute_acquisition"
    for tag in tags:
        lowered = tag.lower()
        if lowered.startswith("attack.") and lowered[7:] in TACTICS:
            category = TACTICS[lowered[7:]]
            assert category in CATEGORIES
            return category
    return DEFAULT_CATEGORY


def _modifier_problems(sigma_rule: Any) -> list[str]:
    from sigma.modifiers import reverse_modifier_mapping

    found: dict[str, None] = {}

    def visit(detection: Any) -> None:
        for item in getattr(detection, "detection_items", []):
            if hasattr(item, "detection_items"):
                visit(item)
                continue
            for modifier in item.modifiers:
                name = reverse_modifier_mapping.get(modifier.__name__, modifier.__name__)
                if name in UNSUPPORTED_MODIFIERS:
                    found[f"modifier not supported: {name} ({UNSUPPORTED_MODIFIERS[name]})"] = None

    for detection in sigma_rule.detection.detections.values():
        visit(detection)
    return list(found)


def _detection_node(sigma_rule: Any, reasons: list[str]) -> cond.Node | None:
    conditions = sigma_rule.detection.parsed_condition
    nodes = []
    for condition in conditions:
        tree = condition.parse()
        if tree is None:
            raise Untranslatable("condition selects nothing")
        nodes.append(_tree(tree, reasons))
    if not nodes:
        raise Untranslatable("no condition")
    return nodes[0] if len(nodes) == 1 else cond.Node("or", nodes)  # several conditions: any of them


# -- the condition tree ----------------------------------------------------------------------------
def _tree(item: Any, reasons: list[str]) -> cond.Node:
    from sigma.conditions import (ConditionAND, ConditionFieldEqualsValueExpression, ConditionNOT,
                                  ConditionOR, ConditionValueExpression)

    if isinstance(item, ConditionAND):
        return cond.Node("and", [_tree(a, reasons) for a in item.args])
    if isinstance(item, ConditionOR):
        return cond.Node("or", [_tree(a, reasons) for a in item.args])
    if isinstance(item, ConditionNOT):
        return cond.Node("not", [_tree(item.args[0], reasons)])
    if isinstance(item, ConditionFieldEqualsValueExpression):
        target = _field(item.field)
        if target is None:
            reasons.append(f"field not supported: {item.field}")
            return cond.Node("and")  # placeholder; the rule is rejected
        try:
            return _value_node(target, item.value, keyword=False)
        except Untranslatable as exc:
            reasons.append(f"{item.field}: {exc}")
            return cond.Node("and")
    if isinstance(item, ConditionValueExpression):
        try:
            return cond.Node("or", [_value_node(f, item.value, keyword=True) for f in KEYWORD_FIELDS])
        except Untranslatable as exc:
            reasons.append(f"keyword: {exc}")
            return cond.Node("and")
    raise Untranslatable(f"unexpected condition element {type(item).__name__}")


def _field(name: str) -> str | None:
    if name in FIELD_MAP:
        return FIELD_MAP[name]
    for sigma_name, ours in FIELD_MAP.items():
        if sigma_name.lower() == name.lower():
            return ours
    return None


def _value_node(target: str, value: Any, keyword: bool) -> cond.Node:
    from sigma import types as st

    if isinstance(value, st.SigmaExpansion):  # base64offset, windash: alternatives, always OR-linked
        return cond.Node("or", [_value_node(target, v, keyword) for v in value.values])
    if isinstance(value, st.SigmaString):
        return _string_node(target, value, cased=isinstance(value, st.SigmaCasedString), keyword=keyword)
    if isinstance(value, st.SigmaRegularExpression):
        flags = {"IGNORECASE": "i", "MULTILINE": "m", "DOTALL": "s"}
        prefix = "".join(sorted(flags[f.name] for f in value.flags))
        pattern = value.regexp.to_plain(regex=True)
        if prefix:
            pattern = f"(?{prefix}){pattern}"
        try:
            re2.compile(pattern)
        except re2.error as exc:
            raise Untranslatable(f"regex not supported by RE2: {pattern!r} ({exc})") from None
        return cond.Node("cmp", field_name=target, cmp="regex", values=[pattern])
    if isinstance(value, st.SigmaNull):
        if keyword:
            raise Untranslatable("null keyword")
        return cond.Node("not", [cond.Node("cmp", field_name=target, cmp="exists")])
    if isinstance(value, st.SigmaExists):
        node = cond.Node("cmp", field_name=target, cmp="exists")
        return node if value.exists else cond.Node("not", [node])
    if isinstance(value, st.SigmaTimestampPart):
        raise Untranslatable("timestamp parts are not supported")
    if isinstance(value, st.SigmaCompareExpression):
        op = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">=", "NEQ": "!="}[value.op.name]
        return cond.Node("cmp", field_name=target, cmp=op, values=[_number(value.number.number)])
    if isinstance(value, st.SigmaBool):
        return cond.Node("cmp", field_name=target, cmp="ieq", values=[str(bool(value)).lower()])
    if isinstance(value, st.SigmaNumber):
        text = _number(value.number)
        return cond.Node("cmp", field_name=target, cmp="icontains" if keyword else "=", values=[text])
    raise Untranslatable(f"value type {type(value).__name__} not supported")


def _number(number: Any) -> str:
    if isinstance(number, float) and number.is_integer():
        number = int(number)
    return str(number)


def _string_node(target: str, value: Any, cased: bool, keyword: bool) -> cond.Node:
    """A Sigma string: literal parts and the wildcards * and ?, matched whole, case-insensitively."""
    from sigma.types import SpecialChars

    parts = list(value.s)
    if any(not isinstance(p, (str, SpecialChars)) for p in parts):
        raise Untranslatable(f"placeholder in {value.to_plain()!r} (expand modifier) not supported")
    if keyword:  # keywords match anywhere in the text
        if not parts or parts[0] != SpecialChars.WILDCARD_MULTI:
            parts.insert(0, SpecialChars.WILDCARD_MULTI)
        if parts[-1] != SpecialChars.WILDCARD_MULTI:
            parts.append(SpecialChars.WILDCARD_MULTI)
    lead = trail = False
    while parts and parts[0] == SpecialChars.WILDCARD_MULTI:
        parts.pop(0)
        lead = True
    while parts and parts[-1] == SpecialChars.WILDCARD_MULTI:
        parts.pop()
        trail = True
    merged: list[Any] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    if not merged:
        if lead or trail:  # '*': any value
            return cond.Node("cmp", field_name=target, cmp="exists")
        return cond.Node("cmp", field_name=target, cmp="=", values=[""])
    if len(merged) == 1 and isinstance(merged[0], str):
        literal = merged[0]
        ops = {(False, False): "eq", (True, True): "contains", (False, True): "startswith",
               (True, False): "endswith"}
        op = ops[(lead, trail)]
        op = ("=" if op == "eq" else op) if cased else "i" + op
        return cond.Node("cmp", field_name=target, cmp=op, values=[literal])
    pieces = []
    for part in merged:
        if part == SpecialChars.WILDCARD_MULTI:
            pieces.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            pieces.append(".")
        else:
            pieces.append(re2.escape(part))
    pattern = ("(?s)" if cased else "(?is)") + ("" if lead else r"\A") + "".join(pieces) + ("" if trail else r"\z")
    regex = cond.Node("cmp", field_name=target, cmp="regex", values=[pattern])
    literals = [p for p in merged if isinstance(p, str)]
    longest = max(literals, key=len)
    if len(longest) < 2:
        return regex
    guard = cond.Node("cmp", field_name=target, cmp="contains" if cased else "icontains", values=[longest])
    return cond.Node("and", [guard, regex])  # the cheap test first; it also gives the prefilter a needle


# -- simplifying and rendering ---------------------------------------------------------------------
def simplify(node: cond.Node) -> cond.Node:
    """Flatten nested and/or, and merge alternatives on one field and operator into one comparison."""
    if node.op == "not":
        return cond.Node("not", [simplify(node.children[0])])
    if node.op not in ("and", "or"):
        return node
    children: list[cond.Node] = []
    for child in (simplify(c) for c in node.children):
        if child.op == node.op:
            children.extend(child.children)
        else:
            children.append(child)
    if node.op == "or":
        merged: list[cond.Node] = []
        by_key: dict[tuple[str, str], cond.Node] = {}
        for child in children:
            if child.op == "cmp" and child.cmp not in ("exists", "!=", "<", "<=", ">", ">="):
                key = (child.field_name, child.cmp)
                if key in by_key:
                    target = by_key[key]
                    target.values.extend(v for v in child.values if v not in target.values)
                    continue
                child = cond.Node("cmp", field_name=child.field_name, cmp=child.cmp, values=list(child.values))
                by_key[key] = child
            merged.append(child)
        children = merged
    return children[0] if len(children) == 1 else cond.Node(node.op, children)


def render(node: cond.Node) -> str:
    """The condition in vigiles's own syntax (parses back to the same tree)."""
    if node.op in ("and", "or"):
        inner = []
        for child in node.children:
            text = render(child)
            inner.append(f"({text})" if child.op in ("and", "or") else text)
        return f" {node.op} ".join(inner)
    if node.op == "not":
        child = node.children[0]
        text = render(child)
        return f"not ({text})" if child.op in ("and", "or") else f"not {text}"
    if node.op == "macro":
        return node.macro
    if node.cmp == "exists":
        return f"{node.field_name} exists"
    values = [_quote(v) for v in node.values]
    shown = values[0] if len(values) == 1 else "(" + ", ".join(values) + ")"
    return f"{node.field_name} {node.cmp} {shown}"


def _quote(value: Any) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- prefilter -------------------------------------------------------------------------------------
_STRIP = str.maketrans("", "", "'\"\\")
_CONTAINS_OPS = {"contains", "icontains", "startswith", "istartswith"}
_END_OPS = {"=", "in", "ieq", "endswith", "iendswith"}
_DIR_WORDS = {seg for d in _BIN_DIRS for seg in d.split("/") if seg}
_NOT_IN_TEXT = {"proc.exe", "proc.pexe", "proc.pcmdline"}


def prefilter_needles(node: cond.Node) -> set[str] | None:
    """Literals of which one is in the text the engine scans whenever the rule can hold, or None.

    `cond.needles` trusts every needle-capable field to be verbatim in the event's text. Two of
    ours are not, as the engine builds that text: cmd.image (a bare `awk` is seen as /usr/bin/awk,
    and a process's exe is not in its argv) and the proc.* fields (a parent is not in the child's
    argv). So the tree is first rewritten: an Image value gives its program-name part (the text
    after its last '/'), which is in the text when argv[0] names the same program; values that
    could come from the bin directory alone, and the proc.* fields, give none. Quotes and
    backslashes are removed as the engine removes them from the text.
    """
    return _as_scanned(cond.needles(_needle_view(node), {}))


def process_needles(node: cond.Node) -> set[str] | None:
    """Needles for process events that name their executable: the engine's text for such an event
    holds the executable, the argv and the parent's executable and command line when the source
    gave them, so every field of the rule is verbatim there and `cond.needles` is sound as it is."""
    return _as_scanned(cond.needles(_process_view(node), {}))


def _as_scanned(found: set[str] | None) -> set[str] | None:
    """Needles as the engine's text shows them (quotes and backslashes removed); None when one
    would be shorter than two characters."""
    if found is None:
        return None
    out = {n.translate(_STRIP) for n in found}
    if not out or any(len(n) < 2 for n in out):
        return None
    return out


def _process_view(node: cond.Node) -> cond.Node:
    """The condition with Image and the process fields read as the text they are in a process
    event's text (the engine adds the executable and the parent's fields to it)."""
    if node.op in ("and", "or", "not"):
        return cond.Node(node.op, [_process_view(c) for c in node.children])
    if node.op == "cmp" and (node.field_name == "cmd.image" or node.field_name in _NOT_IN_TEXT):
        return cond.Node("cmp", field_name="cmd.line", cmp=node.cmp, values=node.values)
    return node


def _needle_view(node: cond.Node) -> cond.Node:
    if node.op in ("and", "or", "not"):
        return cond.Node(node.op, [_needle_view(c) for c in node.children])
    if node.op != "cmp":
        return node
    opaque = cond.Node("cmp", field_name="cmd.argc", cmp="exists")  # no needle
    if node.field_name in _NOT_IN_TEXT:
        return opaque
    if node.field_name != "cmd.image":
        return node
    names = []
    for value in node.values:
        text = str(value)
        tail = text.rsplit("/", 1)[-1]
        if node.cmp in _END_OPS:
            pass
        elif node.cmp in _CONTAINS_OPS:
            if any(tail.lower() in word for word in _DIR_WORDS):
                return opaque
        else:
            return opaque
        if len(tail) < 2:
            return opaque
        names.append(tail)
    return cond.Node("cmp", field_name="cmd.line", cmp="icontains", values=names)
