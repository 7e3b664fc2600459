"""A simple command as rules see it: the program, its words and what it touches."""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from .endpoints import CURL_VALUED, WGET_VALUED, Endpoint, from_args

_VALUED_BY_PROGRAM = {"curl": CURL_VALUED, "wget": WGET_VALUED, "wget2": WGET_VALUED}


@dataclass(slots=True)
class Code:
    """What an interpreter snippet (python -c, perl -e, ...) does, as far as static reading shows."""

    lang: str
    text: str
    calls: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)


MAX_WRITTEN = 64 * 1024
MAX_IN_DIR = 1024
MAX_RELATIVE = 1024
_NOT_RELATIVE = frozenset("-/~$`")
"""Words that are options, absolute, home-relative or still hold an expansion are not resolved."""
FILE_PROGRAMS = frozenset({
    "rm", "unlink", "shred", "srm", "wipe", "truncate", "cat", "tac", "head", "tail", "less", "more", "nl",
    "strings", "xxd", "od", "hexdump", "base64", "base32", "cp", "mv", "ln", "install", "rsync", "scp", "tar",
    "zip", "7z", "gzip", "gunzip", "bzip2", "xz", "tee", "chmod", "chown", "chgrp", "chattr", "vi", "vim", "nano",
    "emacs", "gpg", "sqlite3"})
"""Programs whose operands are files: after a `cd`, those are also given as paths in that directory
(`Cmd.operands_in_dir`). Others' words (patterns, scripts, counts, hosts) are not paths to resolve."""
_VALUED = {"truncate": {"-s", "--size"}, "head": {"-n", "-c"}, "tail": {"-n", "-c"}, "nl": {"-w", "-s", "-v", "-i"},
           "scp": {"-o", "-P", "-l", "-c", "-J", "-S"}, "rsync": {"-e", "--rsh", "-f", "--filter", "--exclude",
           "--include", "-B", "--port", "--chmod", "--chown"},
           "strings": {"-n", "-t", "-e"}, "xxd": {"-c", "-l", "-s", "-g", "-o"}, "od": {"-A", "-t", "-N", "-j", "-w"},
           "tar": {"-b", "--exclude", "-H", "--format"}, "gpg": {"-r", "-u", "--recipient", "--local-user"}}
"""Options of FILE_PROGRAMS whose value (the next word) is no file."""
_COPIES_TO_LAST = frozenset({"cp", "mv", "ln", "install", "rsync", "scp"})


@dataclass(slots=True)
class Cmd:
    name: str
    """The program's base name, after quotes, variables and paths are resolved."""
    path: str
    """The program word as resolved, e.g. /usr/bin/ssh or ./run.sh."""
    args: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    reads: list[str] = field(default_factory=list)
    redirects: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    via: tuple[str, ...] = ()
    """How this command was reached: wrappers and decoders, outermost first (e.g. 'bash -c', 'base64')."""
    pipe_from: list[str] = field(default_factory=list)
    pipe_to: list[str] = field(default_factory=list)
    piped_files: list[str] | tuple = ()
    """Files the commands before it in its pipeline name (their arguments and `<` inputs): what it may
    be handed (`base64 model.safetensors | curl -d @- URL`)."""
    fed_by: list[str] = field(default_factory=list)
    """Programs whose output this command runs: a shell, an interpreter, `source` or `eval` given it
    as a whole word `<(...)` or `$(...)` (`sh <(curl ...)`, `bash -c "$(curl ...)"`) or as a file one
    of them wrote earlier in the same text (`curl -o i.sh URL; sh i.sh`), or a program file they
    wrote (`wget -O run URL && ./run`)."""
    sent_files: list[str] = field(default_factory=list)
    """Run on another host over ssh: the local files an earlier command of the run copied there (scp,
    rsync) that this command line names (a path component), as the copies wrote them."""
    sent_events: list[str] = field(default_factory=list)
    """The ids of the events whose commands copied those files there (Session.event_id when they did)."""
    known_endpoints: list[Endpoint] = field(default_factory=list)
    """Endpoints found while reading (redirections to /dev/tcp, code, ssh's own syntax)."""
    code: Code | None = None
    stdout: str | None = None
    """What the command prints, when static reading can tell (echo, base64 -d, ...)."""
    stdin: str | None = None
    """What the command is given on its input, when static reading can tell: an earlier stage's output
    (echo, printf, a decoder), a here-string, a heredoc, a file the run wrote given with `<`; at most
    MAX_WRITTEN characters."""
    written: str | None = None
    """What it writes into its files, where that is known (a write tool's content, echo or a heredoc
    redirected into a file, tee), at most MAX_WRITTEN characters."""
    args_network: bool | None = None
    """Set: the words are still to be read for endpoints (as a network program's when True)."""
    args_at: int = 0
    cwd: str | None = None
    """The directory the command runs in, where a `cd` of the run set it (Session.cwd_set); else
    unknown. Its relative words are then also seen as paths in that directory (`in_dir`)."""

    def in_dir(self, words: list[str]) -> list[str]:
        """Those of `words` that may name a file relative to the command's directory, as paths in it
        (`cd ~/.ssh && cat id_rsa` reads /root/.ssh/id_rsa); [] where the directory is unknown."""
        return in_dir(self.cwd, words) if self.cwd is not None else []

    def operands_in_dir(self) -> list[str]:
        """The command's file operands (FILE_PROGRAMS; not options, nor an option's value) as paths
        in its directory; [] for other programs or where the directory is unknown."""
        if self.cwd is None or self.name not in FILE_PROGRAMS:
            return []
        if self.name == "tar" and any(a in ("-C", "--directory") or a.startswith("--directory=") for a in self.args):
            return []  # (its files are in the directory -C names)
        valued = _VALUED.get(self.name, ())
        operands, skip, ended = [], False, False
        for arg in self.args:
            if skip:
                skip = False
            elif ended or not arg.startswith("-") or arg == "-":
                if arg != "{}":  # (xargs's placeholder: what it stands for comes from elsewhere)
                    operands.append(arg)
            elif arg == "--":
                ended = True
            elif arg in valued:
                skip = True
        if self.name in _COPIES_TO_LAST and len(operands) > 1 and not any(
                a in ("-t", "--target-directory") or a.startswith("--target-directory=") for a in self.args):
            operands.pop()  # the destination: what lands there is read elsewhere, not from there
        return in_dir(self.cwd, operands)

    def endpoints_in_args(self, network_program: bool) -> None:
        """Read the words for endpoints when a rule first asks (`endpoints`), not for every command:
        most commands are never asked, and the search costs as much as the rest of their reading."""
        self.args_network, self.args_at = network_program, len(self.known_endpoints)

    @property
    def endpoints(self) -> list[Endpoint]:
        """Remote endpoints the command names, in the order the reading met them."""
        if self.args_network is not None:
            at = self.args_at
            valued = _VALUED_BY_PROGRAM.get(self.name) if self.args_network else None  # (curl's, wget's options)
            self.known_endpoints[at:at] = from_args(self.args, self.args_network, valued)
            self.args_network = None
        return self.known_endpoints

    @property
    def line(self) -> str:
        return " ".join([self.path, *self.args])

    def __str__(self) -> str:
        return self.line


def in_dir(cwd: str, words: list[str]) -> list[str]:
    """Those of `words` that may name a file relative to `cwd`, as paths in it (at most MAX_IN_DIR)."""
    out = []
    for word in words:
        if (word and word[0] not in _NOT_RELATIVE and len(word) <= MAX_RELATIVE and "://" not in word
                and "=" not in word and ":" not in word):
            if "/" in word or word[0] == ".":
                out.append(normpath(posixpath.join(cwd, word)))
            else:  # (a plain name joins as it is: only `.`, `..` and slashes need normalising)
                out.append(cwd + word if cwd.endswith("/") else cwd + "/" + word)
            if len(out) >= MAX_IN_DIR:
                break
    return out


def normpath(path: str) -> str:
    """posixpath.normpath, which keeps a leading `//` (POSIX leaves it to the system; Linux reads it as `/`)."""
    path = posixpath.normpath(path)
    return "/" + path.lstrip("/") if path.startswith("//") else path


def split_flags(args: list[str]) -> list[str]:
    """Options as written and, for clusters like -fNR, each letter alone: -f, -N, -R. In the order
    written, each once: what a rule reports as matched is then the same on every run."""
    flags: dict[str, None] = {}
    for arg in args:
        if len(arg) < 2 or arg[0] != "-" or arg == "--":
            continue
        if arg.startswith("--"):
            flags[arg.split("=", 1)[0]] = None
            continue
        flags[arg] = None
        if len(arg) > 2 and arg[1].isalpha():
            for ch in arg[1:]:
                if not ch.isalnum():
                    break
                flags["-" + ch] = None
    return list(flags)
