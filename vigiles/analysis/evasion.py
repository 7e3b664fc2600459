"""Evasion variants of a shell command, to measure whether detection survives obfuscation.

Each variant keeps what the command does and changes how it is written: base64 piped to a shell,
the program name split across variables, `bash -c` wrapping, absolute program paths, changed
quoting, a script written to a file then run, a plain command's words joined by brace
expansion (`{cat,/etc/passwd}`) or by `${IFS}` (both need no space), and the program name cut by a
backslash-newline (`n\\<newline>c`, which bash joins) or by an expansion that is empty in a
shell started without arguments (`n$@c`), a plain command kept in one variable whose words are
split on a custom IFS (`IFS=,; c=nc,-e,...; $c`), a digit of the command written as shell
arithmetic (`python$((3))`, `$((4440+4))`), and the command printed in a form that a filter turns
back into it on its way to a shell: ROT13 undone by `tr`, its commonest letter masked and put back
by `sed`, printed by awk (`awk 'BEGIN{print "n" "c ..."}'`) or upper-cased and turned back by awk's
tolower; the program copied under another name first (`cp $(command -v nc) /tmp/.x && /tmp/.x ...`),
a plain command's words given to `sh -c '"$0" "$@"'`, to `env -S '...'` or to Python's `os.execvp`,
the command kept in a Python variable then given to os.system,
the command run by a program that runs commands in its own syntax (`screen -dmS job sh -c ...`,
`parallel ::: '...'`), and the command as a word of a `for` loop whose body evals it."""
from __future__ import annotations

import base64
import json
import shlex

import re2

from .shell import ShellReader

_reader: ShellReader | None = None


def _first_program(command: str) -> tuple[str, int, int] | None:
    """The first simple command's program word and its byte span in `command`, if plain."""
    global _reader
    if _reader is None:
        _reader = ShellReader()
    tree = _reader._parser.parse(command.encode())
    stack = [tree.root_node]
    while stack:
        node = stack.pop(0)
        if node.type == "command":
            name = node.child_by_field_name("name")
            if name is None:
                return None
            word = name.text.decode()
            if not word.replace("-", "").replace("_", "").replace(".", "").replace("/", "").isalnum():
                return None
            return word, name.start_byte, name.end_byte
        stack = list(node.named_children) + stack
    return None


def _replace(command: str, start: int, end: int, new: str) -> str:
    data = command.encode()
    return (data[:start] + new.encode() + data[end:]).decode()


def variants(command: str) -> dict[str, str]:
    """name -> variant; a variant that does not apply to this command is left out."""
    out: dict[str, str] = {}
    encoded = base64.b64encode(command.encode()).decode()
    out["base64_pipe_shell"] = f"echo {encoded} | base64 -d | bash"
    out["bash_c"] = f"bash -c {shlex.quote(command)}"
    out["rot13_tr_shell"] = (f"printf '%s\\n' {shlex.quote(command.translate(_ROT13))} "
                             "| tr 'A-Za-z' 'N-ZA-Mn-za-m' | bash")
    letters = [c for c in command if "a" <= c <= "z"]
    mask = next((m for m in "~%@#" if m not in command), None)
    if letters and mask is not None:
        common = max(sorted(set(letters)), key=letters.count)
        out["sed_masked_shell"] = (f"printf '%s\\n' {shlex.quote(command.replace(common, mask))} "
                                   f"| sed 's/{mask}/{common}/g' | bash")
    if command:
        printed = _awk_string(command[:1]) + " " + _awk_string(command[1:])
        out["awk_printed_shell"] = f"awk {shlex.quote('BEGIN{print ' + printed + '}')} | bash"
    if command == command.lower() and command.isascii():
        out["awk_lowercased_shell"] = (f"printf '%s\\n' {shlex.quote(command.upper())} "
                                       "| awk '{print tolower($0)}' | bash")
    out["python_variable"] = "python3 -c " + shlex.quote(f"import os; c = {json.dumps(command)}; os.system(c)")
    out["screen_detached"] = f"screen -dmS job sh -c {shlex.quote(command)}"
    out["parallel_argument"] = f"parallel ::: {shlex.quote(command)}"
    if "\n" not in command.strip():
        # (one line: a loop runs its input line by line, and a here-document's line holds one)
        out["while_read_eval"] = (f"printf '%s\\n' {shlex.quote(command.strip())} "
                                  "| while IFS= read -r line; do eval \"$line\"; done")
        out["after_heredoc"] = f"cat <<'VIGILES_EOF' > /tmp/.notes; {command.strip()}\nnotes\nVIGILES_EOF"
        out["for_word_eval"] = f"for step in 'true' {shlex.quote(command.strip())}; do eval \"$step\"; done"
    out["script_written_then_run"] = (
        f"cat > /tmp/.task.sh <<'VIGILES_EOF'\n#!/bin/sh\n{command}\nVIGILES_EOF\nchmod +x /tmp/.task.sh && /tmp/.task.sh")
    program = _first_program(command)
    if program is not None:
        word, start, end = program
        base = word.rsplit("/", 1)[-1]
        if len(base) >= 2:
            half = len(base) // 2
            split = f"p1={base[:half]}; p2={base[half:]}; "
            out["variable_split_name"] = split + _replace(command, start, end, "$p1$p2")
            quoted = f"{base[0]}'{base[1:]}'" if not word.startswith("/") else f"\"{word}\""
            out["changed_quoting"] = _replace(command, start, end, quoted)
            cut = len(word) - len(base) + half
            out["line_continuation"] = _replace(command, start, end, word[:cut] + "\\\n" + word[cut:])
            out["empty_expansion"] = _replace(command, start, end, word[:cut] + "$@" + word[cut:])
            if word[cut - 1:cut].isalnum() and word[cut:cut + 1].isalnum():
                out["unset_variable"] = _replace(command, start, end, word[:cut] + "${zq}" + word[cut:])
        if not word.startswith("/") and base not in _BUILTINS:
            out["absolute_path"] = _replace(command, start, end, f"/usr/bin/{base}")
            if "/" not in word:
                out["copied_program"] = (f"cp $(command -v {base}) /tmp/.cache-{len(command)} && "
                                         + _replace(command, start, end, f"/tmp/.cache-{len(command)}"))
    words = _plain_words(command)
    if words is not None and len(words) >= 2 and "=" not in words[0]:
        # (an assignment prefix, `LD_PRELOAD=x ls`, is one only as written: made by an expansion,
        # the shell would run a program of that name)
        out["brace_words"] = "{" + ",".join(words) + "}"
        if words[0] not in _BUILTINS:
            out["positional_words"] = "sh -c '\"$0\" \"$@\"' " + " ".join(words)
        out["ifs_spaces"] = "${IFS}".join(words)
        if not any("," in w for w in words):
            out["ifs_fields"] = "IFS=,; c=" + ",".join(words) + "; $c"
        if words[0] not in _BUILTINS:
            out["env_split_string"] = "env -S " + shlex.quote(" ".join(words))
            listed = ", ".join(f'"{w}"' for w in words)  # (plain words: no quote or backslash in them)
            out["python_execvp"] = "python3 -c " + shlex.quote(f'import os; os.execvp("{words[0]}", [{listed}])')
    digit = _DIGIT_RUN.search(command)
    if digit is not None and _is_plain_word_part(command, digit.start(1)):
        value = int(digit.group(1))
        out["arithmetic"] = (command[:digit.start(1)] + f"$(({value // 2}+{value - value // 2}))"
                             + command[digit.end(1):])
    return out


def _awk_string(text: str) -> str:
    """`text` as an awk string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_ROT13 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                       "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm")

_DIGIT_RUN = re2.compile(r"(?:^|[A-Za-z/ .:])([1-9][0-9]{0,5})(?:[ ./:]|$)")


def _is_plain_word_part(command: str, start: int) -> bool:
    """Whether a digit run at `start` sits outside quotes, a heredoc and comments (the first line,
    before any quote or `#`), so writing it as `$((...))` keeps the command's meaning."""
    head = command[:start]
    return "\n" not in head and not any(ch in head for ch in "'\"#`\\$")


_PLAIN_WORD = re2.compile(r"[A-Za-z0-9_./:=@%+-]+")


def _plain_words(command: str) -> list[str] | None:
    """The words of a command that is one simple command of plain words, else None."""
    if "\n" in command.strip():
        return None
    words = command.split()
    if not words or not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return None
    return words


_BUILTINS = frozenset({"cd", "echo", "export", "set", "unset", "source", ".", "eval", "exec", "history", "alias",
                       "trap", "ulimit", "read", "printf", "test", "[", "type", "declare", "local", "kill",
                       "wait", "jobs", "bg", "fg", "disown", "shopt", "umask", "exit", "return", "true", "false"})
