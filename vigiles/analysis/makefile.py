"""What `make` runs: the recipe lines of a Makefile's targets, as shell text.

Agents edit Makefiles and run `make TARGET` as routine, so a recipe is a place to hide a command
that runs later under an ordinary-looking name. Read as GNU make reads the parts that matter here:
a rule line `TARGETS: PREREQUISITES [; RECIPE]` (not a variable assignment, `:=`, `::=`, `?=`,
`+=`, `!=`), then its recipe lines, each starting with a tab; `@`, `-` and `+` before a recipe
line are make's own; `$$` is a `$` for the shell. Without targets named, make builds the first
target that does not start with a dot. Prerequisites are built first. Variables, conditionals,
includes and pattern rules are not expanded: a recipe is read as written.
"""
from __future__ import annotations

import posixpath

MAX_LINES = 4096
MAX_TARGETS = 64
NAMES = ("GNUmakefile", "makefile", "Makefile")
"""The files make looks for, in its order, where no -f names one."""


def is_makefile(path: str) -> bool:
    name = posixpath.basename(path)
    return name in NAMES or name.endswith(".mk")


def _rules(text: str) -> tuple[dict[str, tuple[list[str], list[str]]], list[str]]:
    """target -> (prerequisites, recipe lines); and the targets in the order they appear."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    order: list[str] = []
    current: list[str] = []
    for raw in text.splitlines()[:MAX_LINES]:
        if raw.startswith("\t"):
            line = raw[1:].lstrip("@-+ \t").replace("$$", "$")
            for target in current:
                rules[target][1].append(line)
            continue
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        current = []
        at = raw.find(":")
        left = raw[:at] if at > 0 else ""
        after = raw[at + 1:at + 3] if at > 0 else ""
        if not left.strip() or "=" in left or after.startswith("=") or after.startswith(":="):
            continue  # a variable assignment, a directive, or no rule
        rest = raw[at + 1:].lstrip(":")
        prerequisites, _, inline = rest.partition(";")
        for target in left.split():
            if target not in rules:
                if len(rules) >= MAX_TARGETS * 4:
                    break
                rules[target] = ([], [])
                order.append(target)
            rules[target][0].extend(prerequisites.split())
            if inline.strip():
                rules[target][1].append(inline.strip().replace("$$", "$"))
            current.append(target)
    return rules, order


def recipes(text: str, targets: list[str] | tuple = ()) -> list[tuple[str, str]]:
    """(target, recipe line) in the order make would run them for `targets` (the default goal if
    none), prerequisites first; each target at most once, at most MAX_TARGETS of them."""
    rules, order = _rules(text)
    goals = list(targets) or [next((t for t in order if not t.startswith(".")), "")]
    out: list[tuple[str, str]] = []
    done: set[str] = set()

    def build(target: str, depth: int) -> None:
        if target in done or target not in rules or len(done) >= MAX_TARGETS or depth > MAX_TARGETS:
            return
        done.add(target)
        for prerequisite in rules[target][0]:
            build(prerequisite, depth + 1)
        out.extend((target, line) for line in rules[target][1])

    for goal in goals:
        build(goal, 0)
    return out


def every_recipe(text: str) -> list[tuple[str, str]]:
    """(target, recipe line) of every rule: what the file can make run, whichever target is asked."""
    rules, order = _rules(text)
    return [(target, line) for target in order[:MAX_TARGETS] for line in rules[target][1]]
