"""A simple command as rules see it: the program, its words and what it touches."""
from __future__ import annotations

from dataclasses import dataclass, field

from .endpoints import Endpoint, from_args


@dataclass(slots=True)
class Code:
    """What an interpreter snippet (python -c, perl -e, ...) does, as far as static reading shows."""

    lang: str
    text: str
    calls: set[str] = field(default_factory=set)
    modules: set[str] = field(default_factory=set)


MAX_WRITTEN = 64 * 1024


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

    def endpoints_in_args(self, network_program: bool) -> None:
        """Read the words for endpoints when a rule first asks (`endpoints`), not for every command:
        most commands are never asked, and the search costs as much as the rest of their reading."""
        self.args_network, self.args_at = network_program, len(self.known_endpoints)

    @property
    def endpoints(self) -> list[Endpoint]:
        """Remote endpoints the command names, in the order the reading met them."""
        if self.args_network is not None:
            at = self.args_at
            self.known_endpoints[at:at] = from_args(self.args, self.args_network)
            self.args_network = None
        return self.known_endpoints

    @property
    def line(self) -> str:
        return " ".join([self.path, *self.args])

    def __str__(self) -> str:
        return self.line


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
