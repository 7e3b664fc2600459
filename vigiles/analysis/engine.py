"""The rule engine: choose the rules an event could match, read its commands, run the rules.

Ordinary commands should cost little. An Aho-Corasick automaton over every rule's literals
(lowercased, quotes and backslashes removed) tells which rules can possibly match; an event with
no candidate and no sign of obfuscation is never parsed. Events that pass are read by the shell
reader, and the literals are looked for again in the de-obfuscated commands.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Iterable

import ahocorasick

from ..events import Action, Event, File, Process
from .command import Cmd
from .condition import Hits
from .fields import Subject
from .findings import Finding, finding_id
from .rules import Rule, RuleSet
from .shell import Session, ShellReader, lang_of_script

_STRIP = str.maketrans("", "", "'\"\\")
_MARKERS = ("base64", "xxd", "\\x", "eval", "`", "$(", "${", "<<", "/dev/tcp", "/dev/udp", "printf", "rev",
            "openssl", "$'", "source ", ". /", "./", "bash ", "sh ", "exec")
_WRITE_TOOLS = frozenset({"write_file", "create_file", "write", "file_write", "save_file", "str_replace_editor",
                          "edit_file", "text_editor", "str_replace_based_edit_tool", "upload", "apply_patch",
                          "create", "writefile", "write_to_file"})
_PATH_KEYS = ("path", "file_path", "filename", "file", "target", "dest", "destination", "target_path")
_CONTENT_KEYS = ("content", "file_text", "text", "contents", "data", "new_str", "body", "code")
_COMMAND_KEYS = ("command", "cmd", "script", "code", "input", "commands")
MAX_SESSIONS = 4096
MAX_SNIPPET = 400


class Engine:
    """Evaluates a RuleSet against events. Keeps per-run sessions so scripts written then run are read."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.rules = ruleset.rules
        self.reader = ShellReader()
        self.sessions: OrderedDict[tuple, Session] = OrderedDict()
        self.always: dict[str, list[int]] = {}
        self.by_kind: dict[str, list[int]] = {}
        self.automaton = ahocorasick.Automaton()
        needle_rules: dict[str, list[int]] = {}
        for index, rule in enumerate(self.rules):
            for kind in rule.kinds:
                self.by_kind.setdefault(kind, []).append(index)
            if rule.needles is None or not rule.per_command:
                for kind in rule.kinds:
                    self.always.setdefault(kind, []).append(index)
            else:
                for needle in rule.needles:
                    needle_rules.setdefault(needle, []).append(index)
        for needle, indices in needle_rules.items():
            self.automaton.add_word(needle, tuple(indices))
        self.has_needles = bool(needle_rules)
        if self.has_needles:
            self.automaton.make_automaton()
        self.stats = {"parsed": 0, "skipped_by_prefilter": 0}

    # -- prefilter ----------------------------------------------------------------------------------
    def candidates(self, text: str) -> set[int]:
        found: set[int] = set()
        if self.has_needles and text:
            for _, indices in self.automaton.iter(text):
                found.update(indices)
        return found

    def session(self, event: Event) -> Session:
        key = (event.host, event.sandbox, event.run, event.episode)
        session = self.sessions.get(key)
        if session is None:
            session = self.sessions[key] = Session()
            if len(self.sessions) > MAX_SESSIONS:
                self.sessions.popitem(last=False)
        else:
            self.sessions.move_to_end(key)
        return session

    # -- evaluation ---------------------------------------------------------------------------------
    def analyze(self, event: Event) -> list[Finding]:
        kind = event.kind
        if kind == "action":
            return self._commands(event, *self._action(event))
        if kind == "process":
            argv = event.argv or ([event.exe] if event.exe else [])
            text = " ".join(argv)
            return self._commands(event, text, lambda: self.reader.read_argv(argv, self.session(event)))
        if kind == "file":
            cmd = _file_cmd(event)
            return self._run(event, [cmd], event.path, self.by_kind.get("file", []))
        indices = self.by_kind.get(kind, [])
        return self._run(event, [None], "", set(indices))

    def _action(self, event: Action):
        session = self.session(event)
        tool = event.tool.lower()
        args = event.args or {}
        language = event.language
        if tool in _WRITE_TOOLS or (language is None and _first(args, _PATH_KEYS) and _first(args, _CONTENT_KEYS)):
            path = _first(args, _PATH_KEYS)
            content = _first(args, _CONTENT_KEYS)
            if content is None and event.input and path:
                content = event.input
            if path:
                text = f"{path}\n{content or ''}"

                def read() -> list[Cmd]:
                    cmd = Cmd(name=tool, path=tool, args=[path], writes=[path], via=())
                    cmds = [cmd]
                    if content:
                        session.remember(path, content)
                        lang = lang_of_script(path, content)
                        via = (f"writes {path}",)
                        if lang == "shell":
                            cmds += self.reader.read(content, session, via)
                        elif lang:
                            cmds += self.reader.read_code(lang, content, session, via)
                    return cmds
                return text, read
        code = event.input
        if code is None:
            code = _first(args, _COMMAND_KEYS)
            if isinstance(code, list):
                code = " ".join(str(c) for c in code)
        if code is None:
            text = json.dumps(args, ensure_ascii=False)[:65536] if args else ""
            return text, lambda: []
        if language == "python":
            return code, lambda: self.reader.read_code("python", code, session, ())
        if language == "shell" or _looks_like_shell_tool(tool):
            return code, lambda: self.reader.read(code, session)
        return code, lambda: []

    def _commands(self, event: Event, text: str, read) -> list[Finding]:
        kind = event.kind
        lowered = text.lower().translate(_STRIP)
        found = self.candidates(lowered)
        session = self.sessions.get((event.host, event.sandbox, event.run, event.episode))
        obfuscated = any(m in lowered for m in _MARKERS) or ("=" in lowered and "$" in lowered) or (
            session is not None and session.mentions(lowered)) or kind == "action" and event.tool.lower() in _WRITE_TOOLS
        always = self.always.get(kind, ())
        if not found and not obfuscated and not always:
            self.stats["skipped_by_prefilter"] += 1
            return []
        cmds = read()
        self.stats["parsed"] += 1
        expanded = "\n".join(_cmd_text(c) for c in cmds).lower().translate(_STRIP)
        found |= self.candidates(expanded)
        allowed = self.by_kind.get(kind, [])
        selected = (found | set(always)) & set(allowed)
        if not selected:
            return []
        return self._run(event, cmds or [None], text, selected)

    def _run(self, event: Event, cmds: list, text: str, selected: Iterable[int]) -> list[Finding]:
        findings: list[Finding] = []
        for index in sorted(selected):
            rule = self.rules[index]
            targets = cmds if rule.per_command else [cmds[0] if cmds else None]
            for cmd in targets:
                subject = Subject(event, cmd, text)
                hits = Hits()
                if not rule.predicate(subject, hits):
                    continue
                if any(pred(subject, Hits()) for pred in rule.exception_predicates):
                    continue
                findings.append(_finding(rule, event, cmd, text, hits))
                break
        return findings


def _first(args: dict, keys: tuple) -> Any:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return value
    return None


def _looks_like_shell_tool(tool: str) -> bool:
    return any(word in tool for word in ("bash", "shell", "exec", "command", "terminal", "run", "cmd"))


def _cmd_text(cmd: Cmd) -> str:
    parts = [cmd.path, *cmd.args, *cmd.writes, *cmd.redirects]
    if cmd.code is not None:
        parts.append(" ".join(sorted(cmd.code.calls)))
        parts.append(" ".join(sorted(cmd.code.modules)))
    parts.extend(f"{k}={v}" for k, v in cmd.env.items())
    return " ".join(parts)


def _file_cmd(event: File) -> Cmd:
    writes = [event.path] if event.op in ("write", "create", "chmod") else []
    if event.op == "rename" and event.new_path:
        writes = [event.new_path]
    return Cmd(name=event.op, path=event.op, args=[event.path] + ([event.new_path] if event.new_path else []),
               writes=writes)


def _snippet(text: str, cmd: Cmd | None) -> str:
    if not text:
        return cmd.line[:MAX_SNIPPET] if cmd is not None else ""
    if len(text) <= MAX_SNIPPET:
        return text
    at = text.find(cmd.name) if cmd is not None and cmd.name else -1
    start = max(0, at - 100) if at >= 0 else 0
    return text[start:start + MAX_SNIPPET]


def _finding(rule: Rule, event: Event, cmd: Cmd | None, text: str, hits: Hits) -> Finding:
    evidence: dict[str, Any] = {
        "snippet": _snippet(text, cmd),
        "source": str(event.source) if event.source is not None else None,
        "matched": [{"field": f, "value": v if isinstance(v, (str, int, float)) else str(v)}
                    for f, v in hits.items[:8]],
    }
    if cmd is not None:
        evidence["command"] = cmd.line[:MAX_SNIPPET]
        if cmd.via:
            evidence["via"] = list(cmd.via)
    return Finding(
        id=finding_id(rule.id, event.id), rule=rule.id, title=rule.title, category=rule.category,
        severity=rule.severity, attack=list(rule.attack), event_ids=[event.id], ts=event.ts,
        sandbox=event.sandbox, run=event.run, episode=event.episode, step=event.step, host=event.host,
        evidence=evidence, description=rule.description,
    )
