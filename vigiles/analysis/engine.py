"""The rule engine: choose the rules an event could match, read its commands, run the rules.

Ordinary commands should cost little. An Aho-Corasick automaton over every rule's literals
(lowercased, quotes and backslashes removed) names the rules that could match; each keeps only if
the text holds a literal of every part of one branch of its condition (Rule.requires). An event
with no candidate and no sign of obfuscation is never parsed, and that verdict on its text is
remembered. Events that pass are read by the shell reader, the literals are looked for again in
the de-obfuscated commands, and each command-local rule runs only on the commands that hold its
literals.
"""
from __future__ import annotations

import functools
import json
import posixpath
import shlex
from collections import OrderedDict
from typing import Any, Iterable, NamedTuple

import ahocorasick
import re2

from ..events import Action, Event, File
from .command import FILE_PROGRAMS, MAX_WRITTEN, Cmd, in_dir, normpath
from .condition import FLAG_MARK, UNPIPED, WORD_CHARS, WORD_MARK, Hits, as_searched, longest_piece
from .fields import Subject
from .findings import Finding, finding_id
from .patch import is_patch
from .regex import searcher
from .rules import Rule, RuleSet
from .shell import (MAX_PATH, SHELL_ALIAS, SHELL_VAR, START_CWD, Session, ShellReader, copy_names, descriptor,
                    exec_command, streamed_names)

_MARKERS = ("base64", "b64decode", "xxd", "\\x", "fromhex", "rot13", "eval", "printf", "openssl", "$'",
            "| rev", "|rev", "decode(", "decompress", "base32", "basenc", "unhexlify", "pack(", "chr(", "[::-1]",
            "getattr(", "replace(", ".join(")
"""Signs that a command computes its own text (decoders, eval): read it even with no rule literal in sight."""
_MARKER_SET = frozenset(_MARKERS)
_NOT_AS_OPTION = frozenset({"printf"})
"""Markers that are also options of other programs (find -printf, stat --printf): after a `-` they
name no program. What such an option prints is its format as written, unless it holds escapes,
which make a text read by themselves (_ESCAPE)."""
_ASSIGNMENT = searcher(r"(?:^|[\s;&|(])[a-z_][a-z0-9_]*=")
_EXPANSION = searcher(r"\$\{?[a-z_]")
_WORD_CHARS = WORD_CHARS
_WRITE_TOOLS = frozenset({"write_file", "create_file", "write", "file_write", "save_file", "str_replace_editor",
                          "edit_file", "text_editor", "str_replace_based_edit_tool", "upload", "apply_patch",
                          "create", "writefile", "write_to_file"})
_EDITOR_READS = frozenset({"view", "read", "open", "cat", "show", "list", "undo_edit"})
_PATH_KEYS = ("path", "file_path", "filename", "file", "target", "dest", "destination", "target_path")
_CONTENT_KEYS = ("content", "file_text", "text", "contents", "data", "new_str", "body", "code")
_COMMAND_KEYS = ("command", "cmd", "script", "code", "input", "commands")
MAX_SESSIONS = 4096
_EMPTY: frozenset = frozenset()
_SCAN_KINDS = {"process": ("process", "process_noexe")}
"""A process event's text holds its executable when the source gave one (`process`), not when it did
not (`process_noexe`): rules may have needles for the one that are not sound for the other."""
_TEXT_KINDS = ("action", "process", "process_noexe", "file")
"""The kinds of text the prefilter searches, each with its own automaton and Rule.requires."""
_PLAIN_SHELL_TOOLS = frozenset({"bash", "shell", "sh", "terminal", "run_command", "execute_command", "exec",
                                "run_shell_command", "local_shell", "run_in_session", "execute", "command"})
CACHE_ENTRIES = 16384
CACHE_TEXT = 4096
"""Readings of identical command texts are reused (agents repeat themselves), with what they wrote to their
session done again; never one that used what its session held before (Session.read_earlier), and not
where a file it looked up is found (Session.asked) or, if its working directory mattered
(Session.cwd_used), where the session works in another."""
LONG_TEXT = 2048
"""Above this many characters, Rule.requires is checked with one automaton pass over the text
rather than a search per literal (each decided once per text, cheapest clause first)."""
SKIP_ENTRIES = 65536
SKIP_TEXT = 512
"""Texts the prefilter passed over, remembered (at most 32 MiB of text); a text that names a file its
session wrote is read all the same."""
SCOPED_RULES = 8
"""Commands are sorted by the literals of the rules scoped to them (Rule.cmd_needles) only where
this many such rules are to run (a long script, where most rules find a literal somewhere): a
prefilter pass over each command costs what several rules tried on it do. Either way the same
rules match the same commands: a command without the literals cannot match."""
MAX_SNIPPET = 400
MAX_RESOLVED_WORDS = 256
MAX_RESOLVED_TEXT = 4 * 1024 * 1024
"""A text run in a known directory is searched with its words resolved there: the first
MAX_RESOLVED_WORDS with the text, the rest a slice of as many at a time; one whose resolved words
would come to more than MAX_RESOLVED_TEXT characters is read instead."""
MANY_PARENTHESES = 64
"""A text with this many parentheses is read even with no rule literal in it: it may nest beyond what
the reader follows, which is itself a finding."""


class Engine:
    """Evaluates a RuleSet against events. Keeps per-run sessions so scripts written then run are read."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.ruleset = ruleset
        self.rules = ruleset.rules
        self.reader = ShellReader()
        self.sessions: OrderedDict[tuple, Session] = OrderedDict()
        self.always: dict[str, list[int]] = {}
        self.by_kind: dict[str, list[int]] = {}
        per_kind: dict[str, dict[str, tuple[list[int], list[int]]]] = {}
        searched_needle = functools.cache(_searched_needle)  # (rules and kinds share most needles)
        for index, rule in enumerate(self.rules):
            for kind in rule.kinds:
                self.by_kind.setdefault(kind, []).append(index)
            for kind in rule.kinds:
                for scan_kind in _SCAN_KINDS.get(kind, (kind,)):
                    needles = rule.kind_needles.get(scan_kind, rule.needles) if rule.kind_needles else rule.needles
                    if needles is None or not rule.per_command:
                        self.always.setdefault(scan_kind, []).append(index)
                        continue
                    searched = {needle: searched_needle(needle) for needle in needles}
                    if not all(searched.values()):
                        self.always.setdefault(scan_kind, []).append(index)  # (a needle of quotes only)
                        continue
                    needle_rules = per_kind.setdefault(scan_kind, {})
                    for needle, as_text in searched.items():
                        plain, word = needle_rules.setdefault(as_text, ([], []))
                        (word if needle in rule.word_needles else plain).append(index)
        self.automata: dict[str, ahocorasick.Automaton] = {}
        """One per kind, so a rule only for processes never makes an action be parsed."""
        for kind in _TEXT_KINDS:
            needle_rules = per_kind.get(kind, {})
            for marker in _MARKERS:
                needle_rules.setdefault(marker, ([], []))
            self.automata[kind] = _automaton(needle_rules)
        requires: dict[tuple[str | None, bool], dict[int, tuple]] = {}
        # Rule.requires by (scan kind, whether the text has a pipe): per kind where a rule gives its
        # own for that kind (Rule.kind_requires), else under None; with a pipe, white space in
        # literals is not trusted (_required_as_searched). What narrow() walks is built from it.
        required_as_searched = functools.cache(_required_as_searched)
        for kind in (None, *_TEXT_KINDS):
            if kind is None or any(r.kind_requires and kind in r.kind_requires for r in self.rules):
                for piped in (False, True):
                    requires[(kind, piped)] = _requires_of(self.rules, kind, piped, required_as_searched)
        every = list(requires.values())
        numbers: dict[frozenset, int] = {}
        for r in every:
            for alts in r.values():
                for alt in alts:
                    for clause in alt:
                        numbers.setdefault(clause, len(numbers))
        self.clauses: list[frozenset] = list(numbers)
        """Every clause of Rule.requires once; `required` names them by their place here."""
        self.looks: list[tuple] = [_looks(clause) for clause in self.clauses]
        """Each clause as the needles looked for in a text, those found as whole words, and the flag
        literals looked for among its short options (_looks)."""
        self.required: dict[tuple[str | None, bool], dict[int, tuple]] = {
            key: {index: tuple(tuple(numbers[c] for c in alt) for alt in alts) for index, alts in r.items()}
            for key, r in requires.items()}
        """`requires` with each clause as its number: what narrow() walks."""
        self.flag_rules = frozenset(index for r in every for index, alts in r.items()
                                    if any(lit.startswith(FLAG_MARK) for alt in alts for c in alt for lit in c))
        self.required_literals = ahocorasick.Automaton()
        literals: dict[str, list] = {}
        for literal in {lit for r in every for alts in r.values() for alt in alts for clause in alt for lit in clause}:
            if literal.startswith(WORD_MARK):  # found as a whole word (condition.word_literal)
                literals.setdefault(literal[1:], [None, None])[1] = literal
            else:
                literals.setdefault(literal, [None, None])[0] = literal
        self.required_chars = frozenset(lit for lit, (plain, _) in literals.items() if len(lit) == 1 and plain)
        """One-character literals are looked up with `in`: in the automaton they would match all
        over a text (`/`, `.`, `-`) and each match costs a step in Python."""
        for literal, (plain, word) in literals.items():
            if len(literal) == 1:
                if word is None:
                    continue
                plain = None  # looked up with `in` (required_chars); the automaton checks the word
            self.required_literals.add_word(literal, (plain, word, len(literal)))
        if literals:
            self.required_literals.make_automaton()
        # Per-command scoping (Rule.cmd_needles): one automaton over every such rule's literals.
        self.cmd_scoped = frozenset(i for i, r in enumerate(self.rules) if r.cmd_needles is not None and r.per_command
                                    and all(map(searched_needle, r.cmd_needles)))
        cmd_needles: dict[str, tuple[list[int], list[int]]] = {}
        for index in self.cmd_scoped:
            rule = self.rules[index]
            for needle in rule.cmd_needles:
                searched = searched_needle(needle)
                plain, word = cmd_needles.setdefault(searched, ([], []))
                (word if needle in rule.cmd_word_needles else plain).append(index)
        self.cmd_automaton = _automaton(cmd_needles) if cmd_needles else None
        self.always_sets = {kind: frozenset(v) for kind, v in self.always.items()}
        self.parent_rules = frozenset(i for i, r in enumerate(self.rules) if r.reads_parent)
        """Rules a literal found in a process's parent line can make candidates (Rule.reads_parent)."""
        self.kind_sets = {kind: frozenset(v) for kind, v in self.by_kind.items()}
        process_rules = self.by_kind.get("process", [])
        self.argv_unread = bool(process_rules) and all(self.rules[i].own_process for i in process_rules)
        """Every process rule is about the process itself (Rule.own_process, Sigma's): a process
        event's argv is its one command, not read for what it runs."""
        self.parsed = self.skipped = self.reused = 0
        self.cache: OrderedDict[tuple, _Reading] = OrderedDict()
        self.pending = 0
        """Sessions with skipped texts waiting to be read (Session.deferred)."""
        self.skip_writes: dict[tuple, tuple] = {}
        """Skipped texts that write files with content: the names they write (Session.defer)."""
        self.skips: dict[tuple, _Skipped] = {}
        """Texts the prefilter passed over (a text's verdict, unless its session wrote files), each
        with its lowered form (_lower), which is what names of written files are looked for in."""

    # -- prefilter ----------------------------------------------------------------------------------
    def candidates(self, text: str, kind: str = "action", automaton=None,
                   parent_from: int | None = None) -> tuple[set[int], bool]:
        """Rules whose literals occur in `text` (lowercased, unquoted), and whether it shows obfuscation.
        `parent_from`: where a process event's parent line begins in `text`; a literal found wholly
        there makes a candidate only of a rule that reads the parent (Rule.reads_parent)."""
        found: set[int] = set()
        marked = False
        if text:
            for end, (length, plain, word, marker) in (automaton or self.automata[kind]).iter(text):
                in_parent = parent_from is not None and end + 1 - length >= parent_from
                if plain:
                    found.update(self.parent_rules.intersection(plain) if in_parent else plain)
                if word and _stands_alone(text, end + 1 - length, end + 1):
                    found.update(self.parent_rules.intersection(word) if in_parent else word)
                if marker and (marker is True or end < length or text[end - length] != "-"):
                    marked = True
        return found, marked

    def narrow(self, found: set[int], text: str, kind: str | None = None) -> set[int]:
        """Drop the candidates whose other literals (Rule.requires) are not all in `text`: each keeps
        only if, for some alternative, every clause holds (has a literal present). Clauses are decided
        once a text: rules share them (every downloader rule asks for curl or wget)."""
        piped = "|" in text
        required = self.required.get((kind, piped)) or self.required[(None, piped)]
        known: dict[int, bool] = {}
        if len(text) > LONG_TEXT:
            # One automaton pass for every literal the text holds, rather than a search per literal.
            present = set(short_flags(text)) if any(i in self.flag_rules for i in found) else set()
            present.update(self.required_chars.intersection(text))
            for end, (plain, word, length) in self.required_literals.iter(text):
                if plain is not None:
                    present.add(plain)
                if word is not None and _stands_alone(text, end + 1 - length, end + 1):
                    present.add(word)
            clauses = self.clauses
            for alts in map(required.get, found):
                for alt in alts or ():
                    for number in alt:
                        if number not in known:
                            known[number] = not clauses[number].isdisjoint(present)
        looks = self.looks
        flags = None
        dropped = []
        alternatives = required.get  # (bound once: a method looked up per call costs more than the call)
        for index in found:
            alts = alternatives(index)
            if alts is None:
                continue
            for alt in alts:
                for number in alt:
                    if number in known:
                        held = known[number]
                    else:
                        held = False
                        plain, words, flag_literals = looks[number]
                        for needle in plain:
                            if needle in text:
                                held = True
                                break
                        else:
                            for needle in words:
                                if needle in text and _has_word(text, needle):
                                    held = True
                                    break
                            else:
                                if flag_literals:
                                    if flags is None:
                                        flags = short_flags(text)
                                    held = not flag_literals.isdisjoint(flags)
                        known[number] = held
                    if not held:
                        break
                else:
                    break  # this alternative holds: the rule stays
            else:
                dropped.append(index)
        found.difference_update(dropped)
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
        session.event_id = event.id  # (what it sends is sent by this event: Session.send)
        return session

    # -- evaluation ---------------------------------------------------------------------------------
    def analyze(self, event: Event) -> list[Finding]:
        kind = event.kind
        if kind == "action":
            text = event.input
            if text is not None and event.args is None and event.tool in _PLAIN_SHELL_TOOLS:
                # The common case, kept short: a shell command with nothing else to read, and most
                # often one the prefilter passed over before (the test of _commands, inlined).
                session = self.sessions.get((event.host, event.sandbox, event.run, event.episode))
                key = ("action", event.tool, text, session.cwd if session is not None and session.cwd_set else None)
                skipped = self.skips.get(key) if len(text) <= CACHE_TEXT else None
                if skipped is not None and (session is None or not skipped.named_by(session)):
                    self.skipped += 1
                    if key in self.skip_writes:
                        self._defer(event, text, self.skip_writes[key])
                    return []
                return self._commands(event, text, None, known=session)
            return self._commands(event, *self._action(event))
        if kind == "process":
            argv = event.argv or ([event.exe] if event.exe else [])
            text = " ".join(argv)
            if event.exe and (not argv or argv[0] != event.exe):
                text = f"{event.exe} {text}"
            parent = event.extra.get("parent_exe"), event.extra.get("parent_cmdline")
            own = None
            if parent[0] or parent[1]:
                own = text
                text = f"{text}\n{parent[0] or ''} {parent[1] or ''}"
            if self.argv_unread:
                read = (lambda: [exec_command(argv)]) if argv else (lambda: [])
            else:
                def read() -> list[Cmd]:  # (a process runs in its own directory, not where the run's cd left it)
                    session = self.session(event)
                    return _apart(session, _directory(event.cwd), lambda: self.reader.read_argv(argv, session))
            return self._commands(event, text, read, "process" if event.exe else "process_noexe", own)
        if kind == "file":
            # every file rule runs, no prefilter: the command is named by the operation (chmod),
            # which the path does not hold (condition.SYNTHETIC_NAMES)
            cmd = _file_cmd(event)
            return self._run(event, [cmd], event.path, self.by_kind.get("file", []))
        return self._run(event, [None], "", self.by_kind.get(kind, []))

    def _action(self, event: Action):
        tool = event.tool.lower()
        args = event.args or {}
        language = event.language
        if tool in _WRITE_TOOLS:
            given = event.input if event.input is not None else _first(args, ("input", "patch"))
            if isinstance(given, str) and (tool == "apply_patch" or is_patch(given)):
                # Codex writes files with patches (analysis.patch), not with a path and a content
                return given, lambda: self.reader.read_patch(tool, given, self.session(event))
        if tool in _WRITE_TOOLS or (language is None and _first(args, _PATH_KEYS) and _first(args, _CONTENT_KEYS)):
            path = _first(args, _PATH_KEYS)
            content = _first(args, _CONTENT_KEYS)
            subcommand = args.get("command") if isinstance(args.get("command"), str) else None
            if subcommand in _EDITOR_READS and path:
                # str_replace_editor view: a read, not a write
                return f"{path}", lambda: [Cmd(name=tool, path=tool, args=[subcommand, path], reads=[path])]
            if content is None and event.input and path and subcommand is None:
                content = event.input
            if path:
                text = f"{path}\n{content or ''}"

                def read() -> list[Cmd]:
                    session = self.session(event)
                    cmd = Cmd(name=tool, path=tool, args=[path], writes=[path], via=(),
                              written=content[:MAX_WRITTEN] if content else None)
                    cmds = [cmd]
                    if content:
                        session.remember(path, content)
                        cmds += self.reader.read_written(path, content, session)
                    return cmds
                return text, read
        code = event.input
        if code is None:
            code = _first(args, _COMMAND_KEYS)
            if isinstance(code, list):
                # an argv: each word as the program gets it; one word alone is a command line
                code = shlex.join(str(c) for c in code) if len(code) > 1 else str(code[0])
        if code is None:
            text = json.dumps(args, ensure_ascii=False)[:65536] if args else ""
            return text, lambda: []
        if language == "python":
            return code, lambda: self.reader.read_code("python", code, self.session(event), ())
        if language == "shell" or _looks_like_shell_tool(tool):
            apart, workdir = _own_process(event)
            if apart:
                return code, lambda: self._read_apart(workdir, code, self.session(event))
            return code, lambda: self.reader.read(code, self.session(event))
        return code, lambda: []

    def _read_apart(self, workdir: str | None, code: str, session: Session) -> list[Cmd]:
        """A call run as a process of its own (an argv, or one naming its directory: Codex's `workdir`)
        runs in that directory (unknown where none is named)."""
        return _apart(session, workdir, lambda: self.reader.read(code, session))

    def _commands(self, event: Event, text: str, read, scan_kind: str | None = None,
                  own: str | None = None, known: Session | None | bool = False) -> list[Finding]:
        """`read`: what reads the event's commands when its text must be read; None for a shell
        command's text (read as such: no object made for the many events that are not read).
        `own`: of a process event's text, the part before its parent's line (Engine.candidates).
        `known`: the event's session where the caller has looked it up (None: it has none); False: not
        looked up. Nothing makes a session before the text is read, so the one found holds till then."""
        kind = event.kind
        scan_kind = scan_kind or kind
        if known is False:
            known = self._known_session(event) if self.sessions else None
        # The directory a `cd` of the run left an action in: its text is searched, read and judged as
        # run there (Cmd.in_dir). A process has its own directory (its `cwd`), which the run's `cd` is not.
        cwd = known.cwd if kind == "action" and known is not None and known.cwd_set else None
        if kind == "process" and not self.argv_unread:
            cwd = _directory(event.cwd)
        elif kind == "action" and event.args:
            apart, workdir = _own_process(event)
            if apart:
                cwd = workdir
        key = (scan_kind, getattr(event, "tool", None), text, cwd) if len(text) <= CACHE_TEXT else None
        shell_used = False
        if read is None and self.sessions:
            session = known
            shell_used = bool(session is not None and (session.shell_vars or session.shell_aliases or session.sockets)
                              and _uses_shell(session, text.lower()))  # (lowering only where it can matter)
            if shell_used:
                key = None  # its reading depends on what this session's shell holds: neither reused nor kept
        if key is not None:
            # The verdict on a text is a function of the text (and kind and tool) while no session
            # has taught the engine new file names: agents and their sandboxes repeat themselves.
            # ... but a text that names a file its session wrote may run it: then it is read, and
            # a reading is reused only where none of the files it looked up is found
            # (Session.asked): where one is, it is read again.
            skipped = self.skips.get(key)
            if skipped is not None and (known is None or not skipped.named_by(known)):
                self.skipped += 1
                if key in self.skip_writes:
                    self._defer(event, text, self.skip_writes[key])
                return []
            self._read_deferred(event, known, shell_used)
            cached = self.cache.get(key)
            if cached is not None and (cached.asked or cached.began_in is not None) and not _holds_for(known, cached):
                cached = None
            if cached is not None:
                cmds, selected, matches, ops = cached.cmds, cached.selected, cached.matches, cached.ops
                self.reused += 1
                self.cache.move_to_end(key)
                if ops:  # what the reading wrote, this session now holds too
                    self.session(event).replay(ops)
                if matches is None:
                    matches = self._match(event, cmds or [None], text, selected)
                return [_finding(self.rules[index], event, cmd, text, hits) for index, cmd, hits in matches]
        lowered = searched = _lower(text)
        many_words = False
        beyond: set[int] = set()
        # (lowered with its parent's line, the process's own part is no longer than lowered alone, so
        # that line begins at or before parent_from: a literal starting from there lies wholly within it)
        own_lowered = _lower(own) if own is not None else None
        parent_from = len(own_lowered) + 1 if own_lowered is not None else None
        # (of a process, only its own words are resolved; its parent's line is another process's, and stays last)
        mine = own_lowered if own_lowered is not None and cwd is not None else lowered
        words = mine.translate(_WORD_BREAKS).split() if cwd is not None else ()  # (`<shadow`: the file is a word)
        if cwd is not None and ("<" in mine or ">" in mine or any(map(_resolving, words))):
            # every word as a path there: more than the reading resolves (Cmd.operands_in_dir), never less;
            # a text with no program whose files are resolved, and no redirection, has none to resolve
            words = list(dict.fromkeys(words))
            place = cwd.lower()
            resolved = in_dir(place, words[:MAX_RESOLVED_WORDS])
            if resolved:
                joined = " ".join(resolved)
                if own is None:
                    searched = "\n".join((lowered, joined))
                else:
                    searched = "\n".join((mine, joined, _lower(text[len(own) + 1:])))
                    parent_from = len(mine) + len(joined) + 2
            rest = words[MAX_RESOLVED_WORDS:]
            if len(rest) * (len(place) + 1) > MAX_RESOLVED_TEXT:
                many_words = True  # (read: the reading resolves them all)
            else:
                # the rest searched a slice at a time; what they find is narrowed by the whole (a rule's
                # other literals may lie in another slice)
                slices = []
                for at in range(0, len(rest), MAX_RESOLVED_WORDS):
                    more = " ".join(in_dir(place, rest[at:at + MAX_RESOLVED_WORDS]))
                    slices.append(more)
                    beyond |= self.candidates(more, scan_kind)[0]
                if beyond:
                    self.narrow(beyond, "\n".join((searched, *slices)), scan_kind)
        found, marked = self.candidates(searched, scan_kind, None, parent_from)
        # An escape (`$'id\nnc ...'`, `echo -e`, a string in code, a sed back reference) makes characters the
        # stripped text glues onto the next word (`\nnc` reads `nnc`), or copies or deletes some: read
        # such a text, and trust only the needle found, as for words the shell builds.
        escaped = "\\" in text and _ESCAPE(text)
        marked = marked or escaped or (("+" in text or "." in text) and ('"' in text or "'" in text)
                                       and _JOINED_STRINGS(text))
        exec_only = kind == "process" and self.argv_unread
        # (an exec read as its argv alone shows nothing its text does not: no shell builds its words,
        # and neither a sign of obfuscation nor a variable can make reading it find more)
        if found and (exec_only or not escaped and not _builds_words(lowered)):
            self.narrow(found, searched, scan_kind)
        found |= beyond
        always = self.always_sets.get(scan_kind, _EMPTY)
        if not found and not always and (exec_only or not marked and not many_words
                                         and not self._maybe_hidden(event, known, lowered)):
            self.skipped += 1
            names = (_deferred_names(lowered) if read is None and (">" in lowered or "tee" in lowered)
                     and _writes_something(lowered) else None)
            if read is None and ("scp" in lowered or "rsync" in lowered):
                sent = copy_names(lowered.split())
                if sent:
                    # what it copies to another host, for a later command run there (Cmd.sent_files)
                    names = (names or ()) + sent
            if read is None and ("sftp" in lowered or "ssh" in lowered and ("|" in lowered or "<" in lowered)):
                sent = streamed_names(lowered)  # (sftp's put, or what an ssh is fed)
                if sent:
                    names = (names or ()) + sent
            if read is None and ("=" in lowered or "alias" in lowered or "unset" in lowered):
                # what it leaves set in the run's shell, for later actions to use (Session.keep_shell)
                kept = _kept_names(lowered)
                if kept:
                    names = (names or ()) + kept
            if names is not None:
                self._defer(event, text, names)
            if key is not None and len(text) <= SKIP_TEXT:
                self.skips[key] = _Skipped(lowered)
                if names is not None:
                    self.skip_writes[key] = names
                if len(self.skips) > SKIP_ENTRIES:
                    oldest = next(iter(self.skips))
                    del self.skips[oldest]
                    self.skip_writes.pop(oldest, None)
            return []
        if exec_only:
            # the exec's own command, built from argv (Engine.argv_unread): no session is asked
            cmds, ops, asked, began_in, read_earlier = read(), (), frozenset(), None, False
        else:
            self._read_deferred(event, known, shell_used)
            session = self.session(event)
            began_in = session.cwd
            session.record()
            try:
                cmds = self.reader.read(text, session) if read is None else read()
            finally:
                ops = session.recorded()
                asked = frozenset(session.asked)
                began_in = began_in if session.cwd_used else None
            read_earlier = session.read_earlier
        self.parsed += 1
        deeper = _EMPTY
        if not exec_only:  # (an exec's one command is its text, already searched)
            expanded = _expanded_text(cmds).lower().replace("'", "").replace('"', "").replace("\\", "")
            deeper = self.candidates(expanded, scan_kind)[0] - found  # what reading revealed; `found` stays
            if deeper:
                self.narrow(deeper, expanded, scan_kind)
        selected = (found | deeper | always) & self.kind_sets.get(kind, _EMPTY)
        if read_earlier:
            key = None  # its reading depends on what this session held before
        matches = self._match(event, cmds or [None], text, selected)
        if key is not None:
            # A text's verdict is reused only when every rule that ran reads nothing but the text;
            # otherwise its reading is, and the rules run again.
            pure = all(self.rules[i].pure for i in selected)
            self.cache[key] = (_Reading(None, selected, matches, ops, asked, began_in) if pure
                               else _Reading(cmds, selected, None, ops, asked, began_in))
            if len(self.cache) > CACHE_ENTRIES:
                self.cache.popitem(last=False)
        return [_finding(self.rules[index], event, cmd, text, hits) for index, cmd, hits in matches]

    def _maybe_hidden(self, event: Event, session: Session | None, lowered: str) -> bool:
        """Whether a command with no rule literal may still hide one: variables, or a script written earlier."""
        if "$" in lowered or "``" in lowered:
            if "=" in lowered and _ASSIGNMENT(lowered) and _EXPANSION(lowered):
                return True
            if _EMPTY_EXPANSION(lowered) or _GLUED_EXPANSION(lowered):
                return True
        if ("`" in lowered or "$(" in lowered) and _GLUED_SUBSTITUTION(lowered):
            return True
        if "|" in lowered and (_FILTERED_INTO_SHELL(lowered)
                               or ("$(" in lowered or "`" in lowered or "<(" in lowered) and _SUBSTITUTION_RUN(lowered)):
            return True
        if "sed" in lowered and (_SED_EXECUTES(lowered)
                                 or "-" in lowered and _SED_IN_PLACE(lowered)):
            return True
        if ">" in lowered and _FILTERED_INTO_FILE(lowered) and _RUNS_A_FILE(lowered):
            return True  # (a later action that runs the file finds it through Session.defer)
        if "rsync" in lowered and _GLUED_RSH(lowered):
            return True
        if ("linux" in lowered or "darwin" in lowered or "freebsd" in lowered) and _RELEASE_DOWNLOAD(lowered):
            return True  # `./chisel_1.9.1_linux_amd64`: the tool's name is no word of the text (shell._RELEASE_ASSET)
        if ("cd" in lowered or "pushd" in lowered or "popd" in lowered) and _CHANGES_DIRECTORY(lowered):
            return True  # (the run's later words are paths in that directory: Session.cwd_set, Cmd.in_dir)
        if lowered.count("(") >= MANY_PARENTHESES:
            return True  # nesting may go deeper than the reader follows (command_nested_beyond_reading)
        if _names_written(session, lowered):
            return True
        return event.kind == "action" and event.tool.lower() in _WRITE_TOOLS

    def _defer(self, event: Event, text: str, names: tuple) -> None:
        session = self.session(event)
        if not session.deferred:
            self.pending += 1
        session.defer(text, names)

    def _read_deferred(self, event: Event, session: Session | None, shell_used: bool = False) -> None:
        """Before a session (the event's, None where it has none) reads a text or reuses a reading,
        what its skipped texts wrote is put in place, in their order (Session.deferred): a later
        write must land on top of them. Texts that only change the shell's variables or aliases
        wait for a text that uses one."""
        if not self.pending or session is None or not session.deferred:
            return
        if not shell_used and all(names and all(name[:1] in _SHELL_MARKS for name in names)
                                  for _, names, _event in session.deferred):
            return
        self.pending -= 1
        deferred, session.deferred = session.deferred, []
        cwd, known = session.cwd, session.cwd_set
        for written, _names, sender in deferred:
            session.event_id = sender
            self.reader.read(written, session)
        session.event_id = event.id
        # (read out of their turn, for the files they wrote: where the run's shell is was learned in turn,
        # from the texts read then, and a verdict already keyed by it must hold)
        session.cwd, session.cwd_set = cwd, known

    def _known_session(self, event: Event) -> Session | None:
        """The event's session where one exists (`session` makes one)."""
        return self.sessions.get((event.host, event.sandbox, event.run, event.episode))

    @property
    def stats(self) -> dict:
        return {"parsed": self.parsed, "skipped_by_prefilter": self.skipped, "reused": self.reused}

    def _run(self, event: Event, cmds: list, text: str, selected: Iterable[int]) -> list[Finding]:
        return [_finding(self.rules[index], event, cmd, text, hits)
                for index, cmd, hits in self._match(event, cmds, text, selected)]

    def _match(self, event: Event, cmds: list, text: str, selected: Iterable[int]) -> list[tuple]:
        """(rule index, the command it matched, what matched) for each rule that fires, in rule order."""
        matches: list[tuple] = []
        memo: dict = {}
        subjects: dict[int, Subject] = {}
        hits = Hits()
        by_rule: dict[int, list[Cmd]] | None = None
        scoped = len(cmds) > 1 and len(self.cmd_scoped.intersection(selected)) >= SCOPED_RULES
        for index in sorted(selected):
            rule = self.rules[index]
            if not rule.per_command or rule.own_process and event.kind == "process":
                targets = [cmds[0] if cmds else None]
            elif scoped and index in self.cmd_scoped:
                # Only the commands whose own text holds the rule's literals can match it: a long
                # script costs one pass per command, not one per rule and command.
                if by_rule is None:
                    by_rule = {}
                    for c in cmds:
                        if c is not None:
                            lowered = _lower(_scope_text(c))
                            for i in self.narrow(self.candidates(lowered, automaton=self.cmd_automaton)[0], lowered):
                                by_rule.setdefault(i, []).append(c)
                targets = by_rule.get(index, ())
            else:
                targets = cmds
            for cmd in targets:
                key = id(cmd)
                subject = subjects.get(key)
                if subject is None:
                    subject = subjects[key] = Subject(event, cmd, text, memo)
                if not rule.predicate(subject, hits):
                    hits.items.clear()
                    continue
                if rule.exception_predicates and _excepted(rule, subject):
                    hits.items.clear()
                    continue
                matches.append((index, cmd, hits))
                hits = Hits()
                break
        return matches


def _excepted(rule: Rule, subject: Subject) -> bool:
    for pred in rule.exception_predicates:
        if pred(subject, Hits()):
            return True
    return False


def _holds_for(session: Session | None, cached: _Reading) -> bool:
    """Whether a cached reading is the event's own: its session holds none of the files the
    reading looked up, and is in the directory the reading began in where that mattered."""
    if cached.began_in is not None and cached.began_in != (session.cwd if session is not None else START_CWD):
        return False
    return session is None or not session.finds_any(cached.asked)


def _names_written(session: Session | None, lowered: str) -> bool:
    """Whether a text (lowered, `_lower`) names a file that the event's session wrote (it may
    run it: read it), or uses its shell (_uses_shell). `bash 'x'.sh` names x.sh too."""
    return session is not None and (bool(session.names) and session.mentions(lowered)
                                    or _uses_shell(session, lowered))


class _Skipped:
    """A text the prefilter passed over (Engine.skips): its lowered form (_lower), and what a
    session's shell is checked against, found the first time it is asked for: most texts come
    back many times, in sessions whose shell holds something."""

    __slots__ = ("lowered", "references", "words")

    def __init__(self, lowered: str) -> None:
        self.lowered = lowered
        self.references: frozenset | None = None
        self.words: frozenset | None = None

    def named_by(self, session: Session) -> bool:
        """_names_written of the text, for a session that exists."""
        if session.names and session.mentions(self.lowered):
            return True
        if session.shell_vars and "$" in self.lowered:
            if self.references is None:
                self.references = frozenset(_references(self.lowered))
            if not session.shell_vars.isdisjoint(self.references):
                return True
        if session.sockets and _uses_socket(session, self.lowered):
            return True
        if session.shell_aliases:
            if self.words is None:
                self.words = frozenset(self.lowered.split())
            return not session.shell_aliases.isdisjoint(self.words)
        return False


class _Reading(NamedTuple):
    """A cached reading of a text: its commands (or, where every rule that ran reads nothing but the
    text, their matches), the rules selected, what it did to its session, the files it looked up
    (Session.asked) and, where its working directory mattered, the one it began in."""

    cmds: list[Cmd] | None
    selected: set[int]
    matches: list | None
    ops: tuple
    asked: frozenset
    began_in: str | None


_WORD_BREAKS = str.maketrans({c: " " for c in "<>|&;()"})
_RESOLVING = frozenset(FILE_PROGRAMS | {"sed"})
"""Programs whose files the reading resolves in the run's directory: FILE_PROGRAMS' operands, and the
files sed -i edits; code's files too (_CODE_PROGRAMS)."""
_CODE_PROGRAMS = ("python", "perl", "ruby", "node", "php", "deno", "bun", "lua", "awk", "gawk", "mawk", "tclsh")


def _resolving(word: str) -> bool:
    """Whether a word of a text names a program whose files the reading resolves (`/bin/rm` too)."""
    name = word.rpartition("/")[2]
    return name in _RESOLVING or name.startswith(_CODE_PROGRAMS)


def _apart(session: Session, workdir: str | None, read) -> list[Cmd]:
    """`read` run in `workdir` (unknown where None) as a process of its own: its `cd` does not stay, the
    run's shell is where it was, and no directory change is recorded for the reading to replay in
    another session (Session.replay), whose shell may be elsewhere."""
    cwd, known = session.cwd, session.cwd_set
    mark = len(session.journal) if session.journal is not None else None
    session.cwd, session.cwd_set = workdir or START_CWD, workdir is not None
    try:
        return read()
    finally:
        session.cwd, session.cwd_set = cwd, known
        if mark is not None and session.journal is not None:
            session.journal[mark:] = [op for op in session.journal[mark:] if op[0] not in ("chdir", "dir")]


def _directory(path: str | None) -> str | None:
    """A directory as named (a process's own, Codex's `workdir`), normalised; None where it is not an
    absolute path of a bounded length."""
    return normpath(path) if isinstance(path, str) and path.startswith("/") and len(path) <= MAX_PATH else None


def _own_process(event: Action) -> tuple[bool, str | None]:
    """Whether an action's command runs as a process of its own, not in the run's shell (an argv list,
    or a call naming its directory: Codex's `workdir`), and the directory it names (normalised; None
    where it names none, or none that is absolute)."""
    args = event.args
    if not args or event.input is not None:
        return False, None
    workdir = args.get("workdir")
    if isinstance(workdir, str):
        return True, _directory(workdir)
    return isinstance(_first(args, _COMMAND_KEYS), list), None


def _first(args: dict, keys: tuple) -> Any:
    for key in keys:
        value = args.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            return value
    return None


def _looks_like_shell_tool(tool: str) -> bool:
    """`write_stdin` (Codex) types into a session its exec_command started: most often a shell."""
    return any(word in tool for word in ("bash", "shell", "exec", "command", "terminal", "run", "cmd", "stdin"))


_ESCAPE = searcher(r"\\(?:[ntrvfaeEx0-9uUcN]|o[0-7]|d[0-9])")
"""An escape a shell (`$'...'`, `echo -e`, `printf`), sed (`\\1`, GNU's `\\o157`, `\\d111`) or a language's
string (Python's `\\N{...}`) turns into another character, or into text copied from elsewhere."""
_CHANGES_DIRECTORY = searcher(r"(?:^|[;&|({}!\n]|\b(?:if|elif|while|until|then|do|else|builtin|command|time))\s*(?:cd|pushd|popd)(?:[\s;&|)}]|$)")
"""A `cd`, `pushd` or `popd` (as a command, not a word): the text is read for the directory it leaves."""
_JOINED_STRINGS = searcher(r"[\"'][ \t]*[+.][ \t]*[\"'][^\s\"']")
"""String literals joined in code (`"n"+"c -e ..."`, perl's `"n"."c"`): the words they make are not in
the text. Only a string that goes on a word (its first character is no space) can make one: a quoted
dot (`cut -d'.' -f1`) makes none."""
_BUILDS_WORDS = searcher(r"\$[({@*1-9]|\$ifs|[<>]\(|`|\{[^\s{}]*(?:,|\.\.)[^\s{}]*\}|\[[^\s\]]+\]|\?"
                         r"|(?:^|[\s;&|(])(?:read\s[^\n]*<<<|printf\s+-v\s)")
_FILTERED_INTO_SHELL = searcher(
    r"(?:^|[\s|;&(])(?:(?:tr|cut|paste|fold|iconv|dd)\s[^;&\n]*|(?:sed|awk|gawk|mawk|perl)\s[^\n]*)\|"
    r"(?:sudo\s+)?(?:(?:/\S*/)?(?:sh|bash|dash|zsh|ksh|mksh|ash|busybox\s+sh)(?:\s|$)|(?:source|\.)\s+/dev/stdin"
    r"|xargs\s[^|;&\n]*(?:\b(?:sh|bash|dash|zsh|ksh|mksh|ash)\b|-i))")
"""A filter that rewrites text feeding a shell, directly (`| /bin/sh`, `| . /dev/stdin`) or through
xargs (a shell it runs, or words it puts in place with -I: `| xargs -I{} {}`): what the shell runs is
not in the text as written (`echo mc -e ... | tr m n | sh` runs nc). A sed, awk or perl program may
hold `;` (the text searched has lost its quotes)."""
_SUBSTITUTION_RUN = searcher(
    r"(?:(?:^|[;&|(\n{!]|\b(?:then|do|else|time|command|builtin|exec|eval|source|nohup|sudo|env)\s|\s\.\s|=\S*\s"
    r"|(?:^|[\s/])(?:ba|da|z|k|mk|a)?sh\s+(?:\S+\s+)*?-[a-z]*c[a-z]*\s+(?:--\s+)?)\s*(?:\$\(|`|<\()"
    r"|(?:(?:^|[\s/])(?:ba|da|z|k|mk|a)?sh|\bsource)\s+(?:\S+\s+)*?(?:<\s*<\(|<\(|<<<\s*\$\(|<<<\s*`)"
    r"|\s\.\s+<\()[^`\n]*\|")
"""A pipeline's output run as a command: a command or process substitution with a pipe after it on
its line, where a command begins (`$(echo nmxap | sed s/x//) 10.0.0.0/24`, after `then`, `{`, `!`,
an assignment, sudo...) or given as code to `sh -c` (`bash -lc`, `-O opt -c`), eval, source, `.`,
exec, or to a shell as a file or a here-string (`bash <(...)`, `sh <<< "$(...)"`). Its filters may
build the words, which the text does not show."""
_WRITES_CONTENT = searcher(r"(?:^|[;&|(\s/])(?:echo|printf|cat)\b[^\n]*>|>[^\n]*\b(?:echo|printf)\b|<<|(?:^|[\s|/])tee\s")
"""A text that may write a file with content it shows (echo, printf, a heredoc, tee)."""
_WRITE_TARGET = re2.compile(r">{1,2}\|?\s*([^\s;&|<>()]+)|(?:^|[\s|])tee\s+(?:-a\s+)?([^\s;&|<>()]+)")


MIN_DEFERRED_NAME = 4
"""Shorter names are left out of a session's names: `> x` would have every text with an x read.
What such a file holds is still in place before the run's next reading (its text was skipped: run
as written, it matches no rule; decoded or filtered, the text that does so is read)."""


def _writes_something(lowered: str) -> bool:
    return _WRITES_CONTENT(lowered) or _FILTERED_INTO_FILE(lowered)


def _deferred_names(lowered: str) -> tuple:
    """The base names (MIN_DEFERRED_NAME long or more) of the files a text writes."""
    names = []
    for match in _WRITE_TARGET.finditer(lowered):
        target = match.group(1) or match.group(2)
        if target and not target.startswith(("/dev/", "&")) and not target.isdigit():
            names.append(posixpath.basename(target.rstrip("/")))
    return tuple(dict.fromkeys(n for n in names if len(n) >= MIN_DEFERRED_NAME))[:16]


_FILTERED_INTO_FILE = searcher(
    r"(?:^|[\s|;&(])(?:tr|sed|awk|gawk|perl|cut|rev|base64|xxd|paste|fold|iconv|dd)\s[^;&\n|]*>")
"""A filter writing what it computes into a file (`... | tr m n > run.sh`)."""
_RUNS_A_FILE = searcher(r"(?:^|[\s;&|(])(?:sh|bash|dash|zsh|source|\.|chmod|exec)\s|(?:^|[\s;&|(])\.{0,2}/")
"""A text that also runs a file (`; sh run.sh`, `./run.sh`, `chmod +x`): then the file is read now."""
_SED_IN_PLACE = searcher(r"(?:^|[\s|;&(])sed\s+(?:-[a-z]*\s+)*-[a-z]*i")
"""sed editing a file in place: what the file holds afterwards must be known."""
_SED_EXECUTES = searcher(r"(?:^|[\s|;&(])sed\s[^\n]*(?:[/|#,:@%!]\w*e\w*(?:['\";\s|&)]|$)|[\s'\";]\d*\$?!?e(?:\s|['\";]|$))")
"""sed running a command itself (GNU's `e COMMAND`, `s///e`): what runs is not in the text as written
(`sed 's/^m/n/e'` runs nc)."""
_EMPTY_EXPANSION = searcher(r"[^\s;|&]\$[@*1-9]|\$[@*1-9][^\s;|&]|\$\(\s*\)|``")
"""An expansion that is empty in a shell started without arguments, inside a word: `n$@c` is nc."""
_GLUED_EXPANSION = searcher(r"[a-z0-9]\$\{[^{}\s]*\}|\$\{[^{}\s]*\}[a-z0-9]")
"""`${...}` glued to letters or digits of a word: with x unset, `cu${x}rl` is curl (shell._unset) and
`${x:-cu}rl` too."""
_GLUED_RSH = searcher(r"(?:^|[\s;&|(])rsync\s(?:[^\n;&|]*\s)?-[a-z0-9@]*e[^\s]")
"""rsync's remote shell glued to its option (`-e'ssh -R ...'`, `-avzessh`): the program it runs is
not a word of the text as written (shell._rsync_rsh reads it)."""
_RELEASE_DOWNLOAD = searcher(r"[a-z0-9][-_](?:v?[0-9][0-9.]*[-_])?(?:linux|darwin|freebsd)(?:[-_.\s]|$)")
"""A word named as a release download is (tool_version_system_arch): the tool it runs is not a word of the text."""
_GLUED_SUBSTITUTION = searcher(r"[a-z0-9](?:\$\(|`)|(?:\)|`)[a-z0-9]")
"""A command substitution glued to a word: what it prints joins the word (`c$(:)url`, `n`echo c``)."""


def _automaton(needle_rules: dict[str, tuple[list, list]]) -> ahocorasick.Automaton:
    """An automaton over the needles whose values name the rules each makes a candidate; a program
    name must stand as a word for the rules that name it as a program: `nc` in `sync` or `az` in
    `lazy` makes no candidate of them."""
    automaton = ahocorasick.Automaton()
    for needle, (plain, word) in needle_rules.items():
        marker = 2 if needle in _NOT_AS_OPTION else needle in _MARKER_SET
        automaton.add_word(needle, (len(needle), tuple(plain), tuple(word), marker))
    automaton.make_automaton()
    return automaton


def short_flags(lowered: str) -> frozenset[str]:
    """FLAG_MARK + each letter of the text's short-option words (-la gives l and a), as
    condition.flag_literal writes an option a rule asks for."""
    out = set()
    for word in lowered.split():
        if len(word) > 1 and word[0] == "-" and word[1] != "-":
            for ch in word[1:]:
                if not ch.isalnum():
                    break
                out.add(FLAG_MARK + ch)
    return frozenset(out)


def _requires_of(rules: list[Rule], kind: str | None, piped: bool, memo=None) -> dict[int, tuple]:
    """Rule index -> its Rule.requires as frozensets (for `kind`, its kind_requires where it has one),
    as a text with (`piped`) or without a pipe shows them. `memo`: a cache of _required_as_searched
    (rules share most literals)."""
    out = {}
    for index, rule in enumerate(rules):
        alts = rule.requires
        if kind is not None and rule.kind_requires and kind in rule.kind_requires:
            alts = rule.kind_requires[kind]
        if alts:
            alts = _searched_alternatives(alts, piped, memo)
        if alts:
            out[index] = alts
    return out


def _searched_alternatives(alts: tuple, piped: bool, memo=None) -> tuple | None:
    """Rule.requires as the searched text shows it (`_required_as_searched`, or `memo` of it); a part
    whose literal could be empty holds always and is dropped, and an alternative left with no part
    makes the rule's requirement unknown (None)."""
    searched_as = memo or _required_as_searched
    out = []
    for alt in alts:
        clauses = []
        for clause in alt:
            if UNPIPED in clause:
                if piped:
                    break  # the form with the fewest white space asks no more of this text
                continue
            searched = frozenset([searched_as(lit, piped) for lit in clause])
            if all(searched):
                clauses.append(searched)
        else:
            if not clauses:
                return None
            clauses.sort(key=_commonness)
            alternative = tuple(clauses)
            if alternative not in out:
                out.append(alternative)
    return tuple(out) or None


def _commonness(clause: frozenset) -> tuple[int, int]:
    """What a clause costs to check and how likely a text is to hold it, roughly: a literal a check,
    and short literals (an option letter, `sh`) are common. Clauses are checked cheapest first, so
    most alternatives fail on a clause of one or two words (`curl`; `sudo` or `doas`)."""
    return len(clause), -min(len(lit) - (lit[0] in (FLAG_MARK, WORD_MARK)) for lit in clause)


def _searched_needle(needle: str) -> str:
    """A rule's needle as the searched texts show it (`_lower`): no quotes or backslashes, no spaces
    around pipes. A needle inferred from a regex may hold quotes (`"pools"`), which no searched text
    does; '' for a needle of nothing else."""
    if "'" in needle or '"' in needle or "\\" in needle:  # (translate costs a dict lookup a character)
        needle = needle.translate(_UNQUOTE)
    return as_searched(needle)


def _required_as_searched(literal: str, piped: bool) -> str:
    """A literal of Rule.requires that the searched text holds whenever the command does: quotes and
    backslashes removed as `_lower` removes them. White space left in a literal is the text's own
    (condition.in_text), unless the text has a pipe: `_lower` then changes the white space around
    it, and a pipe can make white space (`tr _ ' ' | xargs -I{} {}`), so only the literal's longest
    piece is sure to be there."""
    mark = literal[:1] if literal[:1] in (FLAG_MARK, WORD_MARK) else ""
    literal = _searched_needle(literal[len(mark):])
    if piped:
        literal = longest_piece(literal)
    return mark + literal if literal else ""


_UNQUOTE = str.maketrans("", "", "'\"\\")


def _looks(clause: frozenset) -> tuple[tuple, tuple, frozenset]:
    """A clause of Rule.requires as what narrow() looks for: its substrings, its word literals
    (WORD_MARK) as words to find whole, and its flag literals (FLAG_MARK), to find among a text's
    short options. A clause holds where any of them is found: substrings, the cheapest, first."""
    plain = tuple(lit for lit in clause if lit[0] not in (WORD_MARK, FLAG_MARK))
    words = tuple(lit[1:] for lit in clause if lit[0] == WORD_MARK)
    return plain, words, frozenset(lit for lit in clause if lit[0] == FLAG_MARK)


def _has_word(text: str, word: str) -> bool:
    """Whether `word` stands in the text as a whole word, as the prefilter's name needles must
    (a word literal of condition.word_literal, without its WORD_MARK)."""
    start = text.find(word)
    while start >= 0:
        if _stands_alone(text, start, start + len(word)):
            return True
        start = text.find(word, start + 1)
    return False


def _stands_alone(text: str, start: int, stop: int) -> bool:
    """Whether text[start:stop] has no word character (condition.WORD_CHARS) on either side: a
    program name or an argument as a whole, not `nc` in `sync`."""
    return (start == 0 or text[start - 1] not in _WORD_CHARS) and (stop >= len(text) or text[stop] not in _WORD_CHARS)


def _builds_words(lowered: str) -> bool:
    """Whether the shell could make words that are not in the text as written (command, parameter
    or process substitution, $IFS, brace expansion, glob characters, or an assignment made by `read
    X <<< ...` or `printf -v X`, which the text does not show as X=...): then only the needles are
    trusted, not Rule.requires. `{}` of find and `{print $1}` of awk expand to nothing new; `[ -f x ]` is a test."""
    return _BUILDS_WORDS(lowered)


def _lower(text: str) -> str:
    """Text as the prefilter searches it: lowercased, no quotes, backslashes or line continuations,
    no spaces around pipes."""
    lowered = text.lower()
    if "\\" in lowered:
        lowered = lowered.replace("\\\n", "").replace("\\", "")
    lowered = lowered.replace("'", "").replace('"', "")
    if "|" in lowered:
        lowered = " ".join(lowered.split()).replace(" |", "|").replace("| ", "|")
    return lowered


_KEPT = re2.compile(r"(?:^|[;&|(\n])\s*(?:(?:export|declare|typeset|readonly|local)\s+(?:-[a-z]+\s+)*)?([a-z_][a-z0-9_]*)\+?="
                   r"|(?:^|[;&|(\n])\s*alias\s+([a-z0-9_.-]+)="
                   r"|(?:^|[;&|(\n])\s*unset\s+(?:-[a-z]+\s+)*([a-z_][a-z0-9_]*)")
"""Where a command begins (not `dd if=...`, an argument): an assignment, alias or unset."""


_REFERENCE = re2.compile(r"\$\{?([a-z_][a-z0-9_]*)")
_SHELL_MARKS = (SHELL_VAR, SHELL_ALIAS)


def _uses_shell(session: Session, lowered: str) -> bool:
    """Whether a text (lowered) uses a variable or alias the session's shell holds or may hold
    (Session.shell_vars, shell_aliases), or a descriptor it holds on a socket (Session.sockets): then it
    is read, and its reading depends on the session."""
    names = session.shell_vars
    if names and "$" in lowered and not names.isdisjoint(_references(lowered)):
        return True
    if session.sockets and _uses_socket(session, lowered):
        return True
    return bool(session.shell_aliases) and not session.shell_aliases.isdisjoint(lowered.split())


_DESCRIPTOR = re2.compile(r"[<>]&\s*(?:([0-9]+)|\$\{?([a-z_][a-z0-9_]*))|/(?:dev|proc/self)/fd/([0-9]+)"
                          r"|\bread\b[^\n;|&]*-[a-z]*u\s*(?:([0-9]+)|\$\{?([a-z_][a-z0-9_]*))")
"""A descriptor a text (lowered) names: `<&3`, `2>&03`, `<&$fd`, `/dev/fd/3`, `read -u 3`."""


_INDIRECT_DESCRIPTOR = searcher(r"[<>]&\s*[\"'\\$`]|/fd/[\"'\\$`]|\bread\b[^\n;|&]*-[a-z]*u\s*[\"'\\$`]")


def _uses_socket(session: Session, lowered: str) -> bool:
    """Whether a text names a descriptor the session's shell holds on a socket (`sh <&3` after
    `exec 3<>/dev/tcp/H/P`): what runs with it talks to that socket."""
    if "&" not in lowered and "/fd/" not in lowered and "u" not in lowered:
        return False
    if _INDIRECT_DESCRIPTOR(lowered):
        return True  # (`<&"3"`, `<&$fd`, `/dev/fd/$n`: which descriptor is not read off the text; read it)
    sockets = session.sockets
    for match in _DESCRIPTOR.finditer(lowered[:CACHE_TEXT]):
        number = match.group(1) or match.group(3) or match.group(4)
        if descriptor(number or "$" + (match.group(2) or match.group(5)), True) in sockets:  # (as Session.sockets keys it)
            return True
    return False


def _references(lowered: str) -> list[str]:
    """The variables a text (lowered) references, in its first CACHE_TEXT characters."""
    return [m.group(1) for m in _REFERENCE.finditer(lowered[:CACHE_TEXT])]


def _kept_names(lowered: str) -> tuple:
    """What a skipped text may change in the run's shell, as Session.defer takes it (SHELL_VAR or
    SHELL_ALIAS, then the name): the variables it assigns or unsets, the aliases it defines."""
    out: list[str] = []
    for match in _KEPT.finditer(lowered[:SKIP_TEXT]):
        out.append(SHELL_ALIAS + match.group(2) if match.group(2) else SHELL_VAR + (match.group(1) or match.group(3)))
    return tuple(dict.fromkeys(out))


def _expanded_text(cmds: list[Cmd]) -> str:
    """What the prefilter looks at once an event is read: every command's text, and each variable
    set for them once. Every command carries the variables assigned before it (cmd.env), so
    writing them per command would grow with commands × assignments."""
    texts = [_cmd_text(c, env=False) for c in cmds]
    variables = {f"{k}={v}": None for c in cmds for k, v in c.env.items()}
    if variables:
        texts.append(" ".join(variables))
    return "\n".join(texts)


def _cmd_text(cmd: Cmd, env: bool = True) -> str:
    """A command as the prefilter sees it after reading: `|name` marks a program fed by a pipe; the
    programs whose output it runs (Cmd.fed_by) are named too."""
    parts = [cmd.path, *cmd.args, *cmd.writes, *cmd.reads, *cmd.redirects]
    if cmd.cwd is not None:  # (relative files as paths in the directory a `cd` set: Cmd.in_dir)
        parts += cmd.operands_in_dir() + cmd.in_dir([*cmd.writes, *cmd.reads])
    if cmd.name != cmd.path and cmd.name != posixpath.basename(cmd.path):
        parts.append(cmd.name)  # (the program a path runs as: a copy, a release download's tool)
    if cmd.pipe_from:
        parts.append("|" + cmd.name)
    if cmd.fed_by:
        parts.extend(cmd.fed_by)  # (what an earlier action fetched is not in this one's text)
    if cmd.written is not None and cmd.stdout is not None:
        parts.append(cmd.written)  # (what a decoder wrote into a file is not in the text either)
    if cmd.code is not None:
        parts.append(" ".join(sorted(cmd.code.calls)))
        parts.append(" ".join(sorted(cmd.code.modules)))
        parts.append(cmd.code.text)
    if env:
        parts.extend(f"{k}={v}" for k, v in cmd.env.items())
    return " ".join(parts)


def _scope_text(cmd: Cmd) -> str:
    """A command's text with what its pipe (`piped_files` too), `fed_by` and `via` fields name: all a
    command-scoped rule reads."""
    text = _cmd_text(cmd, env=False)  # rules reading cmd.env are not scoped per command
    if cmd.pipe_from or cmd.pipe_to or cmd.via or cmd.fed_by:
        text = " ".join([text, *cmd.pipe_from, *cmd.pipe_to, *cmd.via, *cmd.fed_by, *cmd.piped_files])
    return text


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
    if event.pid is not None and event.kind != "action":
        evidence["pid"] = event.pid  # an action's pid is the shell that ran it, not the command
    if cmd is not None:
        evidence["command"] = cmd.line[:MAX_SNIPPET]
        if cmd.via:
            evidence["via"] = list(cmd.via)
        if cmd.sent_files:
            evidence["sent_files"] = cmd.sent_files[:8]  # (copied there by an earlier command of the run)
    return Finding(
        id=finding_id(rule.id, event.id), rule=rule.id, title=rule.title, category=rule.category,
        severity=rule.severity, attack=list(rule.attack), event_ids=_event_ids(rule, event, cmd), ts=event.ts,
        sandbox=event.sandbox, run=event.run, episode=event.episode, step=event.step, host=event.host,
        evidence=evidence, description=rule.description,
    )


def _event_ids(rule: Rule, event: Event, cmd: Cmd | None) -> list[str]:
    """The finding's events: the event itself, then those of earlier commands its rule draws on (the
    copies whose files a remote start runs: Cmd.sent_events, for a rule reading cmd.sent_files)."""
    if cmd is None or not cmd.sent_events or not rule.uses_sent_files:
        return [event.id]
    return [event.id, *(e for e in cmd.sent_events if e != event.id)]
