"""Shell command understanding with tree-sitter-bash.

`ShellReader.read(text)` returns every simple command the text would run, each resolved as far as
static reading allows: quotes and escapes removed, simple variables substituted, wrappers such as
`sudo`/`env`/`nohup` unwrapped, `bash -c`/`eval`/`$(...)` strings read again, base64/hex payloads
piped into a shell decoded and read again, interpreter snippets (`python -c`, `perl -e`, ...) read
for shell calls and sockets, and scripts written earlier in the same session read when run.
"""
from __future__ import annotations

import bisect
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

import re2
import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from . import arith, makefile, manifest, patch, sed
from . import code as codemod
from . import decode
from .command import MAX_WRITTEN, Cmd, normpath, split_flags
from .copies import copied_to_host
from .downloads import saved_files
from .copies import takes_next as _takes_next
from .endpoints import Endpoint, from_word

MAX_TEXT = 512 * 1024
MAX_DEPTH = 8
MAX_COMMANDS = 4000
MAX_NESTING = 600
"""Syntax nested deeper than this (`$($($(...)))`, `((((...))))`) is unreadable: the walk recurses
once per level, and a bound of its own holds whether this module runs as Python (which would stop
at its recursion limit) or compiled (which would not: vigiles/_compiled.py)."""

_LANGUAGE = Language(tree_sitter_bash.language())
UNREADABLE = "(unreadable)"
"""The name given to a command the reader gave up on (nested beyond MAX_NESTING), so rules can flag it."""

_SLURM_VALUED = {
    "-A", "-b", "-c", "-C", "-d", "-D", "-e", "-G", "-i", "-J", "-L", "-M", "-m", "-n", "-N", "-o", "-p", "-q", "-S",
    "-t", "-w", "-x", "-a", "--account", "--partition", "--nodes", "--ntasks", "--time", "--job-name", "--gres",
    "--gpus", "--gpus-per-node", "--gpus-per-task", "--cpus-per-task", "--mem", "--output", "--error", "--chdir",
    "--qos", "--constraint", "--nodelist", "--exclude", "--export", "--array", "--dependency", "--mail-type",
    "--mail-user", "--reservation", "--ntasks-per-node", "--mem-per-cpu", "--mem-per-gpu", "--begin", "--comment",
    "--wrap", "-B", "-F", "-T", "--tmp", "--signal", "--cpus-per-gpu", "--gres-flags", "--licenses",
    "--extra-node-info", "--deadline", "--distribution", "--hint", "--open-mode", "--priority", "--profile",
    "--switches", "--threads-per-core", "--tres-per-task", "--uid", "--gid", "--wckey", "--clusters", "--container",
    "--ntasks-per-gpu", "--ntasks-per-socket", "--ntasks-per-core", "--sockets-per-node", "--cores-per-socket",
    "--mincpus", "--acctg-freq", "--bb", "--bbf", "--cpu-freq", "--mcs-label", "--network", "--nodefile", "--input",
    "--job-name", "--cpu-bind", "--mem-bind", "--mpi", "--ntasks-per-tres", "--segment"}
"""Options of Slurm's srun, salloc and sbatch that take the next word as their value: they run the
command (sbatch: the script) their first other word names on the cluster's nodes."""
_PBS_VALUED = {"-a", "-A", "-c", "-C", "-d", "-D", "-e", "-F", "-j", "-J", "-k", "-l", "-m", "-M", "-N", "-o", "-p",
               "-P", "-q", "-r", "-S", "-t", "-u", "-v", "-W", "-w"}
"""PBS's (and Torque's) qsub options with a value: it submits the script its first other word names
(PBS Pro: the program after `--`)."""
_LSF_VALUED = {"-app", "-b", "-c", "-C", "-cwd", "-D", "-e", "-E", "-eo", "-Ep", "-f", "-F", "-g", "-G", "-gpu", "-i",
               "-is", "-J", "-k", "-L", "-Lp", "-m", "-M", "-n", "-o", "-oo", "-P", "-q", "-R", "-S", "-sla", "-t",
               "-T", "-u", "-U", "-w", "-W", "-We", "-nnodes", "-env", "-Jd", "-alloc_flags", "-data", "-jsdl",
               "-network", "-outdir", "-pack", "-ptl", "-stage", "-wa", "-wt"}
"""LSF's bsub options with a value: it runs the command line its first other word begins."""
_BATCH_DIRECTIVES = {"sbatch": "#SBATCH", "qsub": "#PBS", "bsub": "#BSUB"}
"""The comment lines through which a batch script gives its scheduler options (`#SBATCH --gres=gpu:8`):
read as options given before the script's name, as the schedulers do. A script with none of its
options on the command line asks for its GPUs there."""
MAX_DIRECTIVE_BYTES = 64 * 1024
"""Directive lines read of one job script; past them the walk says it stopped (cut_short)."""
MAX_STDIN_KEPT = 1 << 20
"""Characters of input kept on one walk's commands (Cmd.stdin), all of them together."""
_LOADER_VALUED = {"--library-path", "--preload", "--argv0", "--audit", "--inhibit-rpath", "--glibc-hwcaps-prepend",
                  "--glibc-hwcaps-mask"}
"""The dynamic loader run as a program (`/lib64/ld-linux-x86-64.so.2 ./x`) runs the program after its
options: also from a noexec mount, where ./x itself would be refused."""
# Programs that run the command in their arguments: name -> how many leading option words take a value.
_WRAPPERS = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group"},
    "doas": {"-u", "-C"}, "env": {"-u", "-C", "-S", "--unset", "--chdir"}, "nohup": set(),
    "setsid": set(), "nice": {"-n", "--adjustment"}, "ionice": {"-c", "-n", "-p"}, "time": {"-f", "-o"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"}, "stdbuf": {"-i", "-o", "-e"}, "exec": {"-a"},
    "command": set(), "builtin": set(), "chroot": set(), "taskset": set(), "chrt": set(),
    "unshare": set(), "nsenter": {"-t", "--target"}, "runuser": {"-u", "-g"}, "sg": set(),
    "torsocks": set(), "torify": set(), "tsocks": set(), "proxychains": {"-f"}, "proxychains4": {"-f"}, "strace": {"-o", "-e", "-p", "-s"},
    "ltrace": {"-o", "-e"}, "xargs": {"-I", "-n", "-P", "-d", "-L", "-s", "-a", "-E", "--max-args", "--max-lines",
                                                          "--max-procs", "--arg-file", "--eof"}, "watch": {"-n", "-d"},
    "flock": {"-w", "-E"}, "caffeinate": set(), "daemonize": {"-p", "-c", "-l", "-e", "-o", "-u"},
    "start-stop-daemon": set(), "fakeroot": set(), "catchsegv": set(), "systemd-run": {"-p", "--unit", "-u"},
    "busybox": set(), "unbuffer": set(), "script": set(), "su": set(), "firejail": set(), "bwrap": set(),
    "sshpass": {"-p", "-f", "-d", "-e", "-P"}, "cpulimit": {"-l", "--limit", "-p", "--pid", "-e", "--exe", "-P", "--path", "-c", "--cpu"},
    "srun": _SLURM_VALUED, "salloc": _SLURM_VALUED, "sbatch": _SLURM_VALUED, "qsub": _PBS_VALUED, "bsub": _LSF_VALUED,
}
_LOADER = re2.compile(r"ld(-linux[a-z0-9_.-]*|-musl-[a-z0-9_]+|64|-[0-9.]+)?\.so(\.[0-9]+)*")
"""The dynamic loader's file names (ld-linux-x86-64.so.2, ld-2.31.so, ld64.so.2, ld-musl-x86_64.so.1):
run as a program, it runs the program after its options (_LOADER_VALUED)."""


def _wrapper_options(name: str) -> set | None:
    """A program that runs the command in its arguments: its options that take a value; None for others."""
    valued = _WRAPPERS.get(name)
    if valued is None and name.startswith("ld") and _LOADER.fullmatch(name):
        return _LOADER_VALUED
    return valued


# Wrappers whose first positional words are not the command (timeout 10 CMD, taskset 0x1 CMD).
_LEADING_POSITIONALS = {"timeout": 1, "taskset": 1, "chrt": 1, "chroot": 1, "flock": 1, "sg": 1, "nice": 0}
_CODE_STRING_FLAGS = {"su": ("-c", "--command"), "script": ("-c", "--command"), "runuser": ("-c",),
                      "flock": ("-c",), "sg": (), "sbatch": ("--wrap",)}
_CLUSTER_FLAGS = {"su": frozenset("lmpfP"), "script": frozenset("aefqk"), "runuser": frozenset("lmpf"),
                  "flock": frozenset("nsuxoF")}
"""Short options of these wrappers that take no value, so that `script -qc CMD` and `su -lc CMD` are
read as `-q -c CMD` and `-l -c CMD` (a cluster's last option may take the next word)."""
_NETWORK_PROGRAMS = frozenset({"ssh", "autossh", "nc", "ncat", "netcat", "socat", "telnet", "sshpass",
                               "scp", "sftp", "rsync", "ping", "nmap", "masscan", "chisel", "plink",
                               "openssl", "curl", "wget", "wget2", "ftp", "tftp", "dig", "nslookup", "host",
                               "mosh", "proxytunnel", "cloudflared", "ngrok", "frpc", "bore", "zmap",
                               "hping3", "traceroute", "nping", "sshuttle", "gost", "iodine", "dnscat2",
                               "xmrig", "cpuminer", "minerd"})
_FETCHERS = frozenset({"curl", "wget", "ftp", "tftp", "scp", "sftp", "rsync", "nc", "ncat", "netcat", "socat",
                       "aria2c", "axel", "fetch", "lftp", "http", "xh", "busybox"})
"""Programs whose output, written to a file, comes from the network (Session.fetch)."""
_SCRIPT_SUFFIXES = (".sh", ".bash", ".zsh", ".ksh", ".py", ".pl", ".rb", ".php", ".js")


SHELL_VAR, SHELL_ALIAS = "\x05", "\x06"
"""Mark a name Session.defer is given that a deferred text may set in the shell (a variable, an
alias), not a file it writes."""
MAX_SHELL_NAMES = 256
MAX_SHELL_VALUE = 64 * 1024
MAX_DEFERRED = 64
MAX_DEFERRED_TEXT = 64 * 1024
PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin", "/root/.local/bin")
"""The usual PATH, in its order."""

START_CWD = "/"
"""The working directory of a session no command has moved."""
HOME = "/root"
"""Where `~` and a bare `cd` lead (Session.absolute reads ~/ as /root/ too)."""
MAX_PATH = 4096
_UNKNOWN_PLACE = frozenset("$`*?[\x00")
"""A directory holding one of these is not known: an expansion, a glob, a NUL."""
_READ_ELSEWHERE = ("writes ", "recipe ", "image ", "manifest", "config ", "rules ")
"""How commands read where they are written, not run, are reached (Cmd.via): their directory is not known."""
SOCKET_PATHS = ("/dev/tcp/", "/dev/udp/")
"""How bash's socket paths begin."""
_FD_PATH = re2.compile(r"/(?:dev|proc/self)/fd/([0-9]+)")
_FD_NAME = re2.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


def _in_own_shell(via: tuple) -> bool:
    """Whether what is reached through `via` runs in the run's own shell: through builtin, command,
    eval, source or `.` (and the script `source` reads), or a call of a function (`function f`; not
    its definition, `function`, whose body runs only if called)."""
    sourced = False
    for step in via:
        if step in OWN_SHELL or step in ("eval", "source", ".") or step.startswith("function "):
            sourced = step in ("source", ".")
            continue
        if sourced and step.startswith("script "):
            sourced = False
            continue
        return False
    return True


def _read_descriptor(args: list[str]) -> str:
    """The descriptor `read -u N` (or `-uN`, in a cluster `-ru N`) reads from; '' for none."""
    for at, arg in enumerate(args):
        if arg == "--" or arg[:1] != "-":
            break
        if "u" in arg[1:]:
            value = arg[arg.index("u", 1) + 1:] or (args[at + 1] if at + 1 < len(args) else "")
            return descriptor(value, True)
    return ""


def descriptor(target: str, duplicated: bool) -> str:
    """The descriptor a redirection's target names, as Session.sockets keys it: `3` (of `<&3`, `>&03`,
    `<&3-`), `$s` (of `<&$s`, `<&${s}`), or that of `/dev/fd/3`; '' for any other target."""
    named = _FD_PATH.fullmatch(target)
    if named is not None:
        return str(int(named.group(1)))
    if not duplicated:
        return ""
    target = target.rstrip("-")  # (`<&3-` moves it)
    if target.isdigit() and len(target) < 6:
        return str(int(target))
    if target.startswith("${") and target.endswith("}"):
        target = "$" + target[2:-1]
    return target.lower() if target.startswith("$") and target[1:].isidentifier() else ""  # (as texts are searched)


MAX_SOCKETS = 16
"""Socket descriptors a session keeps (Session.sockets)."""
OWN_SHELL = frozenset({"builtin", "command", "time"})
"""What a `cd` may be reached through and still move the run's own shell."""
ELSEWHERE = frozenset({"ssh", "autossh", "mosh", "dbclient", "docker", "podman", "nerdctl", "kubectl", "oc", "lxc",
                       "incus", "machinectl", "chroot", "at", "batch", "crontab", "systemd-run", "su", "runuser"})
"""Programs that run what they are given on another host, in a container, or at another time or
place, whose directory is not the run's: the commands reached through them are not resolved."""


FETCHED = "\x00fetched\x00"
"""What a session holds for a file fetched from the network with content unknown (Session.fetch): no
shell text begins with a NUL byte."""


@dataclass(slots=True)
class Session:
    """What earlier actions of one run left behind: files written, so scripts run later can be read."""

    files: dict[str, str] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    cwd: str = START_CWD
    limit: int = 4096
    cwd_set: bool = False
    """Whether a `cd` of the run fixed `cwd` (else the directory is not known: START_CWD stands in)."""

    _finder: Any = field(default=None, repr=False, compare=False)
    _found_names: int = field(default=0, repr=False, compare=False)
    _recent: list = field(default_factory=list, repr=False, compare=False)
    journal: list | None = field(default=None, repr=False, compare=False)
    """While a reading is recorded (`record`): what it did to the session, in order, so that where
    the reading is reused the same is done to another session (`replay`)."""
    read_earlier: bool = field(default=False, repr=False, compare=False)
    """Whether the reading being recorded used what the session held before it began: then it
    depends on this session and may not be reused elsewhere."""
    _own: set = field(default_factory=set, repr=False, compare=False)
    asked: set = field(default_factory=set, repr=False, compare=False)
    """While a reading is recorded: the files it looked up (absolute path and lowercased name) that it
    had not written itself, found or not. A reading that asked for none is the same in any session;
    one that did is the same in a session where none of them is found (`finds_any`)."""
    _relative: bool = field(default=False, repr=False, compare=False)
    _looked_up: bool = field(default=False, repr=False, compare=False)
    _wrote: bool = field(default=False, repr=False, compare=False)
    _pinned: bool = field(default=False, repr=False, compare=False)
    deferred: list = field(default_factory=list, repr=False, compare=False)
    """(text, names, event id) of texts the prefilter passed over that write files with content a later
    command may run (`echo '...' > /tmp/b.sh`): read, in order, before the session reads a text that
    names one of those files (Engine), so what they wrote is there to be run, filtered or decoded."""
    put_names: set = field(default_factory=set, repr=False, compare=False)
    """Lowercased names of the files `put` holds, which `names` leaves out: a lookup may find them."""
    variables: dict = field(default_factory=dict, repr=False, compare=False)
    aliases: dict = field(default_factory=dict, repr=False, compare=False)
    """What the run's shell keeps between actions (agents' shell tools keep one shell open): variables
    and aliases its actions set (`keep_shell`), for the actions after them to use."""
    has_fetched: bool = field(default=False, repr=False, compare=False)
    """Whether a file fetched with content unknown (`fetch`) was ever kept: only then is a program or
    script looked up for it, a lookup being what makes a reading depend on its session."""
    shell_vars: set = field(default_factory=set, repr=False, compare=False)
    shell_aliases: set = field(default_factory=set, repr=False, compare=False)
    """Lowercased names of those variables and aliases, and of those a deferred text may set: a
    text using one depends on this session (Engine)."""
    sent: dict = field(default_factory=dict, repr=False, compare=False)
    """Files the run copied to other hosts (scp, rsync): (host, lowercased base name) -> (the local
    path sent, as the copy wrote it; the id of the event whose command sent it, `event_id` then). A
    later command run on that host (ssh) that names one uses what the run put there."""
    event_id: str | None = field(default=None, repr=False, compare=False)
    """The event being read (set by the Engine): what `send` records as the sender."""
    sockets: dict = field(default_factory=dict, repr=False, compare=False)
    """Descriptors the run's own shell holds open on bash's sockets (`exec 3<>/dev/tcp/H/P`) -> that
    path, until closed (`exec 3>&-`): what every command it starts later inherits (`sh <&3`)."""
    subshells: int = field(default=0, repr=False, compare=False)
    """How many subshells, pipelines or background jobs the reading is inside (_OwnDirectory)."""

    def mentions(self, lowered_text: str) -> bool:
        """Whether a command text names a file this session wrote (so it may run it): one automaton
        pass over the names it had at the last build, then a search for each name added since."""
        if len(self._recent) > 16 or len(self.names) != self._found_names + len(self._recent):
            # (the second test catches names added other than through `remember`)
            import ahocorasick
            finder = ahocorasick.Automaton()
            for name in self.names:
                finder.add_word(name, True)
            finder.make_automaton()
            self._finder, self._found_names = finder, len(self.names)
            self._recent.clear()
        for name in self._recent:
            if name in lowered_text:
                return True
        if self._finder is not None:
            for _ in self._finder.iter(lowered_text):
                return True
        return False

    def record(self) -> None:
        self.journal, self.read_earlier = [], False
        self._own.clear()
        self.asked = set()
        self._relative = self._looked_up = self._wrote = self._pinned = False

    def recorded(self) -> tuple:
        """What the reading recorded since `record` did to the session; recording stops."""
        ops, self.journal = tuple(self.journal or ()), None
        return ops

    def replay(self, ops: tuple) -> None:
        for op, path, content, append in ops:
            if op == "remember":
                self.remember(path, content, append)
            elif op == "put":
                self.put(path, content)
            elif op == "shell":
                self.keep_shell(*content)
            elif op == "send":
                self.send(path, *content)
            elif op == "dir":
                self.set_dir(path, append)
            elif op == "socket":
                self.hold_socket(path, content or None)
            else:
                self.chdir(path)

    def _used(self, key: str) -> None:
        if self.journal is not None and key not in self._own:
            self.read_earlier = True

    def remember(self, path: str, content: str, append: bool = False) -> None:
        key = self.write_key(path)
        if self.journal is not None:
            self.journal.append(("remember", path, content, append))
        if append and key in self.files:
            self._used(key)
            content = self.files[key] + content
        if self.journal is not None:
            if append and key not in self._own:
                self._ask(key)  # where the file was written before, what this reading appends to differs
            self._own.add(key)  # after `_used`: appending to a file this reading wrote uses nothing earlier
        if len(self.files) >= self.limit and key not in self.files:
            self.files.pop(next(iter(self.files)))
        self.files[key] = content[: decode.MAX_DECODED]
        if content.startswith(FETCHED):
            self.has_fetched = True
        name = posixpath.basename(key).lower()
        for name in (name, "make") if makefile.is_makefile(key) else (name,):
            # (a Makefile is run by `make`, which does not name it: a text that says make is read)
            if name not in self.names:
                self.names.add(name)
                self._recent.append(name)

    def keep_shell(self, variables: dict, unset: tuple, aliases: dict) -> None:
        """A reading's changes to the shell's variables and aliases, kept (at most MAX_SHELL_NAMES of
        each), their names in `shell_vars` and `shell_aliases`."""
        if self.journal is not None:
            self.journal.append(("shell", "", (variables, unset, aliases), False))
        for name in unset:
            self.variables.pop(name, None)
        for kept, new in ((self.variables, variables), (self.aliases, aliases)):
            for name, value in new.items():
                if name in kept or len(kept) < MAX_SHELL_NAMES:
                    kept[name] = value[:MAX_SHELL_VALUE]
        for names, added in ((self.shell_vars, variables), (self.shell_aliases, aliases)):
            if len(names) < 2 * MAX_SHELL_NAMES:
                names.update(name.lower() for name in added)

    def hold_socket(self, fd: str, path: str | None) -> None:
        """The run's shell opened descriptor `fd` on the socket `path` (None: closed it, or pointed it
        elsewhere); the last MAX_SOCKETS opened are kept. Inside a subshell it lasts until that ends
        (_OwnDirectory puts the session's back)."""
        if self.journal is not None:
            self._own.add(("fd", fd))
            if not self.subshells:  # (inside one, _OwnDirectory undoes it: a reused reading has nothing to do)
                self.journal.append(("socket", fd, path or "", False))
        self.sockets.pop(fd, None)
        if path is not None:
            if len(self.sockets) >= MAX_SOCKETS:
                self.sockets.pop(next(iter(self.sockets)))
            self.sockets[fd] = path

    def set_sockets(self, sockets: dict) -> None:
        """Back to the descriptors held before a subshell, pipeline or background job that changed them
        (not journaled: what changed inside was not either)."""
        self.sockets = dict(sockets)

    def socket_of(self, fd: str) -> str | None:
        """The socket the run's shell holds on descriptor `fd`, if any: a reading that finds one
        depends on this session."""
        path = self.sockets.get(fd)
        if path is not None:
            self._used(("fd", fd))
        return path

    def send(self, host: str, names: tuple, source: str) -> None:
        """Files copied to `host` under `names` (base names the remote side may use for them) from
        the local `source` (at most `limit` kept, the oldest dropped). The names are listed among
        those the session wrote, so a later text that names one is read, not passed over."""
        if self.journal is not None:
            self.journal.append(("send", host, (names, source), False))
        for name in names:
            key = (host, name)
            if self.journal is not None:
                self._own.add(key)
            if len(self.sent) >= self.limit and key not in self.sent:
                self.sent.pop(next(iter(self.sent)))
            self.sent[key] = (source, self.event_id)
            if name not in self.names and len(self.names) < self.limit:
                self.names.add(name)
                self._recent.append(name)

    def sent_as(self, host: str, name: str) -> tuple[str, str | None] | None:
        """The local path the run sent to `host` as `name` (`send`) and the event that sent it, or None.
        Asked for while a reading is recorded, so that a reading made where nothing was sent is not
        reused where it was."""
        if self.journal is not None:
            self.asked.add(name)
        found = self.sent.get((host, name)) if self.sent else None
        if found is not None:
            self._used((host, name))
        return found

    def defer(self, text: str, names: tuple) -> None:
        """A skipped text that writes the files `names` (lowercased base names): kept to be read
        later (at most MAX_DEFERRED, the oldest dropped), its names known at once, with the event it
        came in (`event_id`), which is the one that did what it does when it is read."""
        if len(self.deferred) >= MAX_DEFERRED:
            self.deferred.pop(0)
        self.deferred.append((text[:MAX_DEFERRED_TEXT], names, self.event_id))
        for name in names:
            if name[:1] in (SHELL_VAR, SHELL_ALIAS):
                shell_names = self.shell_vars if name[0] == SHELL_VAR else self.shell_aliases
                if len(shell_names) < 2 * MAX_SHELL_NAMES:
                    shell_names.add(name[1:])
            elif name not in self.names and len(self.names) < self.limit:
                self.names.add(name)
                self._recent.append(name)

    def put(self, path: str, content: str) -> None:
        """A file by its absolute path, not listed among the names a command may run it by
        (`/dev/fd/63` of `sh <(...)`)."""
        if self.journal is not None:
            self._wrote = True
            self.journal.append(("put", path, content, False))
            self._own.add(path)
        self.files[path] = content
        self.put_names.add(posixpath.basename(path).lower())

    def chdir(self, path: str) -> None:
        """`cd PATH` in the run's own shell. Where it leads is known from an absolute or home path, or a
        relative one from a known directory; otherwise (`cd -`, a variable, a glob, a relative path
        from an unknown directory, a path too long to be one) it is unknown from then on."""
        if self.journal is not None:
            self.journal.append(("chdir", path, "", False))
        if path == "~":
            path = HOME
        relative = not path.startswith(("/", "~/"))
        if (path in ("", "-") or len(path) > MAX_PATH or not _UNKNOWN_PLACE.isdisjoint(path)
                or relative and not self.cwd_set):
            self.cwd, self.cwd_set = START_CWD, False
            return
        self.cwd, self.cwd_set = normpath(self.absolute(path)), True
        if len(self.cwd) > MAX_PATH:
            self.cwd, self.cwd_set = START_CWD, False

    def set_dir(self, cwd: str, known: bool) -> None:
        """Back to a directory the walk left (the end of a subshell or pipeline, whose `cd` is its own)."""
        if self.journal is not None:
            self.journal.append(("dir", cwd, "", known))
        self.cwd, self.cwd_set = cwd, known

    def absolute(self, path: str) -> str:
        if path.startswith("~/"):
            path = "/root/" + path[2:]
        elif not path.startswith("/") and self.journal is not None:
            self._relative = True
        return posixpath.normpath(posixpath.join(self.cwd, path))

    @property
    def cwd_used(self) -> bool:
        """Whether the reading being recorded may read otherwise in another working directory: it
        wrote a file and looked one up, and resolved a relative path, so that in another directory
        the one may be the other. (A lookup of a file the session holds is in `asked`, found in any
        directory; writes and directory changes are replayed relative to the session's own.)"""
        return self._pinned or (self._relative and self._looked_up and self._wrote)

    def write_key(self, path: str) -> str:
        """A path's absolute form, for noting what the reading itself leaves there."""
        if self.journal is not None:
            self._wrote = True
        return self.absolute(path)

    def lookup_key(self, path: str) -> str:
        """A path's absolute form, for looking up what the reading itself left there."""
        if self.journal is not None:
            self._looked_up = True
        return self.absolute(path)

    @property
    def may_hold(self) -> bool:
        """Whether a lookup may find something, or must be made all the same so that it is recorded."""
        return bool(self.files) or self.journal is not None

    def finds_any(self, asked) -> bool:
        """Whether one of the files a recorded reading asked for may be found in this session."""
        return (not self.names.isdisjoint(asked) or not self.put_names.isdisjoint(asked)
                or any(map(self.files.__contains__, asked)))

    def _ask(self, key: str) -> None:
        self.asked.add(key)
        self.asked.add(posixpath.basename(key).lower())

    def on_path(self, name: str) -> tuple[str, str] | None:
        """(path, content) of a file this session wrote into a directory of the usual PATH under a
        bare program name (`cp /usr/bin/nc /usr/local/bin/foo; foo ...`). The name is asked for
        while a reading is recorded, so that a reading made where no such file exists is not reused
        where one does."""
        if self.journal is not None:
            self.asked.add(name.lower())
        if not self.files or "/" in name:
            return None
        for directory in PATH_DIRS:
            key = f"{directory}/{name}"
            found = self.files.get(key)
            if found is not None:
                self._used(key)
                return key, found
        return None

    def fetch(self, path: str, producers: list[str]) -> None:
        """A file written with content the reading cannot know by a program that fetches from the
        network (`curl -o /tmp/a URL`): kept, under its name, so that a later action running it is
        known to run what was fetched (`fetched_by`)."""
        self.remember(path, FETCHED + " ".join(producers))

    def fetched_by(self, path: str) -> list[str]:
        """The programs that fetched the file at `path` (`fetch`), or []."""
        content = self._lookup(path, own_tails=False)  # (where this reading fetched it, it knows the directory)
        return content[len(FETCHED):].split() if content is not None and content.startswith(FETCHED) else []

    def lookup(self, path: str) -> str | None:
        """What a file the session wrote holds, when that is known."""
        content = self._lookup(path)
        return None if content is not None and content.startswith(FETCHED) else content

    def _lookup(self, path: str, own_tails: bool = True) -> str | None:
        key = self.absolute(path)
        if self.journal is not None:
            self._looked_up = True
            if posixpath.basename(posixpath.normpath(path)) in ("", ".", ".."):
                self._pinned = True  # (`.`, `sub/..`: which name it asks for depends on the directory)
            if key not in self._own:
                self._ask(key)
        if not self.files:
            return None
        found = self.files.get(key)
        if found is not None:
            self._used(key)
        elif not path.startswith("/"):
            # The working directory is often unknown (earlier commands were not read): match the
            # relative path against the tail of the files written under the same name.
            tail = "/" + posixpath.normpath(path).lstrip("/")
            if posixpath.basename(tail).lower() not in self.names:
                return None
            for known, content in reversed(self.files.items()):
                if known.endswith(tail) and (own_tails or known not in self._own):
                    self._used(known)
                    return content
        return found


_SHELL_SYNTAX = frozenset("$`\\|&;<>()\n\r#{}*?[]!~")
# Whitespace, a single-quoted or double-quoted string, or a run of other characters. Each branch
# starts with a character no other branch starts with and never backtracks: linear time.
_WORD_PARTS = re.compile(r"""\s+|'[^']*'|"[^"]*"|[^\s'"]+""")


def plain_words(text: str) -> list[str] | None:
    """The words of a command with no shell syntax beyond plain quoting (no expansions, globs,
    operators or redirections), or None when the text needs a real parse."""
    if len(text) > 4096 or not _SHELL_SYNTAX.isdisjoint(text):
        return None
    if "'" not in text and '"' not in text:
        words = text.split()
    else:
        words, current, end = [], [], 0
        for match in _WORD_PARTS.finditer(text):
            if match.start() != end:
                return None  # an unmatched quote
            end = match.end()
            part = match.group()
            if part[0].isspace():
                if current:
                    words.append("".join(current))
                    current = []
            elif part[0] in "'\"":
                current.append(part[1:-1])
            else:
                current.append(part)
        if end != len(text):
            return None
        if current:
            words.append("".join(current))
    if not words or "=" in words[0] or words[0] in _RESERVED:
        return None
    return words


_RESERVED = frozenset({"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac",
                       "function", "select", "time", "coproc", "[[", "]]", "{", "}", "!"})


def _system_crontab(path: str) -> bool:
    return path == "/etc/crontab" or path.startswith("/etc/cron.d/")


def lang_of_script(path: str, content: str) -> str | None:
    """How a written file would be run: 'shell', 'cron', 'unit' (a service manager's file whose
    Exec*= or command= lines it runs), an interpreter language, or None (not a script)."""
    first = content.lstrip()[:128].split("\n", 1)[0]
    if first.startswith("#!"):
        interp = first[2:].strip().split()
        if interp:
            prog = posixpath.basename(interp[0])
            if prog == "env" and len(interp) > 1:
                prog = posixpath.basename(interp[-1])
            if prog in decode.SHELLS:
                return "shell"
            lang = codemod.language_of(prog)
            if lang:
                return lang
    lowered = path.lower()
    if "/cron" in lowered or "/var/spool/cron" in lowered or lowered.endswith("crontab"):
        return "cron"
    if makefile.is_makefile(path):
        return "make"
    if (lowered.endswith((".service", ".socket", ".desktop")) or lowered.endswith(".conf") and (
            ".service.d/" in lowered or ".socket.d/" in lowered)
            or lowered.endswith((".conf", ".ini")) and "/supervisor" in lowered):
        return "unit"
    if lowered.endswith((".sh", ".bash", ".zsh", ".ksh", "rc", ".profile")):
        return "shell"
    if lowered.endswith(".py"):
        return "python"
    for suffix, lang in ((".pl", "perl"), (".rb", "ruby"), (".php", "php"), (".js", "node")):
        if lowered.endswith(suffix):
            return lang
    return None


class ShellReader:
    """Reads shell text into commands. One reader per thread: tree-sitter parsers are not shared."""

    def __init__(self) -> None:
        self._parser = Parser(_LANGUAGE)

    def read(self, text: str, session: Session | None = None, via: tuple[str, ...] = ()) -> list[Cmd]:
        """An action's text as its shell runs it; an action's own (no `via`) starts from what the
        session's shell kept and leaves there what it sets (Session.keep_shell)."""
        session = session or Session()
        walk = _Walk(self._parser, session, len(text))
        shell = not via
        env: dict[str, str] = dict(session.variables) if shell else {}
        if shell:
            walk.aliases.update(session.aliases)
        words = plain_words(text)
        if (words is not None and words[0] not in walk.aliases and words[0] not in _SHELL_STATE
                and words[0] != "read" and not (words[0] == "printf" and words[1:2] == ["-v"])):
            # A single simple command with nothing for a shell to interpret: its words are its argv,
            # exactly as tree-sitter would give them, so read it the way an exec is read.
            out = _guarded(walk, via, walk.command, words[0], words[1:], via, env, 0, [], [], as_written=True)
        else:
            out = _guarded(walk, via, walk.text, text, via, env, 0)
        if shell:
            changed = {k: v for k, v in env.items() if session.variables.get(k) != v and "[" not in k}
            unset = tuple(k for k in session.variables if k not in env)
            aliases = {k: v for k, v in walk.aliases.items() if session.aliases.get(k) != v}
            if changed or unset or aliases:
                session.keep_shell(changed, unset, aliases)
        return out

    def read_argv(self, argv: list[str], session: Session | None = None) -> list[Cmd]:
        """Commands an exec of `argv` runs: the program itself and whatever it is told to run."""
        walk = _Walk(self._parser, session or Session())
        if not argv:
            return walk.out
        return _guarded(walk, (), walk.command, argv[0], list(argv[1:]), (), {}, 0, [], [], as_written=True)

    def read_cron(self, text: str, session: Session | None = None, via: tuple[str, ...] = (),
                  path: str = "") -> list[Cmd]:
        """The commands of crontab lines (five time fields, or an @keyword, then the command)."""
        walk = _Walk(self._parser, session or Session(), len(text))
        return _guarded(walk, via, walk.cron_text, text, via, 0, system=_system_crontab(path))

    def read_unit(self, text: str, session: Session | None = None, via: tuple[str, ...] = ()) -> list[Cmd]:
        """The commands a systemd unit, desktop entry or supervisord program would start."""
        walk = _Walk(self._parser, session or Session(), len(text))
        return _guarded(walk, via, walk.unit_text, text, via, 0)

    def read_patch(self, tool: str, text: str, session: Session | None = None,
                   via: tuple[str, ...] = ()) -> list[Cmd]:
        """What an apply_patch patch (analysis.patch) does: the files it writes, each read as what it
        would do when run, and those it deletes or moves, read as `rm` and `mv` would be."""
        walk = _Walk(self._parser, session or Session(), len(text))
        cmd = Cmd(name=tool, path=tool, via=via)
        walk.out.append(cmd)
        return _guarded(walk, via, walk.patched, cmd, text, via, 0)

    def read_written(self, path: str, content: str, session: Session | None = None) -> list[Cmd]:
        """What a file written with `content` would do when run (a script, a crontab, a unit, a
        Makefile's recipes, code), as lang_of_script tells; [] for a file that is no script."""
        walk = _Walk(self._parser, session or Session(), len(content))
        return _guarded(walk, (), walk.written, path, content, (), -1)

    def read_code(self, lang: str, text: str, session: Session | None = None,
                  via: tuple[str, ...] = ()) -> list[Cmd]:
        walk = _Walk(self._parser, session or Session(), len(text))
        return _guarded(walk, via, walk.code, lang, text, via, 0, name=lang, path=lang, args=[])


_SHELL_STATE = frozenset({"export", "declare", "typeset", "readonly", "local", "alias", "unalias", "unset"})
"""Builtins that set what the shell keeps: read through the tree (declaration_command), not as argv;
so are `read` and `printf -v`, whose assignments simple() shows."""
def _guarded(walk: "_Walk", via: tuple, read, *args, **kwargs) -> list[Cmd]:
    """What `read` found; where the input nests beyond what is read (MAX_NESTING, or Python's own
    recursion limit), that much and an UNREADABLE command, which rules can flag: hostile input
    must never stop the analysis of everything else."""
    try:
        read(*args, **kwargs)
    except RecursionError:
        walk.out.append(Cmd(name=UNREADABLE, path=UNREADABLE, args=["nested too deeply to read"], via=via))
    return walk.out


class _OwnDirectory:
    """Where the session's shell was, and the socket descriptors it held, put back on leaving
    (Session.set_dir, set_sockets, so a reused reading does the same) if what ran inside changed them.
    A class, not a generator: every pipeline enters one."""

    __slots__ = ("session", "cwd", "known", "sockets")

    def __init__(self, session: Session) -> None:
        self.session, self.cwd, self.known = session, session.cwd, session.cwd_set
        self.sockets = dict(session.sockets) if session.sockets else None

    def __enter__(self) -> None:
        self.session.subshells += 1

    def __exit__(self, *exc) -> None:
        session = self.session
        session.subshells -= 1
        if (session.cwd, session.cwd_set) != (self.cwd, self.known):
            session.set_dir(self.cwd, self.known)
        if (self.sockets or session.sockets) and session.sockets != (self.sockets or {}):
            session.set_sockets(self.sockets or {})


class _Walk:
    def __init__(self, parser: Parser, session: Session, size: int = 0) -> None:
        self.parser = parser
        self.session = session
        self.out: list[Cmd] = []
        self.aliases: dict[str, str] = {}
        self.pseudo_files = 0
        self.functions: dict[str, Node] = {}
        """Shell functions defined so far: a call reads the body again with its arguments."""
        self.positional: list[str] = []
        """$1 ... and "$@": a function's arguments while its body is read, or what `set --` set."""
        self.arg0: str | None = None
        """$0 where a `sh -c CMD NAME ...` gave it (a script's or shell's own name is not known)."""
        self.substituted: dict[str, list[str]] = {}
        """A `$(...)` or `<(...)` whose output is unknown, as its word stays -> the programs making that
        output (the last command and what is piped into it)."""
        self.streams: dict[int, tuple[Cmd, tuple[str, list[str]]]] = {}
        """ssh commands of a pipeline whose remote side keeps what they are fed (`_streamed_into`), by
        id, until the pipeline's earlier stages say what that is (`pipeline`)."""
        self.fetched: dict[str, Cmd] = {}
        """Files whose content is unknown, by absolute path -> the command that wrote them."""
        self.nesting = 0
        """How deep node(), word() and command() are in each other now (MAX_NESTING)."""
        self.loop_budget = MAX_LOOP_READING
        """Bytes of `while read` bodies this walk may still read with a line bound (Walk.loop)."""
        self.for_budget = MAX_FOR_READING
        """Bytes of `for` bodies this walk may still read with a word bound (Walk.for_loop)."""
        self.cut: set[str] = set()
        """What this walk has said it left unread (Walk.cut_short): each said once."""
        self.directives: dict[tuple[str, str], list[str]] = {}
        """Job scripts' directive words already read in this walk, by (scheduler, script)."""
        self.directive_budget = MAX_DIRECTIVE_BYTES
        """Bytes of directive words this walk may still put before job commands' options: one script's
        directives may be given to many commands (`sbatch job.sh` a thousand times)."""
        self.followed: set[str] = set()
        """expect scripts already read in this walk."""
        self.stdin_budget = MAX_STDIN_KEPT
        """Characters of input this walk may still keep on its commands (Cmd.stdin): a text can give
        one long input to thousands of commands."""
        self.held_lines_budget = min(MAX_HELD_LINES, HELD_LINES_FLOOR + HELD_LINES_FACTOR * size)
        """Bytes of command lines held in variables (`$cmd`) this walk may still read (Walk._command),
        `size` being the length of the text read."""
        self.reread_budget = MAX_REREAD
        """Bytes of list members this walk may still read again after parse errors (Walk.text): one
        budget for the whole walk, as a member read again can hold errors of its own."""
        self.reread: set[bytes] = set()
        """Members read again so far: nested errors bring the same member up at each level."""
        self.exported: set[str] = set()
        """Variables `export` or `declare -x` marked: a shell this one starts sees them."""
        self.prefixed: frozenset[str] = frozenset()
        """Variables assigned for the command being read alone (`X=1 sh -c ...`, `env X=1 sh -c ...`):
        in its environment too."""
        self.held: dict[str, str] = {}
        """`$(cat f)` of files the session wrote, as the word stays -> their content: what a shell or
        eval given that whole word runs (`sh -c "$(cat /tmp/x)"`)."""

    # -- entry points -------------------------------------------------------------------------------
    def text(self, text: str, via: tuple[str, ...], env: dict[str, str], depth: int) -> None:
        if depth > MAX_DEPTH or not text or len(self.out) >= MAX_COMMANDS:
            return
        text = text[:MAX_TEXT]
        if "\\\n" in text:
            # bash removes a backslash-newline before it splits words: `cu\<newline>rl` is curl
            text = text.replace("\\\n", "")
        if "IFS" in text and "IFS=" not in text:
            # unset, IFS splits on whitespace: `nc${IFS}-e` is two words, nc and -e
            text = _IFS.sub(" ", text)
        if "{" in text and "," in text:
            text = _COMMAND_BRACES.sub(_expand_command_braces, text)
        if "<<" in text:
            if text.count("<<") > MAX_HEREDOCS:
                # tree-sitter-bash parses a line of many here-documents in quadratic time (16,000: 5 s)
                self.out.append(Cmd(name=UNREADABLE, path=UNREADABLE, args=["too many here-documents to read"], via=via))
                return
            text = _heredocs_renamed(text) or text
        data = text.encode("utf-8", "surrogatepass")
        tree = _parse(self.parser, data)
        if tree.root_node.has_error and "<<" in text:
            moved = _heredoc_lists(text)
            if moved is not None:
                retried = self.parser.parse(moved.encode("utf-8", "surrogatepass"))
                if not retried.root_node.has_error:
                    tree = retried
        self.node(tree.root_node, via, env, depth)
        if tree.root_node.has_error:
            # Where the grammar failed, the shell may still run what is there: each member of the
            # list whose command word the error left out is read by itself.
            pieces = _list_pieces(data)
            if len(pieces) > 1:
                lost = _lost_words(tree.root_node)
                touched = [(start, end) for start, end in pieces if start in lost]
                # the shortest first: junk made long to use up the budget goes last
                for start, end in sorted(touched, key=lambda p: p[1] - p[0]):
                    piece = data[start:end]
                    if piece in self.reread:
                        continue
                    if end - start > self.reread_budget:
                        self.cut_short(via, "more text after parse errors than is read")
                        break
                    self.reread_budget -= end - start
                    self.reread.add(piece)
                    self.text(piece.decode("utf-8", "surrogatepass"), via, env, depth + 1)

    def code(self, lang: str, text: str, via: tuple[str, ...], depth: int, *, name: str, path: str,
             args: list[str]) -> Cmd:
        reading = codemod.read_code(lang, text)
        cmd = Cmd(name=name, path=path, args=args, flags=split_flags(args), via=via, code=reading.code,
                  known_endpoints=list(reading.endpoints))
        self.out.append(cmd)
        self.code_writes(cmd, reading, via + (f"{lang} code",), depth)
        self.follow(reading, via + (f"{lang} code",), depth)
        return cmd

    def code_writes(self, cmd: Cmd, reading, via, depth) -> None:
        """The files interpreter code writes are the interpreter command's (Cmd.writes), and what it
        writes there where it is one literal (Cmd.written), which the session holds as the file's
        content and which is read as what it would run, as a shell's writes are: rules on files
        written see code too, and a script it writes is read now and again when run."""
        for path, content, append in reading.writes:
            if path not in cmd.writes:
                cmd.writes.append(path)
            if content is not None:
                if cmd.written is None:
                    cmd.written = content[:MAX_WRITTEN]
                self.session.remember(path, content, append=append)
                if depth < MAX_DEPTH:
                    self.written(path, content, via, depth)

    def follow(self, reading, inner, depth) -> None:
        """Read what interpreter code runs: shell strings, argv lists and Python it decodes."""
        for string in reading.shell:
            self.text(string, inner, {}, depth + 1)
        for argv in reading.argv:
            if argv:
                self.command(argv[0], argv[1:], inner, {}, depth + 1, [], [])
        for source in reading.python:
            self.code("python", source, inner, depth + 1, name="python", path="python", args=[])

    # -- tree walking -------------------------------------------------------------------------------
    def _deeper(self) -> None:
        """One level deeper into node(), word() or command() (each undoes it when it returns):
        RecursionError past MAX_NESTING, whether this module runs as Python or compiled."""
        if self.nesting >= MAX_NESTING:
            raise RecursionError("nested too deeply to read")
        self.nesting += 1

    def node(self, node: Node, via, env, depth, redirects=None) -> None:
        self._deeper()
        try:
            kind = node.type
            if kind == "command":
                self.simple(node, via, env, depth, redirects or [])
            elif kind == "pipeline":
                self.pipeline(node, via, env, depth)
            elif kind == "redirected_statement":
                body = node.child_by_field_name("body")
                reds = [c for c in node.children if c.id != body.id] if body is not None else list(node.children)
                if body is not None and body.type == "command":
                    self.node(body, via, env, depth, reds)
                elif body is not None and ((body.type == "pipeline" and _last_stage_is_command(body)) or (
                        body.type == "list" and body.named_children and (body.named_children[-1].type == "command" or (
                            body.named_children[-1].type == "pipeline" and _last_stage_is_command(body.named_children[-1]))))):
                    # `echo ... | sed ... > f`, `cd d && echo ... > f`: the tree hangs the redirection on
                    # the pipeline or list; the shell gives it to the last command, whose output is then
                    # what f holds, and to what that command runs (a copy's program, a script's commands).
                    before = len(self.out)
                    if body.type == "pipeline":
                        self.pipeline(body, via, env, depth, reds)
                        last_stage = [c for c in self.out[before:] if not c.pipe_to]
                    else:
                        *first, last = body.named_children
                        for child in first:
                            self.node(child, via, env, depth)
                        start = len(self.out)
                        if last.type == "command":
                            self.node(last, via, env, depth, reds)
                        else:
                            self.pipeline(last, via, env, depth, reds)
                        last_stage = [c for c in self.out[start:] if not c.pipe_to]
                    targets = [t for red in reds if red.type == "file_redirect"
                               for t in self.redirect_target(red, env, via, depth)[0]]
                    for cmd in last_stage:
                        if not all(f"{op}{target}" in cmd.redirects for op, target in targets):
                            self.apply_redirects(cmd, targets)
                elif body is not None:
                    # `while read l; do ...; done < /etc/shadow`: the loop's redirections are its commands'.
                    before = len(self.out)
                    loop = body
                    if body.type == "list" and body.named_children and body.named_children[-1].type == "while_statement":
                        *first, loop = body.named_children  # `cd d && while read l; do ...; done < f`
                        for child in first:
                            self.node(child, via, env, depth)
                    if loop.type == "while_statement":
                        self.loop(loop, via, env, depth, self.loop_input(reds, env, via, depth))
                    else:
                        self.node(body, via, env, depth)
                    targets = [t for red in reds if red.type == "file_redirect"
                               for t in self.redirect_target(red, env, via, depth)[0]]
                    made = self.out[before:]
                    for cmd in made:
                        self.apply_redirects(cmd, targets)
                    for red in reds:
                        if red.type == "heredoc_redirect":  # `(cat) <<E | sh`, `{ ...; } <<E && CMD`
                            self.after_heredoc(red, made, via, env, depth, self.heredoc(red, env, via, depth))
                else:
                    # `> /var/log/syslog` alone: the shell runs the null command with the redirection.
                    targets = [t for red in reds if red.type == "file_redirect"
                               for t in self.redirect_target(red, env, via, depth)[0]]
                    if targets:
                        cmd = Cmd(name=":", path=":", via=via)
                        self.place(cmd, via)
                        self.apply_redirects(cmd, targets)
                        self.out.append(cmd)
            elif kind == "variable_assignment":
                self.assign(node, env, via, depth)
                self.out.append(Cmd(name="assign", path="assign", args=[self.assignment_text(node, env)], via=via))
            elif kind in ("declaration_command", "unset_command"):
                keyword = node.children[0].type if node.children else "declare"
                args = []
                for child in node.named_children:
                    if child.type == "variable_assignment":
                        self.assign(child, env, via, depth)
                        args.append(self.assignment_text(child, env))
                    else:
                        args.append(self.word(child, env, via, depth))
                        if keyword == "unset":
                            env.pop(args[-1], None)
                if keyword == "export" or keyword in ("declare", "typeset") and any(
                        a.startswith("-") and "x" in a for a in args):
                    self.exported.update(a.split("=", 1)[0] for a in args if not a.startswith("-"))
                self.out.append(Cmd(name=keyword, path=keyword, args=args, flags=split_flags(args), via=via))
            elif kind in ("command_substitution", "process_substitution"):
                with self.own_directory():
                    for child in node.named_children:
                        self.node(child, via + ("$()",), env, depth)
            elif kind == "subshell":
                with self.own_directory():  # (a subshell's cd is its own)
                    for child in node.named_children:
                        self.node(child, via, env, depth)
            elif kind == "function_definition":
                body = node.child_by_field_name("body")
                name = node.child_by_field_name("name")
                if body is not None:
                    if name is not None and len(self.functions) < MAX_FUNCTIONS:
                        self.functions[_text(name)] = body
                    self.node(body, via + ("function",), env, depth)
            elif kind == "while_statement":
                self.loop(node, via, env, depth, None)
            elif kind == "for_statement":
                self.for_loop(node, via, env, depth)
            elif kind in ("comment", "heredoc_body", "heredoc_start", "heredoc_end"):
                return
            elif kind == "test_command":
                # `[ -f /.dockerenv ]`, `[[ ... ]]`: the test builtin, as `test -f /.dockerenv` is
                words = self.test_words(node, env, via, depth)
                if words:  # (reading its words runs their substitutions)
                    self.out.append(Cmd(name="test", path=_text(node.children[0]) if node.children else "[",
                                        args=words, flags=split_flags(words), via=via))
            else:
                children = node.children
                last = len(children) - 1
                for at, child in enumerate(children):
                    if not child.is_named:
                        continue
                    if at < last and children[at + 1].type == "&":
                        with self.own_directory():  # (a background job runs in a subshell of its own)
                            self.node(child, via, env, depth)
                    else:
                        self.node(child, via, env, depth)
        finally:
            self.nesting -= 1

    def kept_input(self, stdin: str | None) -> str | None:
        """What a command keeps of its input (Cmd.stdin): MAX_WRITTEN characters, within the walk's
        budget; None past it."""
        if not stdin or min(len(stdin), MAX_WRITTEN) > self.stdin_budget:
            return None
        kept = stdin if len(stdin) <= MAX_WRITTEN else stdin[:MAX_WRITTEN]
        self.stdin_budget -= len(kept)
        return kept

    def test_words(self, node: Node, env, via, depth) -> list[str]:
        """A test command's operands and operators in order, as `test` would be given them (`~` joined
        to the word it prefixes, as the grammar splits it off). Beyond MAX_TEST_WORDS, what is left
        is only walked, for what its substitutions run."""
        words: list[str] = []
        stack = list(reversed(node.children))
        tilde = False
        while stack:
            child = stack.pop()
            if len(words) >= MAX_TEST_WORDS:
                self.node(child, via, env, depth)
                continue
            kind = child.type
            if not child.is_named:
                if kind == "~":
                    tilde = True
                elif kind in _TEST_TOKENS:
                    words.append(kind)
            elif kind in _TEST_LEAVES:
                word = _text(child) if kind == "test_operator" else self.word(child, env, via, depth)
                words.append("~" + word if tilde else word)
                tilde = False
            else:
                stack.extend(reversed(child.children))
        return words

    def assign(self, node: Node, env, via, depth) -> None:
        name_node = node.child_by_field_name("name")
        value_node = node.child_by_field_name("value")
        if name_node is None:
            return
        name = _text(name_node)
        if value_node is not None and value_node.type == "array":  # a=(n c): ${a[0]}, ${a[@]}, $a
            items = [self.word(c, env, via, depth) for c in value_node.named_children][:MAX_ARRAY]
            for index, item in enumerate(items):
                env[f"{name}[{index}]"] = item
            env[f"{name}[@]"] = env[f"{name}[*]"] = " ".join(items)
            env[name] = items[0] if items else ""
            return
        value = self.word(value_node, env, via, depth) if value_node is not None else ""
        if any(c.type == "+=" for c in node.children):
            value = env.get(name, "") + value  # `x+=c` appends
        env[name] = value[:MAX_WORD]
        if name in _RUN_BY_THE_SHELL and value:
            # bash runs PROMPT_COMMAND before each prompt, and expands PS0 and PS1 (their `$(...)`)
            self.text(value if name == "PROMPT_COMMAND" else _substitutions(value), via + (name,), dict(env), depth + 1)

    def assignment_text(self, node: Node, env) -> str:
        name_node = node.child_by_field_name("name")
        name = _text(name_node) if name_node is not None else ""
        value_node = node.child_by_field_name("value")
        if value_node is not None and value_node.type == "array":
            return f"{name}=({env.get(name + '[@]', '')})"
        return f"{name}={env.get(name, '')}"

    def place(self, cmd: Cmd, via) -> None:
        """The directory a command runs in (Cmd.cwd), where the run's shell is known to be there: not
        for one run on another host, in a container, at another time, or read where it is written."""
        if self.session.cwd_set and not any(v in ELSEWHERE or v.startswith(_READ_ELSEWHERE) for v in via):
            cmd.cwd = self.session.cwd

    def own_directory(self) -> "_OwnDirectory":
        """What runs inside has a directory of its own: a `cd` there does not move the run's shell."""
        return _OwnDirectory(self.session)

    def pipeline(self, node: Node, via, env, depth, last_redirects=(), head: list[Cmd] | None = None,
                 head_stdin: str | None = None) -> None:
        """Each stage of a pipeline runs in a subshell: a `cd` in one moves no other, nor the run's shell."""
        with self.own_directory():
            self._pipeline(node, via, env, depth, last_redirects, head, head_stdin)

    def _pipeline(self, node: Node, via, env, depth, last_redirects=(), head: list[Cmd] | None = None,
                  head_stdin: str | None = None) -> None:
        """`last_redirects`: the redirections of the pipeline's last command when the tree hangs them
        on the whole pipeline (`_last_stage_is_command`). `head`: what a first stage already read
        made, where the tree has the rest of the pipeline apart (`after_heredoc`)."""
        stages = _stages(node)
        stdin: str | None = None
        known = True
        names: list[str] = []
        members: list[list[Cmd]] = []
        if head is not None:
            own = [c for c in head if all(_wrapper_options(v) is not None for v in c.via[len(via):])]
            members.append(own)
            names.append(own[-1].name if own else "")
            stdin = own[-1].stdout if own else None
            if stdin is None and own and head_stdin is not None:
                stdin = decode.output_of(own[-1].name, own[-1].args, head_stdin)
            known = stdin is not None
        for stage in stages:
            before = len(self.out)
            body, reds = stage, []
            if stage.type == "redirected_statement":
                body = stage.child_by_field_name("body") or stage
                reds = [c for c in stage.children if c.id != body.id]
            if last_redirects and stage is stages[-1]:
                reds = reds + list(last_redirects)
            if body.type == "command":
                self.simple(body, via, env, depth, reds, stdin=stdin if known else None, piped=True)
            elif body.type == "while_statement" and not reds:
                self.loop(body, via, env, depth, stdin if known else None)
            else:
                self.node(stage, via, env, depth)
            produced_cmds = self.out[before:]
            # The stage's own commands: the program and what its wrappers (sudo, env, ...) run,
            # not what runs inside its $(...) or a script it reads.
            own = [c for c in produced_cmds if all(_wrapper_options(v) is not None for v in c.via[len(via):])]
            members.append(own)
            effective = own[-1] if own else None
            names.append(effective.name if effective is not None else "")
            if body.type == "command":
                produced = effective.stdout if effective is not None and known else None
            else:
                # A group's output, as far as known: `(crontab -l; echo '* * * * * x') | crontab -`
                # gives the lines the agent adds, which is what matters here.
                outputs = [c.stdout for c in own if c.stdout is not None]
                produced = "".join(outputs) if outputs else None
            stdin, known = produced, produced is not None
        files: list[str] = []
        for position, own in enumerate(members):
            for cmd in own:
                cmd.pipe_from = [n for n in names[:position] if n]
                cmd.pipe_to = [n for n in names[position + 1:] if n]
                if files:
                    cmd.piped_files = files[:MAX_PIPED_FILES]
            files = files + [a for c in own for a in [*c.args, *c.reads] if a[:1] not in ("-", "")]
        if self.streams:
            for position, own in enumerate(members):
                for cmd in own:
                    stream = self.streams.pop(id(cmd), None)
                    if stream is not None and stream[0] is cmd:
                        sources = _streamed_sources([c for stage in members[:position] for c in stage])
                        if sources:
                            self.stream_sent(cmd, stream[1], sources)

    def simple(self, node: Node, via, env, depth, redirects, stdin: str | None = None, piped: bool = False):
        local = dict(env)
        words: list[str] = []
        glued_to = -1
        assigned: list[str] = []
        zero_at = -1
        for child in node.named_children:
            if child.type == "variable_assignment":
                self.assign(child, local, via, depth)
                assigned.append(_text(child.child_by_field_name("name") or child))
            elif child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                redirects = [*redirects, child]
            else:
                self.add_words(words, child, glued_to, local, via, depth)
                zero_at = len(words) - 1 if child.type == "number" and words and words[-1] == "0" else -1
            glued_to = child.end_byte
        if zero_at >= 1 and zero_at == len(words) - 1 and any(
                red.type == "file_redirect" and red.start_byte == glued_to and red.child_by_field_name("descriptor") is None
                and not _text(red).startswith("&") for red in redirects):  # (`0&>f`: bash takes no descriptor before &>)
            words.pop()  # `sh 0<&3`, `exec 1>&3 0<&3`: the grammar makes the 0 an argument; it is the redirection's
        for red in redirects:
            if red.type == "file_redirect" and words:
                words.extend(self.redirect_target(red, local, via, depth)[1])
        if not words:
            env.update({k: v for k, v in local.items() if k not in env or env[k] != v})
            return
        heredoc = None
        targets: list[tuple[str, str]] = []
        for red in redirects:
            if red.type == "heredoc_redirect":
                if _dash_before(red, glued_to):
                    words.append("-")
                heredoc = self.heredoc(red, local, via, depth)
                for child in red.named_children:
                    if child.type == "file_redirect":
                        targets.extend(self.redirect_target(child, local, via, depth)[0])
            elif red.type == "herestring_redirect":
                heredoc = self.herestring(red, local, via, depth)
            elif red.type == "file_redirect":
                targets.extend(self.redirect_target(red, local, via, depth)[0])
        if heredoc is not None:
            stdin = heredoc
        elif stdin is None:
            for op, target in targets:
                if op.lstrip("0") == "<":  # `sh < script` reads a file this session wrote
                    stdin = self.session.lookup(target)
        if words[0] in ("printf", "read"):
            for key in _builtin_assignments(words, stdin, env, local.get("IFS")):
                # shown as assignments are: `printf -v HISTFILE %s /dev/null`
                self.out.append(Cmd(name="assign", path="assign", args=[f"{key}={env[key]}"], via=via))
        name = node.child_by_field_name("name")
        before = len(self.out)
        saved, self.prefixed = self.prefixed, frozenset(assigned)
        try:
            self.command(words[0], words[1:], via, local, depth, targets, [], stdin=stdin, piped=piped,
                         as_written=name is not None and (not _expands(name) or words[0] == _text(name)))
        finally:
            self.prefixed = saved
        for red in redirects:
            if red.type == "heredoc_redirect":
                self.after_heredoc(red, self.out[before:], via, env, depth)
        if words[0] in ("eval", "source", "."):
            # they run in this shell: what they assign stays set (`eval "$(... | base64 -d)"; $X`)
            env.update(local)

    def add_words(self, words: list[str], child: Node, glued_to: int, env, via, depth) -> None:
        """The words one argument node gives the shell, added to `words`: brace expansion, "$@" as
        the arguments, an unquoted expansion split on IFS, and a node glued to the word before
        (`glued_to`, that word's end) joined to it."""
        if child.type in _BRACE_NODES and _has_braces(child):
            words.extend(brace_expand(_text(child)))
        elif child.type == "concatenation" and _braces_beside_expansions(child):
            # bash expands braces before variables: `${f}{rsa,ed25519}` is ${f}rsa ${f}ed25519
            words.extend(brace_expand(self.word(child, env, via, depth)))
        elif child.type == "string" and child.end_byte - child.start_byte in (4, 6) and _text(child) in (
                '"$@"', '"${@}"'):
            words.extend(self.positional)  # each argument one word; none, no word
        elif child.type == "string" and _text(child).endswith('[@]}"') and (items := self.array_items(child, env)) is not None:
            words.extend(items)  # `"${a[@]}"`: each element one word
        elif _unquoted_expansion(child):
            # an unquoted expansion is split into words on IFS: `IFS=,; x=nc,-e,sh; $x`
            value = self.word(child, env, via, depth)
            words.extend(_split_ifs(value, env.get("IFS")) if value != _text(child) else [value])
        elif words and child.start_byte == glued_to and child.type in _GLUABLE:
            # no space between this and the word before: one word to the shell, which
            # tree-sitter splits before a backquote (`n`false`c` is nc)
            words[-1] += self.word(child, env, via, depth)
        else:
            words.append(self.word(child, env, via, depth))

    def heredoc(self, red: Node, env, via, depth) -> str | None:
        """A here-document's text, expanded unless its delimiter is quoted."""
        body = next((c for c in red.named_children if c.type == "heredoc_body"), None)
        if body is None:
            return None
        start = next((c for c in red.named_children if c.type == "heredoc_start"), None)
        raw = start is not None and _text(start)[:1] in ("'", '"')
        return _text(body) if raw else self.expand_heredoc(body, env, via, depth)

    def after_heredoc(self, red: Node, head: list[Cmd], via, env, depth, text: str | None = None) -> None:
        """What follows a here-document's redirection on its first line, which the tree puts inside
        the redirection: the rest of a pipeline (`cat <<E | sh`), fed what the command before
        printed (`text`: the here-document, where a group read it), and the rest of a list
        (`cat <<E > f && bash f`)."""
        for child in red.named_children:
            if child.type == "pipeline":
                self.pipeline(child, via, env, depth, head=head, head_stdin=text)
            elif child.type not in ("heredoc_start", "heredoc_body", "heredoc_end", "file_redirect"):
                self.node(child, via, env, depth)

    def herestring(self, red: Node, env, via, depth) -> str:
        return " ".join(self.word(c, env, via, depth) for c in red.named_children) + "\n"

    def loop_input(self, redirects, env, via, depth) -> str | None:
        """What a loop's redirections give the `read` in its condition, where known: a here-string, a
        here-document, or a file this session wrote."""
        for red in redirects:
            if red.type == "herestring_redirect":
                return self.herestring(red, env, via, depth)
            if red.type == "heredoc_redirect":
                return self.heredoc(red, env, via, depth)
            if red.type == "file_redirect":
                for op, target in self.redirect_target(red, env, via, depth)[0]:
                    if op.lstrip("0") == "<":
                        return self.session.lookup(target)
        return None

    def loop(self, node: Node, via, env, depth, stdin: str | None) -> None:
        """`while read VAR; do ...; done` over known input (a pipe, a here-string, a file this session
        wrote): the body is read once for each distinct line with VAR bound to it, as `read` sets it,
        so that `eval "$VAR"`, `bash -c "$VAR"` and `$VAR` run what the lines say. Past
        MAX_LOOP_LINES - 1 lines, the rest are bound together, as one script; past the walk's budget
        (MAX_LOOP_READING), a body is read once as written."""
        condition = node.child_by_field_name("condition")
        body = node.child_by_field_name("body")
        spec = (_read_spec(condition) if stdin and condition is not None and body is not None
                and node.children and node.children[0].type == "while" else None)
        if spec is None:
            for child in node.named_children:
                self.node(child, via, env, depth)
            return
        self.node(condition, via, env, depth)
        names, ifs, delimiter = spec
        records = stdin[:MAX_LOOP_INPUT].split(delimiter)
        if condition.type != "list":
            records.pop()  # at the end, `read` fails on a record without its delimiter (`|| [ -n "$l" ]` runs it)
        records = [r for r in dict.fromkeys(records) if r.strip()]
        if len(records) >= MAX_LOOP_LINES:
            records = records[:MAX_LOOP_LINES - 1] + ["\n".join(records[MAX_LOOP_LINES - 1:])]
        cost = max(64, body.end_byte - body.start_byte)
        for index, record in enumerate(records):
            if len(self.out) >= MAX_LOOP_COMMANDS or self.loop_budget < cost:
                if index == 0:
                    self.node(body, via, env, depth)
                self.cut_short(via)
                break  # (loops nested in loops multiply: one budget bounds them all)
            self.loop_budget -= cost
            local = dict(env)
            _bind_read(names, ifs, record, local)
            self.node(body, via + ("while read",), local, depth)

    def cut_short(self, via, why: str = "loops run more than is read") -> None:
        """Once per walk and reason: a budget left something unread (a loop read fewer times than it
        runs, ...), so what it runs is not known: an UNREADABLE command, which rules flag, as budgets
        spent on purpose hide."""
        if why not in self.cut:
            self.cut.add(why)
            self.out.append(Cmd(name=UNREADABLE, path=UNREADABLE, args=[why], via=via))

    def array_items(self, string: Node, env) -> list[str] | None:
        """The elements of the array a `"${a[@]}"` string expands, where the reading set it (a=(...))."""
        if string.named_child_count != 1 or string.named_children[0].type != "expansion":
            return None
        expansion = string.named_children[0]
        subscript = expansion.named_children[0] if expansion.named_child_count == 1 else None
        if subscript is None or subscript.type != "subscript" or len(expansion.children) != 3:
            return None
        name = subscript.named_children[0] if subscript.named_children else None
        if name is None or name.type != "variable_name" or f"{_text(name)}[@]" not in env:
            return None
        items = []
        for index in range(MAX_ARRAY):
            item = env.get(f"{_text(name)}[{index}]")
            if item is None:
                break
            items.append(item)
        return items

    def for_loop(self, node: Node, via, env, depth) -> None:
        """`for VAR in WORDS; do ...; done`: the body is read as written, then once for each word with
        VAR bound to it, in this shell (what the body assigns stays set, `y=$y$x` builds a word), so that `$VAR`,
        `eval "$VAR"` and `bash -c "$VAR"` run what the words say; `for VAR; do` takes the
        positional parameters. Repeated words are read once; past MAX_FOR_WORDS - 1 words, the rest
        are bound together, a line each; past the walk's budget (MAX_FOR_READING, MAX_LOOP_COMMANDS)
        the body is read as written only, and the walk says it was cut short (UNREADABLE)."""
        variable = node.child_by_field_name("variable")
        body = node.child_by_field_name("body")
        if variable is None or body is None:
            for child in node.named_children:
                self.node(child, via, env, depth)
            return
        name = _text(variable)
        words: list[str] = []
        if any(child.type == "in" for child in node.children):
            glued_to = -1
            for child in node.children_by_field_name("value"):
                self.add_words(words, child, glued_to, env, via, depth)
                glued_to = child.end_byte
        else:
            words = list(self.positional)
        words = list(dict.fromkeys(words))
        if len(words) > MAX_FOR_WORDS:
            words = words[:MAX_FOR_WORDS - 1] + ["\n".join(words[MAX_FOR_WORDS - 1:])]
        cost = max(64, body.end_byte - body.start_byte)
        if not words or self.for_budget < cost or len(self.out) >= MAX_LOOP_COMMANDS:
            self.node(body, via, env, depth)
            if words:
                self.cut_short(via)
            return
        # first as written, VAR unknown (what every pass does: `ping 10.0.0.$i` sweeps), leaving
        # nothing set; then once per word
        written = dict(env)
        written.pop(name, None)
        self.node(body, via, written, depth)
        for word in words:
            if len(self.out) >= MAX_LOOP_COMMANDS or self.for_budget < cost:
                self.cut_short(via)
                break
            self.for_budget -= cost
            env[name] = word
            self.node(body, via, env, depth)

    def _unknown_output(self, node: Node, before: int) -> str:
        """A substitution whose output is unknown stays as written; which programs make that output
        is kept for the command whose whole word it is (Cmd.fed_by)."""
        text = _text(node)
        if len(self.out) > before:
            last = self.out[-1]
            if len(self.substituted) < MAX_COMMANDS:
                self.substituted[text] = [last.name, *last.pipe_from, *(  # (and the socket it reads: `$(cat <&3)`)
                    r for r in last.reads if r.startswith(SOCKET_PATHS))]
        return text

    def _fed_by(self, cmd: Cmd) -> None:
        """Which programs' output a shell, an interpreter, `source` or `eval` runs as a whole word or
        a file, or a command runs as its program (Cmd.fed_by); and which files it leaves whose
        content is unknown."""
        runs_file = cmd.name in decode.SHELLS or cmd.name in ("source", ".", "eval") or codemod.language_of(cmd.name)
        if runs_file and self.substituted:
            operands = [a for a in cmd.args if not a.startswith("-")]
            runs = set(cmd.args) if cmd.name == "eval" else {*operands[:1], *cmd.reads}
            at = cmd.args.index("-c") + 1 if "-c" in cmd.args else 0
            if 0 < at < len(cmd.args):
                runs.add(cmd.args[at])
            for word in [*cmd.args, *cmd.reads]:
                producers = self.substituted.get(word)
                if producers:
                    # (a socket that made the word counts only where the word is what runs, not an argument)
                    cmd.fed_by.extend(producers if word in runs else
                                      [p for p in producers if not p.startswith(SOCKET_PATHS)])
        if self.fetched or self.session.has_fetched:
            script = next((a for a in cmd.args if not a.startswith("-")), None) if runs_file else None
            for path in (cmd.path if "/" in cmd.path else None, script):
                writer = self.fetched.get(self.session.lookup_key(path)) if path and self.fetched else None
                if writer is not None:  # what wrote it, what was piped into that, and a socket it read
                    cmd.fed_by.extend([writer.name, *writer.pipe_from,
                                       *(r for r in writer.reads if r.startswith(SOCKET_PATHS))])
                elif path and self.session.has_fetched:  # fetched by an earlier action of the session
                    cmd.fed_by.extend(self.session.fetched_by(path))
        if cmd.stdout is None and len(self.fetched) < MAX_COMMANDS:
            fetcher = cmd.name in _FETCHERS or not _FETCHERS.isdisjoint(cmd.pipe_from)
            for target in [*cmd.writes, *saved_files(cmd.name, cmd.args)]:
                self.fetched[self.session.write_key(target)] = cmd
                if fetcher and target != "-" and not target.startswith("/dev/"):
                    self.session.fetch(target, [cmd.name, *cmd.pipe_from])

    def redirect_target(self, node: Node, env, via, depth) -> tuple[list[tuple[str, str]], list[str]]:
        """The redirection as (fd+operator, target), and any words tree-sitter put after the target.

        `find / -name k 2>/dev/null -exec cat {} ;` parses with `-exec cat {} ;` inside the
        redirection; those words are the command's.
        """
        op = ""
        fd = ""
        target = None
        rest: list[str] = []
        for child in node.children:
            if child.type == "file_descriptor":
                fd = _text(child)
            elif not child.is_named and child.type in (">", ">>", "<", "&>", "&>>", ">|", ">&", "<&", "<>"):
                op = child.type
            elif not child.is_named and child.type in (">&-", "<&-"):
                op, target = child.type[:2], "-"  # (closing a descriptor: one token, no destination)
            elif child.is_named and target is None:
                target = self.word(child, env, via, depth)
            elif child.is_named:
                rest.append(self.word(child, env, via, depth))
                if rest[-1] == "0" and child.type == "number" and child.end_byte == node.end_byte:
                    after = node.next_sibling  # `2>&3 0<&3`: the grammar gives the 0 to the redirection before
                    if (after is not None and after.type == "file_redirect" and after.start_byte == node.end_byte
                            and after.child_by_field_name("descriptor") is None and not _text(after).startswith("&")):
                        rest.pop()
        return ([(fd + op, target)] if target is not None else []), rest

    def apply_redirects(self, cmd: Cmd, targets: list[tuple[str, str]]) -> None:
        for op, target in targets:
            cmd.redirects.append(f"{op}{target}")
            if self.session.sockets:
                # a descriptor the run's shell holds on a socket, given by number, shown with it:
                # `<&3=/dev/tcp/H/P` (`sh <&3 >&3` an action after `exec 3<>/dev/tcp/H/P`)
                path = self.session.socket_of(descriptor(target, op.endswith("&")))
                if path is not None:
                    cmd.redirects.append(f"{op}{target}={path}")
                    cmd.known_endpoints.extend(from_word(path))
                    if op.lstrip("0").startswith("<"):
                        cmd.reads.append(path)  # (what it reads comes from there: a pipe after it carries it)
                    elif ">" in op:
                        cmd.writes.append(path)  # (what it prints goes there: `cat ~/.ssh/id_rsa >&3`)
            bare = op.lstrip("0123456789")
            if bare in (">", ">>", "&>", "&>>", ">|", "<>"):
                cmd.writes.append(target)
            elif bare == "<":
                cmd.reads.append(target)
            cmd.known_endpoints.extend(from_word(target))

    def hold_sockets(self, targets: list[tuple[str, str]], args: list[str]) -> None:
        """What `exec` with only redirections leaves open in the run's shell: `exec N<>/dev/tcp/H/P`
        keeps descriptor N on that socket for the actions after it, `exec M<&N` copies one it holds,
        `exec {v}<>/dev/tcp/H/P` keeps one under `$v`; closing N (`exec N>&-`) or pointing it
        elsewhere (`exec 3>&1`, `exec 3>/tmp/f`) lets it go. (The grammar has no `<>`: its target
        comes as exec's word, `args`; exec given a program replaces the shell, and keeps nothing.)"""
        words = list(args)
        named = words.pop(0)[1:-1] if words and _FD_NAME.fullmatch(words[0]) else None
        split = [target in ("", ">", "<") and f"{op}{target}".endswith(("<>", "><")) for op, target in targets]
        if len(words) != sum(split):
            return
        for (op, target), splits in zip(targets, split):
            fd = op[:len(op) - len(op.lstrip("0123456789"))]
            if splits:
                op, target = f"{op}{target}", words.pop(0)  # (the grammar splits `<>`: `3<` and `>`)
            if not fd:
                if named is None or op.endswith("&"):
                    continue
                fd = "$" + named.lower()
            else:
                fd = str(int(fd))
            if op.endswith("&"):
                source = descriptor(target, True) if target != "-" else ""
                self.session.hold_socket(fd, self.session.socket_of(source) if source else None)
                if source and target.endswith("-") and source != fd:
                    self.session.hold_socket(source, None)  # (`exec 4<&3-` moves 3 to 4)
                continue
            self.session.hold_socket(fd, target if target.startswith(SOCKET_PATHS) else None)

    def expand_heredoc(self, body: Node, env, via, depth) -> str:
        text = _text(body)
        if "$" not in text:
            return text
        out = _Capped(MAX_TEXT)
        cursor = body.start_byte
        for child in body.named_children:
            out.append(_slice(body, cursor, child.start_byte))
            out.append(self.word(child, env, via, depth))
            cursor = child.end_byte
        out.append(_slice(body, cursor, body.end_byte))
        return out.text()

    # -- words --------------------------------------------------------------------------------------
    def word(self, node: Node, env, via, depth) -> str:
        self._deeper()
        try:
            kind = node.type
            if kind in ("word", "number", "variable_name", "heredoc_start"):
                return decode.unbackslash(_text(node))
            if kind == "raw_string":
                return _text(node)[1:-1]
            if kind == "ansi_c_string":
                return decode.ansi_c_string(_text(node)[2:-1])
            if kind == "string":
                parts = _Capped()
                cursor = node.start_byte + 1
                for child in node.named_children:
                    if child.start_byte > cursor:
                        parts.append(_in_double_quotes(_slice(node, cursor, child.start_byte)))
                    parts.append(self.word(child, env, via, depth) if child.type != "string_content"
                                 else _in_double_quotes(_text(child)))
                    cursor = child.end_byte
                if node.end_byte - 1 > cursor:
                    parts.append(_in_double_quotes(_slice(node, cursor, node.end_byte - 1)))
                return parts.text()
            if kind == "string_content":
                return _in_double_quotes(_text(node))
            if kind in ("concatenation", "command_name"):
                # an empty backquote substitution (``) expands to nothing, like `$()`
                joined = _Capped()
                for c in node.children:
                    if c.is_named or c.type not in ("{", "}", "``"):
                        joined.append(self.word(c, env, via, depth))
                return joined.text()
            if kind == "simple_expansion":
                name = node.named_children[0] if node.named_children else None
                key = _text(name) if name is not None else ""
                if key in env:
                    return env[key]
                if key in ("@", "*"):
                    return " ".join(self.positional)
                if key[:1] == "0" and self.arg0 is not None:
                    return self.arg0 + key[1:]
                if key[:1] in _POSITIONAL:
                    # the arguments of a shell started with none are empty: `n$@c` is nc, `$1b` is b
                    # ($0, the shell's or script's own name, is not: it stays as written)
                    index = int(key[0]) - 1
                    return (self.positional[index] if index < len(self.positional) else "") + key[1:]
                return _text(node)
            if kind == "expansion":
                subscripts = [c for c in node.named_children if c.type == "subscript"]
                if len(node.children) == 3 and subscripts:  # ${a[0]}, ${a[@]}
                    key = "".join(_text(c) for c in subscripts[0].children)
                    return env.get(key, _text(node))
                names = [c for c in node.named_children if c.type == "variable_name"]
                if len(node.children) == 3 and names and _text(names[0]).isdigit():  # ${1}, ${10}, ${0}
                    number = int(_text(names[0]))
                    if number == 0:
                        return self.arg0 if self.arg0 is not None else _text(node)
                    return self.positional[number - 1] if number <= len(self.positional) else ""
                if len(node.children) == 3 and names:  # ${name}
                    return env[_text(names[0])] if _text(names[0]) in env else _unset(node)
                if len(node.children) == 4 and names and node.children[1].type == "#":  # ${#name}: its length
                    value = env.get(_text(names[0]), ASSUMED_ENVIRONMENT.get(_text(names[0])))
                    return str(len(value)) if value is not None else _text(node)
                if len(node.children) == 4 and names and node.children[1].type == "!":  # ${!name}: indirection
                    target = env.get(_text(names[0]))
                    return env[target] if target in env else _text(node)
                if names and _text(names[0]) in env:
                    value = env[_text(names[0])]
                    operated = _parameter_operation(node, names[0], value)
                    return value if operated is None else operated
                if names and _text(names[0]) in ASSUMED_ENVIRONMENT:
                    # `${PATH:0:1}` is `/`: characters cut from what every shell's environment holds
                    operated = _parameter_operation(node, names[0], ASSUMED_ENVIRONMENT[_text(names[0])])
                    if operated is not None:
                        return operated
                defaults = [c for c in node.named_children if c.type in ("word", "string", "raw_string")]
                operator = node.children[2].type if len(node.children) > 3 and names else ""
                if operator in _DEFAULT_OPERATORS:
                    # the variable is unset here: ${x:-v}, ${x-v}, ${x:=v} and ${x=v} give v, ${x:+v} nothing
                    value = self.word(defaults[0], env, via, depth) if defaults else ""
                    if operator in ("=", ":="):
                        env[_text(names[0])] = value
                    return value
                if operator in ("+", ":+"):
                    return ""
                return _unset(node) if names and not subscripts else _text(node)
            if kind == "command_substitution":
                before = len(self.out)
                for child in node.named_children:
                    self.node(child, via + ("$()",), env, depth)
                produced = [c.stdout for c in self.out[before:]]
                last = produced[-1] if produced else None
                if last is not None and len(self.out) > before and not self.out[-1].pipe_to:
                    value = last.rstrip("\n")
                    if value and self.out[-1].pipe_from and len(self.substituted) < MAX_COMMANDS:
                        # a filter's output: a shell given it whole runs what that filter made (Cmd.fed_by)
                        self.substituted.setdefault(value, [self.out[-1].name, *self.out[-1].pipe_from])
                    return value
                last_cmd = self.out[-1] if len(self.out) > before else None
                if (last_cmd is not None and last_cmd.name == "cat" and last_cmd.args and not last_cmd.pipe_from
                        and self.session.may_hold and len(self.held) < MAX_COMMANDS):
                    parts = [self.session.lookup(a) for a in last_cmd.args if not a.startswith("-")]
                    if parts and all(part is not None for part in parts):
                        self.held[_text(node)] = "".join(parts)
                if not _text(node)[2:-1].strip():
                    return ""  # `$()` expands to nothing: `n$()c` is nc
                return self._unknown_output(node, before)
            if kind == "process_substitution":
                before = len(self.out)
                for child in node.named_children:
                    self.node(child, via + ("<()",), env, depth)
                produced = self.out[before:]
                if _text(node).startswith("<(") and produced and produced[-1].stdout is not None:
                    # `sh <(echo ...)`, `source <(curl ...)`: a file whose content is that output
                    self.pseudo_files += 1
                    path = f"/dev/fd/{62 + self.pseudo_files}"
                    self.session.put(path, produced[-1].stdout)
                    return path
                return self._unknown_output(node, before)
            if kind == "arithmetic_expansion":
                raw = _text(node)
                value = arith.evaluate(raw[3:-2], env) if raw.startswith("$((") and raw.endswith("))") else None
                return raw if value is None else str(value)
            if node.named_child_count:
                return "".join(self.word(c, env, via, depth) for c in node.named_children)
            return _text(node)
        finally:
            self.nesting -= 1

    # -- commands -----------------------------------------------------------------------------------
    def command(self, program: str, args: list[str], via, env, depth, targets, _unused,
                stdin: str | None = None, piped: bool = False, as_written: bool = False) -> None:
        """_command, counted in MAX_NESTING: a command runs commands (`find -exec find -exec ...`,
        `sudo sudo ...`) as deep as its argv goes, without node() or word() in between."""
        self._deeper()
        try:
            self._command(program, args, via, env, depth, targets, _unused, stdin, piped, as_written)
        finally:
            self.nesting -= 1

    def _command(self, program: str, args: list[str], via, env, depth, targets, _unused,
                 stdin: str | None, piped: bool, as_written: bool) -> None:
        """One simple command. `as_written`: the program word is the text's own (quoted, no
        expansion, or one whose value is unknown and stays as written), so white space in it is
        part of the path, not a command line to read."""
        if len(self.out) >= MAX_COMMANDS:
            return
        program = program.strip()
        if not program:
            return
        if " " in program and not args and not as_written and depth < MAX_DEPTH:
            # `$cmd` holding a whole command line: read it as one, within the walk's budget for
            # such lines (a value that names itself grows at each level it is read at).
            if len(program) > self.held_lines_budget:
                self.cut_short(via, "more command lines held in variables than are read")
                return
            self.held_lines_budget -= len(program)
            self.text(program, via, env, depth + 1)
            return
        if program in self.aliases and f"alias {program}" not in via and depth < MAX_DEPTH:
            # The alias, and the command as written too: the reader does not know which branch of
            # `[ ... ] && alias python3=python3.9` ran.
            value = self.aliases[program]
            if any(mark in value for mark in _ALIAS_SHELL_MARKS):
                # bash puts the alias's text in place of its name and reads the line again:
                # `alias ll='ls; systemctl stop auditd'` makes `ll src/` two commands
                self.text(" ".join([value, *(shlex.quote(a) for a in args)]), via + (f"alias {program}",), env,
                          depth + 1)
            elif value.split():
                words = value.split()
                self.command(words[0], words[1:] + list(args), via + (f"alias {program}",), env, depth + 1,
                             targets, _unused, stdin=stdin, piped=piped)
        if program in self.functions and f"function {program}" not in via and depth < MAX_DEPTH:
            # a call of a function defined earlier: its body with these arguments as $1 ... "$@"
            saved, self.positional = self.positional, list(args)
            exported = self.export_prefixed()  # (`S=x f`: the commands f starts see S)
            try:
                self.node(self.functions[program], via + (f"function {program}",), env, depth + 1)
            finally:
                self.positional = saved
                self.unexport_prefixed(exported)
        if program == "set" and args[:1] == ["--"]:
            self.positional = list(args[1:])
        if program == "shift":
            count = int(args[0]) if args and args[0].isdigit() and len(args[0]) < 4 else 1
            self.positional = self.positional[count:]
        name = program_name(program)
        cmd = Cmd(name=name, path=program, args=args, flags=split_flags(args), via=via,
                  env={k: v for k, v in env.items()}, stdin=self.kept_input(stdin))
        self.place(cmd, via)
        self.apply_redirects(cmd, targets)
        if self.session.sockets and any("/fd/" in a for a in args):
            # `cat /dev/fd/3`, `sh /dev/fd/3`: reading the descriptor is reading the socket; a shell or
            # source reads only its script, the first operand (`bash ./r.sh /dev/fd/3` passes it on)
            read_words = args
            if name in decode.SHELLS or name in ("source", "."):
                read_words = [a for a in args if not a.startswith("-")][:1]
            for arg in read_words:
                path = self.session.socket_of(descriptor(arg, False)) if "/fd/" in arg else None
                if path is not None:
                    cmd.reads.append(path)
                    cmd.known_endpoints.extend(from_word(path))
        if name == "read" and self.session.sockets:
            fd = _read_descriptor(args)  # `read -u 3 line` reads descriptor 3 as `read line <&3` does
            path = self.session.socket_of(fd) if fd else None
            if path is not None:
                cmd.redirects.append(f"<&{fd}={path}")
                cmd.reads.append(path)
        if targets and (name == "exec" or name in ("builtin", "command") and args[:1] == ["exec"]) and _in_own_shell(via):
            self.hold_sockets(targets, args if name == "exec" else args[1:])
        self.out.append(cmd)
        self.features(cmd, stdin, via, env, depth, piped)
        stdout = decode.output_of(name, args, stdin)
        if name == "sed":
            stdout = self.sed_files(cmd, stdout, via, depth)
            for code in sed.executed(args, stdin):
                self.text(code, via + ("sed e",), {}, depth + 1)
        if stdout is None and name in _FILE_DECODERS and self.session.may_hold:
            # `base64 -d /tmp/x | sh`, `rev f | sh`: a decoder reading a file the session wrote
            files = [a for a in args if not a.startswith("-")]
            content = self.session.lookup(files[0]) if len(files) == 1 else None
            if content is not None:
                stdout = decode.output_of(name, [a for a in args if a != files[0]], content)
        if (stdout is None and stdin is None and (piped or targets) and name in _FILE_FILTERS and len(args) >= 2
                and self.session.may_hold):
            # `awk '{print $2}' f | sh`, `head -1 f | bash`, `grep -v x f | sh`: a filter whose last
            # word is a file the session wrote reads it as its input
            content = self.session.lookup(args[-1]) if not args[-1].startswith("-") else None
            if content is not None:
                stdout = decode.output_of(name, args[:-1], content)
        if stdout is None and piped and name == "cat" and args and self.session.may_hold:
            # `cat script | bash`: the content of files this session wrote (in a pipeline only:
            # `$(cat f)` stays as written, which is how a rule sees command output being sent,
            # but a shell or eval given that whole word runs the content: `held`)
            parts = [self.session.lookup(a) for a in args if not a.startswith("-")]
            if parts and all(part is not None for part in parts):
                stdout = "".join(parts)
        if name == "alias":
            for arg in args:
                key, eq, value = arg.partition("=")
                if eq and key and len(self.aliases) < MAX_ALIASES:
                    self.aliases[key] = value
        if stdout is not None:
            cmd.stdout = stdout
            for op, target in targets:
                if op in (">", "1>", ">>", "1>>", "&>", "&>>", ">|"):
                    cmd.written = stdout[:MAX_WRITTEN]
                    self.session.remember(target, stdout, append=op in (">>", "&>>"))
                    self.written(target, stdout, via, depth)
        if name == "tee" and stdin is not None:
            if any(not a.startswith("-") for a in args):
                cmd.written = stdin[:MAX_WRITTEN]
            for target in (a for a in args if not a.startswith("-")):
                cmd.writes.append(target)
                self.session.remember(target, stdin, append="-a" in cmd.flags)
                self.written(target, stdin, via, depth)
        elif name == "tee":
            cmd.writes.extend(a for a in args if not a.startswith("-"))
        self._fed_by(cmd)
        if name in _COPIES and args:
            self.copied(cmd)
        if name in ("cd", "pushd", "popd") and OWN_SHELL.issuperset(via):
            operands = [a for a in args if not a.startswith(("-", "+")) or a == "-"]
            if name == "cd":
                self.session.chdir(operands[0] if operands else HOME)
            elif name == "popd" or not operands:
                self.session.chdir("-")  # (the stack is not kept: unknown)
            elif "-n" not in args:  # (pushd -n only adds to the stack)
                self.session.chdir(operands[0])

    def patched(self, cmd: Cmd, text: str, via, depth) -> None:
        """An apply_patch patch given to `cmd`: the files it adds or changes are its writes (their
        added lines what it wrote, kept in the session and read as what they would run); a deleted
        file reads as `rm PATH`, a moved one as `mv PATH NEW_PATH`, so the rules on those apply."""
        found = patch.changes(text)
        inner = via + ("apply_patch",)
        written = [c for c in found if c.op != "delete"]
        if len(written) == 1:
            cmd.written = written[0].content[:MAX_WRITTEN]
        for change in found:
            if change.op == "delete":
                self.command("rm", [change.path], inner, {}, depth + 1, [], [])
                continue
            target = change.move_to or change.path
            cmd.args.append(change.path)
            cmd.writes.append(target)
            if change.move_to:
                self.command("mv", [change.path, change.move_to], inner, {}, depth + 1, [], [])
            self.session.remember(target, change.content, append=change.op == "update")
            if change.content:
                self.written(target, change.content, via, depth)

    def written(self, path: str, content: str, via, depth) -> None:
        """A file written with known content: read it now, as what it would do when run."""
        lang = lang_of_script(path, content)
        if lang == "cron":
            self.cron_text(content, via + (f"writes {path}",), depth, system=_system_crontab(path))
        elif lang == "unit":
            self.unit_text(content, via + (f"writes {path}",), depth)
        elif lang == "shell":
            self.text(content, via + (f"writes {path}",), {}, depth + 1)
        elif lang == "make":
            for target, line in makefile.every_recipe(content):
                self.text(line, via + (f"writes {path}", f"recipe {target}"), {}, depth + 1)
        elif lang:
            self.code(lang, content, via + (f"writes {path}",), depth + 1, name=lang, path=lang, args=[])

    def features(self, cmd: Cmd, stdin: str | None, via, env, depth, piped: bool) -> None:
        name, args = cmd.name, cmd.args
        if name in ("ssh", "autossh", "mosh", "dbclient"):
            cmd.endpoints.extend(_ssh_endpoints(args))
        else:
            cmd.endpoints_in_args(name in _NETWORK_PROGRAMS)
        inner_via = via + (name,)
        if name in decode.SHELLS or name in ("eval", "source", "."):
            self.shell_program(cmd, stdin, inner_via, env, depth)
            return
        lang = codemod.language_of(name)
        if lang:
            self.interpreter(cmd, lang, stdin, inner_via, depth)
            return
        if _wrapper_options(name) is not None:
            self.wrapper(cmd, inner_via, env, depth, stdin)
            return
        if name == "find":
            roots = _find_roots(args)
            leaf = _find_name(args) or "{}"
            for flag in ("-exec", "-execdir", "-ok", "-okdir"):
                if flag in args:
                    start = args.index(flag) + 1
                    end = next((i for i in range(start, len(args)) if args[i] in (";", "+", "\\;")), len(args))
                    if start < end:
                        argv = args[start:end]
                        # `{}` is each file found: a path under each starting point (`/var/log/{}`),
                        # named as -name says where it says one (`~/.ssh/*.pub`)
                        runs = ([[a.replace("{}", f"{root.rstrip('/')}/{leaf}") for a in argv] for root in roots]
                                if any("{}" in a for a in argv) else [argv])
                        for run in runs:
                            self.command(run[0], run[1:], inner_via, env, depth + 1, [], [])
        elif name == "expect":
            self.expect(cmd, stdin, inner_via, depth)
        elif name in ("ssh", "autossh", "mosh", "dbclient") and args:
            cmd.flags = split_flags(ssh_option_words(args))
            remote = _ssh_remote(args)
            if remote:
                before = len(self.out)
                self.text(" ".join(remote), inner_via, {}, depth + 1)
                if stdin is not None and _shell_reading_stdin(" ".join(remote).split()):
                    # `ssh h 'bash -s' <<E`, `cat x.sh | ssh h sh`: ssh's input is the remote shell's script
                    self.text(stdin, inner_via + ("bash -s",), {}, depth + 1)
                if self.session.sent or self.session.journal is not None:
                    self.sent_used(cmd, remote, self.out[before:])
                streamed = _streamed_into(self.out[before:], inner_via)
                if streamed is not None:
                    fed = [r[1:] for r in (x.lstrip("0") for x in cmd.redirects) if r[:1] == "<" and r[1:2] not in ("<", ">", "&")]
                    if fed:
                        self.stream_sent(cmd, streamed, fed)
                    elif piped:
                        self.streams[id(cmd)] = (cmd, streamed)
            self.ssh_options(cmd, ssh_option_words(args), inner_via, env, depth)
        elif name in ("screen", "tmux", "parallel"):
            for text in (_screen_texts(args) if name == "screen" else _tmux_texts(args) if name == "tmux"
                         else _parallel_texts(args, stdin, self.session.lookup if self.session.may_hold else None)):
                self.text(text, inner_via, {}, depth + 1)
        elif name in _PACKAGE_RUNNERS or name in _PACKAGE_MANAGERS_NAMES and len(args) >= 2:
            runs = _package_run(name, args)
            if runs is not None:
                kind, words = runs
                if kind == "text":
                    self.text(words[0], inner_via, {}, depth + 1)
                elif words:
                    self.command(words[0], words[1:], inner_via, env, depth + 1, [], [])
        elif name in _VIMS and args:
            for text in _vim_texts(args):
                self.text(text, inner_via, {}, depth + 1)
        if name in ("kubectl", "oc", "docker", "podman", "nerdctl", "crictl", "lxc") and "exec" in args:
            inner = _container_exec_command(name, args)
            if inner:
                self.command(inner[0], inner[1:], inner_via, {}, depth + 1, [], [])
        elif name in ("kubectl", "oc", "docker", "podman", "nerdctl") and "run" in args:
            inner, image = _container_run(name, args)
            own = _image_program(image)
            if own:
                self.command(own[0], own[1:], inner_via + (f"image {own[0]}",), {}, depth + 1, [], [])
            if inner:
                self.command(inner[0], inner[1:], inner_via, {}, depth + 1, [], [])
        if name in ("make", "gmake") and self.session.may_hold:
            self.make(args, inner_via, depth)
        if name == "auditctl" and self.session.may_hold:
            for given in _values_of(args, "R"):
                content = self.session.lookup(given)
                for line in (content or "").splitlines()[:256]:
                    if line.split() and not line.lstrip().startswith("#"):
                        # `auditctl -R FILE`: each line of the file is an auditctl command line
                        self.command("auditctl", line.split(), inner_via + (f"rules {given}",), {}, depth + 1, [], [])
        if name in ("kubectl", "oc") and any(a in ("apply", "create", "replace") for a in args[:4]):
            self.manifests(args, stdin, inner_via, depth)
        if name in _RUNS_OPTION_COMMANDS:
            for code in _option_commands(name, args, cmd.env):
                self.text(code, inner_via, self.environment(env), depth + 1)
        if name in ("scp", "rsync") and args:
            self.sends(cmd)
        elif name == "sftp" and args:
            self.sftp_puts(args, stdin)
        if name == "trap" and args and not args[0].startswith("-"):
            self.text(args[0], inner_via, dict(env), depth + 1)  # (run later by this shell)
        if name in ("at", "batch") and stdin:
            self.text(stdin, inner_via, self.environment(env), depth + 1)  # (at keeps the exported environment)
        if name == "apply_patch":
            given = stdin if patch.is_patch(stdin) else next((a for a in args if patch.is_patch(a)), None)
            if given is not None:
                self.patched(cmd, given, inner_via, depth)
        if name in ("crontab",) and stdin:
            cmd.reads.append("<stdin>")
            self.cron_text(stdin, inner_via, depth)
        if self.session.may_hold and not cmd.via[-1:] == ("script",):
            self.maybe_script(cmd, cmd.path, args, inner_via, depth, self.environment(env))

    def sends(self, cmd: Cmd) -> None:
        """`scp SRC... [USER@]HOST:DST`, `rsync SRC... HOST:DST`: the run put files on HOST (Session.send),
        under the source's base name and, for one source, the destination's."""
        copy = copied_to_host(cmd.name, cmd.args)
        if copy is None:
            return
        host, sources, destination = copy
        for source in sources:
            self.record_sent(host, source, destination if len(sources) == 1 else "")

    def record_sent(self, host: str, path: str, destination: str, source: str | None = None) -> None:
        """`path` put on `host` (at `destination`, where one file was), under the names `_sent_names`
        gives (Session.send), as the local `source` (`path` itself unless given)."""
        names = _sent_names(path, destination)
        if names:
            self.session.send(host, names, source or path)

    def stream_sent(self, ssh: Cmd, streamed: tuple[str, list[str]], sources: list[str]) -> None:
        """What an ssh fed local files (`cat run.py | ssh h 'cat > /tmp/run.py'`, `tar c app | ssh h
        'tar x -C /opt'`, `ssh h 'cat > x' < x`) left on the host (Session.send): a file written there
        by its remote path's base name, an archive unpacked there by its members' own names."""
        host = _ssh_host(ssh)
        if not host:
            return
        kind, paths = streamed
        if kind == "write":
            for path in paths:
                self.record_sent(host, path, "", sources[0] if len(sources) == 1 else path)
        else:
            for source in sources:
                self.record_sent(host, source, "")

    def sftp_puts(self, args: list[str], stdin: str | None) -> None:
        """`sftp HOST` given `put LOCAL [REMOTE]` (also `mput`) on its input or in a `-b` batch file
        the session wrote: the files sent (Session.send), as `sends` for scp."""
        operands = [a for i, a in enumerate(args) if not a.startswith("-")
                    and not (i and _takes_next(args[i - 1], _SFTP_VALUED))]
        if not operands:
            return
        host = operands[0].split(":", 1)[0].rsplit("@", 1)[-1].strip("[]").lower()
        batch = stdin
        named = _values_of(args, "b", ())
        if named and named[0] != "-":
            batch = self.session.lookup(named[0])
        if not host or not batch:
            return
        for line in batch.splitlines()[:MAX_SENT_WORDS]:
            words = [w for w in line.split() if not w.startswith("-")]
            if len(words) >= 2 and words[0].lower() in ("put", "mput", "reput"):
                destination = words[2] if len(words) >= 3 and words[0].lower() != "mput" else ""
                for source in (words[1:] if words[0].lower() == "mput" else words[1:2]):
                    self.record_sent(host, source, destination)

    def sent_used(self, ssh: Cmd, remote: list[str], cmds: list[Cmd]) -> None:
        """The commands an ssh runs on a host the run copied files to, where its command line names
        one of them (a path component: `tar xzf /tmp/app.tgz`, `cd ~/app`): each is given the local
        paths sent (Cmd.sent_files), the code run there being what the run put there."""
        host = _ssh_host(ssh)
        if not host:
            return
        sent: list[str] = []
        senders: list[str] = []
        for word in " ".join(remote).translate(_NOT_IN_PATHS).split()[:MAX_SENT_WORDS]:
            for part in word.lower().split("/"):
                if part and part not in _NO_NAMES:
                    found = self.session.sent_as(host, part)
                    if found is not None and found[0] not in sent:
                        source, sender = found
                        sent.append(source)
                        if sender is not None and sender not in senders:
                            senders.append(sender)
        if sent:
            for cmd in cmds:
                cmd.sent_files = list(sent)
                cmd.sent_events = list(senders)

    def make(self, args: list[str], via, depth) -> None:
        """`make [TARGET...]` with a Makefile the session wrote (`-f FILE`, else GNUmakefile,
        makefile, Makefile in the working directory): the recipes it runs (analysis.makefile)."""
        named = _values_of(args, "f", ("--file", "--makefile"))
        content = next((c for c in (self.session.lookup(n) for n in (named or makefile.NAMES)) if c is not None), None)
        if content is None:
            return
        targets, skip = [], False
        for arg in args:
            if skip:
                skip = False
            elif arg.startswith("-"):
                skip = _takes_next(arg, _MAKE_VALUED)
            elif "=" not in arg:
                targets.append(arg)
        for target, line in makefile.recipes(content, targets):
            self.text(line, via + (f"recipe {target}",), {}, depth + 1)

    def manifests(self, args: list[str], stdin: str | None, via, depth) -> None:
        """`kubectl apply -f FILE` (or `-f -` with the manifest on its input): each container the
        manifest declares (analysis.manifest) runs as `docker run` of its image would, so a miner
        deployed as a DaemonSet reads as the miner it starts."""
        for given in _values_of(args, "f", ("--filename",)):
            text = stdin if given == "-" else self.session.lookup(given) if self.session.may_hold else None
            if not text:
                continue
            for container in manifest.containers(text):
                words = [*container.entrypoint, *container.args]
                if container.entrypoint and not container.entrypoint[0].startswith("-"):
                    self.command(words[0], words[1:], via + ("manifest",), {}, depth + 1, [], [])
                    continue
                own = _image_program((container.image, words))
                if own:
                    self.command(own[0], own[1:], via + (f"image {own[0]}",), {}, depth + 1, [], [])

    def ssh_options(self, cmd: Cmd, words: list[str], via, env, depth) -> None:
        """What ssh runs or forwards through its options: `-o ProxyCommand=...`/`LocalCommand`
        run here, in a shell; a config file the session wrote (`-F file`) adds its directives, as
        if given with -o (`RemoteForward 2222 localhost:22` in /tmp/cfg is a reverse tunnel)."""
        options = _ssh_options(words)
        at = next((i for i, w in enumerate(words)
                   if _is_config_flag(w) and (not w.endswith("F") or i + 1 < len(words))), None)
        if at is not None and self.session.may_hold:
            flag = words[at]
            taken = {at, at + 1} if flag.endswith("F") else {at}  # `-F cfg`, `-qF cfg`; `-Fcfg`
            config = words[at + 1] if flag.endswith("F") else flag[flag.index("F") + 1:]
            content = self.session.lookup(config)
            if content is not None:
                added = [(k, v) for k, v in _ssh_config(content) if k in _SSH_CONFIG_KEYS]
                if added:
                    rest = [w for i, w in enumerate(cmd.args) if i not in taken]  # (words is its start)
                    extra = [f"-o{k}={v}" for k, v in added]
                    self.command(cmd.path, extra + rest, via + (f"config {config}",), env, depth + 1, [], [])
        for key, value in options:
            if key in ("proxycommand", "localcommand", "knownhostscommand") and value.lower() != "none":
                self.text(value, via, {}, depth + 1)

    def cron_text(self, text: str, via, depth, system: bool = False) -> None:
        """Crontab lines; a system crontab (/etc/crontab, /etc/cron.d) has a user before the command."""
        skip = 1 if system else 0
        for line in text.splitlines()[:256]:
            stripped = line.strip()
            if not stripped or stripped.startswith("#") or ("=" in stripped.split()[0] and not stripped.startswith("@")):
                continue
            if stripped.startswith("@"):
                fields = stripped.split(None, 1 + skip)
                if len(fields) == 2 + skip:
                    self.text(fields[-1], via, {}, depth + 1)
                continue
            fields = stripped.split(None, 5 + skip)
            if len(fields) == 6 + skip:
                self.text(fields[-1], via, {}, depth + 1)

    def unit_text(self, text: str, via, depth) -> None:
        """ExecStart=, ExecStartPre=, ExecStop=, ... (systemd; their `-@+!:` prefixes dropped), Exec=
        (desktop entries) and command= (supervisord): each line's command, read as shell would."""
        for match in _UNIT_COMMAND.finditer(text[:MAX_TEXT]):
            self.text(match.group(1), via, {}, depth + 1)

    def environment(self, env: dict[str, str]) -> dict[str, str]:
        """What a shell started now inherits: the exported variables and those assigned for it."""
        if not (self.exported or self.prefixed):
            return {}
        return {k: v for k, v in env.items() if k in self.exported or k in self.prefixed}

    def export_prefixed(self) -> set[str]:
        """While this shell runs a function, eval or sourced file, the variables assigned for that
        command alone are exported too; what was exported before is returned."""
        saved = self.exported
        self.exported = saved | self.prefixed
        return saved

    def unexport_prefixed(self, saved: set[str]) -> None:
        """Back from export_prefixed: what the function or file exported itself stays exported."""
        saved.update(self.exported - self.prefixed)
        self.exported = saved

    def shell_program(self, cmd: Cmd, stdin, via, env, depth) -> None:
        """What a shell program, eval or source runs. A started shell inherits the exported
        variables (Walk.environment), which are exported in it too, and what it exports is its own."""
        if cmd.name in ("eval", "source", "."):
            saved = self.export_prefixed()
            try:
                self._shell_program(cmd, stdin, via, env, depth)
            finally:
                self.unexport_prefixed(saved)
            return
        inherited = self.environment(env)
        saved, self.exported = self.exported, set(inherited)
        try:
            self._shell_program(cmd, stdin, via, env, depth, inherited)
        finally:
            self.exported = saved

    def _shell_program(self, cmd: Cmd, stdin, via, env, depth, inherited: dict[str, str] | None = None) -> None:
        """`inherited`: the variables a shell started here has (Walk.environment); eval and source
        run in this shell, with `env`."""
        name, args = cmd.name, cmd.args
        if name == "eval":
            code = " ".join(args)
            self.text(self.held.get(code, code), via, env, depth + 1)
            return
        if name in ("source", "."):
            if args and args[0] in _STDIN_FILES and stdin is not None:
                self.text(stdin, via, env, depth + 1)  # `. /dev/stdin <<< CMD`: this shell runs its input
            elif args:
                self.run_script(args[0], via, depth, args[1:], env)  # (in this shell: what it sets stays)
            return
        if name == "busybox" and args and args[0] not in decode.SHELLS:
            self.command(args[0], args[1:], via, env, depth + 1, [], [])
            return
        rest = args[1:] if name == "busybox" else args
        index = 0
        while index < len(rest):
            arg = rest[index]
            if arg in ("-o", "+o", "-O", "+O") or (len(arg) > 2 and arg[0] in "-+" and arg[1] != "-"
                                                    and arg[-1] in "oO" and "c" not in arg):
                index += 2  # `bash -o pipefail -c ...`, `bash -eo pipefail -c ...`: an option's value
                continue
            if arg == "-c" or (arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]):
                at = index + 2 if rest[index + 1:index + 2] == ["--"] else index + 1
                if at < len(rest):
                    # `sh -c CMD NAME ARGS...`: NAME is $0, ARGS $1...
                    saved = self.positional, self.arg0
                    self.arg0 = rest[at + 1] if at + 1 < len(rest) else None
                    self.positional = list(rest[at + 2:])
                    try:
                        self.text(self.held.get(rest[at], rest[at]), via, inherited, depth + 1)
                    finally:
                        self.positional, self.arg0 = saved
                return
            if arg == "-s" or (arg.startswith("-") and not arg.startswith("--") and "s" in arg[1:]):
                if stdin is not None:  # `bash -s ARGS`: the script from stdin, with ARGS as $1...
                    saved = self.positional
                    given = rest[index + 1:]
                    self.positional = list(given[1:] if given[:1] == ["--"] else given)
                    try:
                        self.text(stdin, via, inherited, depth + 1)
                    finally:
                        self.positional = saved
                return
            if arg in _STDIN_FILES:
                if stdin is not None:  # `bash /dev/stdin ARGS`: the script is its input, ARGS $1...
                    saved, self.positional = self.positional, list(rest[index + 1:])
                    try:
                        self.text(stdin, via, inherited, depth + 1)
                    finally:
                        self.positional = saved
                return
            if not arg.startswith("-") and arg != "-":
                self.run_script(arg, via, depth, rest[index + 1:], inherited)
                return
            index += 1
        if stdin is not None:
            self.text(stdin, via, inherited, depth + 1)

    def interpreter(self, cmd: Cmd, lang: str, stdin, via, depth) -> None:
        args = cmd.args
        flags = codemod.CODE_FLAGS.get(lang, ())
        code_text = None
        for index, arg in enumerate(args):
            if arg in flags and index + 1 < len(args):
                code_text = args[index + 1]
                break
            for flag in flags:
                if arg.startswith(flag) and len(arg) > len(flag) and len(flag) == 2 and not arg.startswith("--"):
                    code_text = arg[len(flag):]
                    break
            if code_text is not None:
                break
        if code_text is None and lang == "awk":
            program = [a for a in args if not a.startswith("-")]
            code_text = program[0] if program else None
        if code_text is None:
            positional = [a for a in args if not a.startswith("-")]
            if positional and lang != "awk":
                content = self.session.lookup(positional[0])
                if content is not None:
                    code_text = content
            if code_text is None and stdin is not None:
                code_text = stdin
        if code_text is None:
            return
        reading = codemod.read_code(lang, code_text)
        cmd.code = reading.code
        cmd.known_endpoints.extend(reading.endpoints)
        self.code_writes(cmd, reading, via[:-1] + (f"{lang} code",), depth)
        self.follow(reading, via[:-1] + (f"{lang} code",), depth)

    def wrapper(self, cmd: Cmd, via, env, depth, stdin) -> None:
        name, args = cmd.name, cmd.args
        if name in _CODE_STRING_FLAGS:
            found, code = _code_string(name, args)
            if found:
                if code is not None:
                    self.text(code, via, {}, depth + 1)
                return
        valued = _wrapper_options(name)
        if name in _BATCH_DIRECTIVES:
            self.batch_directives(cmd, valued, stdin)  # (the command line as typed is walked below: `args`)
        index = 0
        local = dict(env)
        while index < len(args):
            arg = args[index]
            if arg == "--":
                index += 1
                break
            if name == "env" and arg.startswith("-"):
                split = _option_value(arg, args[index + 1] if index + 1 < len(args) else None, "S",
                                      ("--split-string",), "iv0")
                if split is not None and split[0] is not None:
                    # `env -S 'CMD ARGS'` (a shebang's `#!/usr/bin/env -S ...`): the string split into
                    # words, as a shell would, then the words after it
                    text, taken = split
                    rest = _shell_line(args[index + taken:])
                    self.text(f"{text} {rest}" if rest else text, via, local, depth + 1)
                    return
            if arg.startswith("-"):
                index += 2 if _takes_next(arg, valued) else 1
                continue
            if name in ("env", "sudo", "doas") and "=" in arg and arg.split("=", 1)[0].isidentifier():
                key, _, value = arg.partition("=")
                local[key] = value
                self.prefixed = self.prefixed | {key}  # (simple() restores it after the command)
                index += 1
                continue
            break
        if index < len(args) and name not in ("su", "script"):
            # the wrapper's own options, as ssh's: `sudo auditctl -l` is no `sudo -l`
            cmd.flags = split_flags(args[:index])
        index += _LEADING_POSITIONALS.get(name, 0)
        if name in ("su", "script"):
            return  # their words are a user, a typescript file: a command comes only with -c
        if index < len(args):
            if name == "watch":
                self.text(" ".join(args[index:]), via, local, depth + 1)
                return
            if name == "xargs":
                read_from = next((value for option, value in _xargs_options(args[:index])
                                  if option in ("a", "--arg-file") and value), None)
                if read_from is not None and self.session.may_hold:
                    stdin = self.session.lookup(read_from)  # `xargs -a FILE`: its items from FILE
                if stdin is not None:
                    self.xargs(args[:index], args[index:], stdin, via, local, depth)
                    return
            before = len(self.out)
            self.command(args[index], args[index + 1:], via, local, depth + 1, [], [], stdin=stdin)
            if len(self.out) > before:
                inner = self.out[before]  # the wrapped command shares the wrapper's redirections
                inner.redirects.extend(cmd.redirects)
                inner.writes.extend(cmd.writes)
                inner.reads.extend(cmd.reads)

    def batch_directives(self, cmd: Cmd, valued: set, stdin: str | None) -> None:
        """A batch job's script's directives (_BATCH_DIRECTIVES) put before its options: the script
        the first other word names where the session wrote it, else the job's input (`sbatch <<EOF`,
        `bsub < job.lsf`). Each script is read for them once a walk (`sbatch job.sh` a thousand
        times in one text costs a lookup each)."""
        at = _first_operand(cmd.args, valued)
        script = None
        if at is not None and cmd.name != "bsub":
            script = self.session.lookup(cmd.args[at]) if self.session.may_hold else None
        elif at is None:
            script = stdin
            if script is None and self.session.may_hold:
                given = [target[1:] for target in cmd.redirects if target[:1] == "<" and target[1:2] not in ("<", "&")]
                script = self.session.lookup(given[-1]) if given else None
        if not script:
            return
        cut = "job script directives beyond what is read"
        key = (cmd.name, script)
        words = self.directives.get(key)
        if words is None:
            words, complete = _directive_words(script, _BATCH_DIRECTIVES[cmd.name])
            if not complete:
                self.cut_short(cmd.via, cut)
            if len(self.directives) < MAX_SCRIPTS_FOLLOWED:
                self.directives[key] = words
        if words:
            size = sum(map(len, words))
            if size > self.directive_budget:
                self.cut_short(cmd.via, cut)
                return
            self.directive_budget -= size
            cmd.args = [*words, *cmd.args]
            cmd.flags = split_flags(cmd.args)

    def expect(self, cmd: Cmd, stdin: str | None, via, depth) -> None:
        """What an expect script runs: each `spawn`/`exec`/`system` command line, and what it `send`s
        (typed into what it spawned: a shell, an ssh session). Each script read once a walk."""
        for script in _expect_scripts(cmd.args, stdin, self.session if self.session.may_hold else None):
            if script in self.followed:
                continue
            if len(self.followed) >= MAX_SCRIPTS_FOLLOWED:
                self.cut_short(via, "more expect scripts than are read")
                return
            self.followed.add(script)
            lines, sent, complete = _expect_commands(script)
            if not complete:
                self.cut_short(via, "expect script commands beyond what is read")
            for line in lines:
                self.text(line, via + ("expect spawn",), {}, depth + 1)
            if sent and lines:
                self.text("\n".join(sent), via + ("expect send",), {}, depth + 1)

    def xargs(self, options: list[str], command: list[str], stdin: str, via, env, depth) -> None:
        """`... | xargs [-I R] CMD ARGS`: CMD with the input's words appended, or once per input line
        with R replaced by it (`echo 'nc -e ...' | xargs -I{} sh -c '{}'`). At most MAX_XARGS runs."""
        replace = None
        delimiter = None
        per_call = MAX_XARGS_WORDS
        for option, value in _xargs_options(options):
            if option == "I" and value:
                replace = value
            elif option in ("i", "--replace"):
                replace = value or "{}"
            elif option in ("0", "--null"):
                delimiter = "\0"
            elif option in ("d", "--delimiter") and value is not None:
                delimiter = decode.unescape_c(value, control=False)[:1] or None
            elif option in ("n", "L", "--max-args", "--max-lines") and value and value.isdigit():
                per_call = max(1, min(int(value), MAX_XARGS_WORDS))
            elif option == "l":
                per_call = max(1, min(int(value), MAX_XARGS_WORDS)) if value and value.isdigit() else 1
        if delimiter is not None:
            # each item whole, white space and newlines kept: `xargs -0 sh -c` gets the input as one
            items = [item for item in stdin.split(delimiter) if item][:MAX_XARGS_WORDS]
        elif replace:
            items = [line for line in stdin.split("\n") if line.strip()]
        else:
            items = stdin.split()[:MAX_XARGS_WORDS]
        if replace:
            for item in items[:MAX_XARGS]:
                words = [word.replace(replace, item) for word in command]
                self.command(words[0], words[1:], via + ("xargs",), env, depth + 1, [], [])
            return
        calls = min(len(items), per_call * MAX_XARGS)
        if delimiter is None:
            calls = max(calls, 1)  # (as before: without a delimiter the command is read once for no input)
        for start in range(0, calls, per_call):
            self.command(command[0], command[1:] + items[start:start + per_call], via + ("xargs",), env,
                         depth + 1, [], [])

    def maybe_script(self, cmd: Cmd, path: str, args, via, depth, env=None) -> None:
        if "/" in path or path.endswith(_SCRIPT_SUFFIXES):
            self.run_script(path, via, depth, args, env)
            return
        found = self.session.on_path(path)
        if found is not None:
            self.run_script(found[0], via, depth, args, env)

    def run_script(self, path: str, via, depth, args=(), env=None) -> None:
        """A file the session holds, run with `args` (its "$1"... "$@") and the variables `env`
        (what a started shell inherits; a sourced file, the shell's own)."""
        inner = via + (f"script {path}",)
        if inner[-1] in via:
            return  # a script run by itself: read once (each run again read it all again, twice a level)
        content = self.session.lookup(path)
        if content is None:
            return
        lang = lang_of_script(path, content) or "shell"
        if lang == "make":
            lang = "shell"  # (`sh Makefile`: run as what it is given to)
        if lang == "unit":
            self.unit_text(content, inner, depth)
        elif lang in ("shell", "cron"):
            saved, self.positional = self.positional, list(args)
            try:
                self.text(content, inner, {} if env is None else env, depth + 1)
            finally:
                self.positional = saved
        else:
            self.code(lang, content, inner, depth + 1, name=lang, path=lang, args=[path, *args])  # (its sys.argv)

    def sed_files(self, cmd: Cmd, stdout: str | None, via, depth) -> str | None:
        """sed on files the session wrote: its output (`sed 's/^m/n/' a.txt | sh`), or with -i the
        files' new content (`sed -i 's/^m/n/' a.sh; sh a.sh`); `stdout` as it was otherwise."""
        found = sed.on_files(cmd.args) if self.session.may_hold else None
        if found is None:
            return stdout
        script, files, in_place = found
        contents = [self.session.lookup(f) for f in files]
        if any(c is None for c in contents):
            return stdout
        if not in_place:
            return sed.output(script, "".join(contents))
        for path, content in zip(files, contents):
            edited = sed.output(script, content)
            if edited is not None:
                cmd.writes.append(path)
                self.session.remember(path, edited)
                self.written(path, edited, via, depth)
        return stdout

    def copied(self, cmd: Cmd) -> None:
        """`cp SRC DST`, `ln -s SRC DST`, `install`, `mv`: DST now runs as SRC does. A file the
        session holds is copied; any other program is kept as a script that execs it, so that
        `cp /usr/bin/ssh /tmp/.x; /tmp/.x -R ...` (or a symlink) reads as the ssh it is."""
        positional, directory = [], None
        words = iter(cmd.args)
        for word in words:
            if word in _COPY_VALUED:
                value = next(words, None)
                if word in ("-t", "--target-directory"):
                    directory = value
            elif word.startswith("--target-directory="):
                directory = word.split("=", 1)[1]
            elif not word.startswith("-") or word == "-":
                positional.append(word)
        if directory is not None and len(positional) == 1:
            positional.append(directory.rstrip("/") + "/")
        if len(positional) != 2:
            return
        source, target = positional
        found = _WHICH.fullmatch(source)
        if found is not None:
            source = found.group(1)  # `cp $(which ssh) /tmp/x`: the program itself
        if not _PLAIN_PATH.fullmatch(source) or not _PLAIN_PATH.fullmatch(target):
            return
        target_key = self.session.absolute(target)
        if target.endswith("/") or target_key in _DIRECTORIES:
            target_key = posixpath.join(target_key, posixpath.basename(source.rstrip("/")))
        content = self.session.lookup(source) if self.session.may_hold else None
        if content is None:
            if found is not None:
                origin = source
            elif cmd.name == "ln" and not source.startswith("/"):
                origin = posixpath.normpath(posixpath.join(posixpath.dirname(target_key), source))
            else:
                origin = self.session.absolute(source)
            content = f"#!/bin/sh\nexec {origin} \"$@\"\n"
        self.session.remember(target_key, content)


_RELEASE_ASSET = re2.compile(r"([a-z][a-z0-9]*(?:[-_][a-z][a-z0-9]*)*?)[-_](?:v?[0-9]+(?:\.[0-9]+)*[-_])?"
                             r"(?:linux|darwin|freebsd)(?:[-_](?:amd64|x86_64|x64|arm64|aarch64|386|i386|i686|armv?[0-9]*))?")
"""A binary named as projects name their release downloads, tool, version, system and architecture
(`chisel_1.9.1_linux_amd64`, `frpc-linux-arm64`): run, it is the tool."""
_BRACE_NODES = frozenset({"command_name", "word", "concatenation", "brace_expression"})
MAX_ALIASES = 256
MAX_PIPED_FILES = 64
MAX_XARGS = 16
MAX_XARGS_WORDS = 256
_XARGS_VALUED = frozenset("IdLnPsaE")
"""xargs's short options that take a value: the rest of their cluster, or the next word."""
_XARGS_OPTIONAL = frozenset("ile")
"""Short options whose value, if any, is glued to them (`-i{}`, `-l5`, `-eEOF`)."""
_XARGS_LONG_VALUED = frozenset({"--arg-file", "--delimiter", "--max-args", "--max-procs", "--max-chars",
                                "--process-slot-var"})


def _xargs_options(options: list[str]) -> list[tuple[str, str | None]]:
    """xargs's options as (option, value) pairs, clusters taken apart as GNU getopt does:
    `-0I{}` is ("0", None), ("I", "{}"); `-0I {}` the same; long ones keep their dashes."""
    out: list[tuple[str, str | None]] = []
    index = 0
    while index < len(options):
        word = options[index]
        index += 1
        if word.startswith("--"):
            key, sep, value = word.partition("=")
            if not sep and key in _XARGS_LONG_VALUED and index < len(options):
                value, sep = options[index], "="
                index += 1
            out.append((key, value if sep else None))
            continue
        for at, flag in enumerate(word[1:], start=1):
            rest = word[at + 1:]
            if flag in _XARGS_VALUED:
                if not rest and index < len(options):
                    rest = options[index]
                    index += 1
                out.append((flag, rest))
                break
            if flag in _XARGS_OPTIONAL:
                out.append((flag, rest or None))
                break
            out.append((flag, None))
    return out


_EXPECT_RUN = re2.compile(
    r"(?m)(?:^|[;\[{])[ \t]*(?:spawn|exp_spawn|exec|system)[ \t]+"
    r"(?:(?:-ignore[ \t]+\S+|-[a-z]+|--)[ \t]+)*((?:[^;\n\]{}]|\{[^{}\n]*\})+)")
"""An expect (Tcl) script's `spawn CMD ARGS`, `exec CMD ARGS` and `system CMD` (run by sh): the programs
it runs and talks to, past spawn's and exec's options (-noecho, -ignore SIGNAL, --); a `{...}` word (Tcl's
quotes) may hold `;`, an unmatched `}` closes a block around the command."""
_EXPECT_SEND = re2.compile(r'(?m)(?:^|[;\[{])[ \t]*(?:send|exp_send)[ \t]+(?:-[a-z]+[ \t]+)*"((?:[^"\\\n]|\\.)*)"')
"""`send "TEXT"`: what the script types into what it spawned; a shell or ssh runs it."""
MAX_EXPECT_COMMANDS = 64
"""Commands and sends read of one expect script; past them the walk says it stopped (cut_short)."""
MAX_SCRIPTS_FOLLOWED = 64
"""Job and expect scripts one walk reads for directives or commands: each once."""


def _expect_scripts(args: list[str], stdin: str | None, session: Session | None) -> list[str]:
    """What an expect command runs: its -c strings, and its script (a file the session wrote, or its
    input for `expect -` or no script). -D, -f and -b take a value (-f and -b a script)."""
    scripts, script_named = [], False
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("-c", "-D", "-f", "-b") and index + 1 < len(args):
            value = args[index + 1]
            if arg == "-c":
                scripts.append(value)
            elif arg in ("-f", "-b"):
                script_named = True
                content = session.lookup(value) if session is not None and value != "-" else None
                if content is not None:
                    scripts.append(content)
            index += 2
            continue
        if arg.startswith("-c") and len(arg) > 2:
            scripts.append(arg[2:])
        elif arg == "-":
            script_named = True
            if stdin is not None:
                scripts.append(stdin)
        elif not arg.startswith("-"):
            script_named = True
            content = session.lookup(arg) if session is not None else None
            if content is not None:
                scripts.append(content)
            break  # the rest are the script's own arguments
        index += 1
    if not script_named and not scripts and stdin is not None:
        scripts.append(stdin)
    return scripts


def _expect_commands(script: str) -> tuple[list[str], list[str], bool]:
    """An expect script's command lines (spawn, exec, system), what it sends, and whether all were
    read (at most MAX_EXPECT_COMMANDS of each)."""
    script = script[:MAX_TEXT]
    runs = list(islice(_EXPECT_RUN.finditer(script), MAX_EXPECT_COMMANDS + 1))
    sends = list(islice(_EXPECT_SEND.finditer(script), MAX_EXPECT_COMMANDS + 1))
    lines = [_tcl_words(m.group(1)) for m in runs[:MAX_EXPECT_COMMANDS]]
    sent = [m.group(1).replace("\\r", "\n").replace("\\n", "\n") for m in sends[:MAX_EXPECT_COMMANDS]]
    return lines, sent, len(runs) <= MAX_EXPECT_COMMANDS and len(sends) <= MAX_EXPECT_COMMANDS


def _tcl_words(line: str) -> str:
    """A Tcl command line as a shell reads it: cut at a `}` that closes a block around it (`if {1} {
    exec nc ... }`), and `{...}` (Tcl's quotes) as single quotes."""
    depth = 0
    for at, ch in enumerate(line):
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                line = line[:at]
                break
            depth -= 1
    return line.replace("{", "'").replace("}", "'").strip()


_TEST_LEAVES = frozenset({"word", "string", "raw_string", "concatenation", "simple_expansion", "expansion", "number",
                          "test_operator", "ansi_c_string", "translated_string", "regex", "extglob_pattern",
                          "command_substitution", "process_substitution", "arithmetic_expansion"})
_TEST_TOKENS = frozenset({"=", "==", "!=", "<", ">", "=~", "!", "&&", "||"})
"""A test expression's leaf nodes and operator tokens: its words, as `test` is given them (_Walk.test_words)."""
MAX_TEST_WORDS = 64


def _first_operand(args: list[str], valued: set) -> int | None:
    """Where a wrapper's first word that is no option (nor an option's value) is, if it has one."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            return index + 1 if index + 1 < len(args) else None
        if not arg.startswith("-") or arg == "-":
            return index
        index += 2 if _takes_next(arg, valued) else 1
    return None


def _directive_words(script: str, prefix: str) -> tuple[list[str], bool]:
    """The option words of a batch script's directive lines (`#SBATCH --gres=gpu:8 -p a100`), read up
    to its first command as the schedulers read them (lines end at a newline only; a word beginning
    with # begins a comment), and whether all were read (at most MAX_DIRECTIVE_BYTES of them)."""
    words: list[str] = []
    budget = MAX_DIRECTIVE_BYTES
    lines = script.split("\n")
    for line in lines[1 if script.startswith("#!") else 0:]:
        line = line.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        if not line.startswith(prefix) or line[len(prefix):len(prefix) + 1] not in (" ", "\t"):
            continue
        budget -= len(line)
        if budget < 0:
            return words, False
        options = line[len(prefix):]
        try:
            found = shlex.split(options)
        except ValueError:  # unbalanced quotes
            found = options.split()
        for word in found:
            if word.startswith("#"):
                break
            words.append(word)
    return words, True


def _option_value(arg: str, following: str | None, short: frozenset | str, long: tuple,
                  plain: frozenset | str) -> tuple[str | None, int] | None:
    """What an option word gives one of the `short` options (letters, after any of the value-less
    `plain` ones in a cluster: `-qc CMD`, `-cCMD`) or `long` ones (`--command CMD`, `--command=CMD`):
    (the value, how many words it and its option take), the value None where the next word is
    missing; None where the word is no such option."""
    if arg in long:
        return following, 2
    for flag in long:
        if arg.startswith(flag + "="):
            return arg[len(flag) + 1:], 1
    if arg[:1] != "-" or arg[1:2] == "-":
        return None
    for position, flag in enumerate(arg[1:], start=1):
        if flag in short:
            glued = arg[position + 1:]
            return (glued, 1) if glued else (following, 2)
        if flag not in plain:
            return None
    return None


def _code_string(name: str, args: list[str]) -> tuple[bool, str | None]:
    """(whether a command string is given, the string) for `su -c CMD`, `script -qc CMD`,
    `runuser -l u -c CMD`, `flock F -c CMD`, `--command=CMD`, `-cCMD`."""
    flags = _CODE_STRING_FLAGS[name]
    short = frozenset(flag[1] for flag in flags if len(flag) == 2)
    long = tuple(flag for flag in flags if flag.startswith("--"))
    plain = _CLUSTER_FLAGS.get(name, frozenset())
    for at, arg in enumerate(args):
        if arg == "--":
            return False, None
        given = _option_value(arg, args[at + 1] if at + 1 < len(args) else None, short, long, plain)
        if given is not None:
            return True, given[0]
    return False, None


_SAFE_WORD = re2.compile(r"[A-Za-z0-9_@%+=:,./-]+")


def _shell_line(words: list[str]) -> str:
    """Words as a command line that reading as shell splits back into them."""
    return " ".join(_shell_quote(word) for word in words)


def _shell_quote(word: str) -> str:
    """A word quoted so that reading it as shell gives it back."""
    if word and _SAFE_WORD.fullmatch(word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"
MAX_ARRAY = 256
MAX_LOOP_LINES = 256
MAX_LOOP_INPUT = MAX_TEXT
"""A `while read` loop's body is read once for each of at most this many distinct lines of its input
(the last time with the rest of them, which `eval "$VAR"` runs line by line), within the walk's
budget (MAX_LOOP_READING)."""
MAX_LOOP_READING = 256 * 1024
"""Per walk, the bytes of loop bodies read with a line or word bound (each reading counts at least 64)."""
MAX_FOR_WORDS = 64
"""A `for` loop's body is read once for each of at most this many distinct words (the last time with
the rest of them, one a line, which `eval "$VAR"` runs one by one), within the walk's own budget for
`for` bodies (MAX_FOR_READING)."""
MAX_FOR_READING = 32 * 1024
"""Per walk, the bytes of `for` bodies read with a word bound (each reading counts at least 64): a
budget of its own, so that cheap `for` loops cannot leave `while read` loops unread, or the reverse."""
MAX_LOOP_COMMANDS = MAX_COMMANDS // 2
"""Loop bodies are read again (per record, per word) only while the walk holds fewer commands than
this: half of MAX_COMMANDS is kept for the rest of the text, which loops nested to multiply their
readings would otherwise push out."""
MAX_WORD = 64 * 1024
"""A word or variable value is cut here: `y=$y$y` in a loop doubles it on every pass."""
_READ_VALUED = frozenset("adinNptu")
_NAME = re2.compile(r"[A-Za-z_][A-Za-z0-9_]*")
"""Options of `read` that take a value (-d DELIM, -p PROMPT, ...)."""


def _read_spec(condition: Node) -> tuple[list[str], str | None, str] | None:
    """What a loop's `read` condition (alone, or first in a list: `read -r l || [ -n "$l" ]`) sets:
    its variables (REPLY where it names none), the IFS it splits with (None: the default white space;
    "": no splitting), and the delimiter that ends a record (-d; '' is NUL). None when the
    condition is no `read`."""
    if condition.type == "list" and condition.named_children:
        condition = condition.named_children[0]
    if condition.type != "command":
        return None
    name = condition.child_by_field_name("name")
    if name is None or _text(name) != "read":
        return None
    ifs = None
    for child in condition.named_children:
        if child.type == "variable_assignment":
            assigned = child.child_by_field_name("name")
            if assigned is not None and _text(assigned) == "IFS":
                value = child.child_by_field_name("value")
                ifs = _literal(_text(value)) if value is not None else ""
    words = [_text(a) for a in condition.children_by_field_name("argument")]
    names: list[str] = []
    delimiter = "\n"
    wanted = ""
    for word in words:
        if wanted:
            if wanted == "d":
                delimiter = _literal(word)[:1] or "\x00"
            elif wanted == "a" and _NAME.fullmatch(word):
                names.append(word)
            wanted = ""
        elif word.startswith("-") and len(word) > 1:
            letters = word[1:]
            for i, letter in enumerate(letters):
                if letter in _READ_VALUED:
                    value = letters[i + 1:]
                    if not value:
                        wanted = letter  # `-d ''`, `-p PROMPT`: the value is the next word
                    elif letter == "d":
                        delimiter = _literal(value)[:1] or "\x00"
                    elif letter == "a" and _NAME.fullmatch(value):
                        names.append(value)
                    break
        elif _NAME.fullmatch(word):
            names.append(word)
    return names or ["REPLY"], ifs, delimiter


def _literal(word: str) -> str:
    """A word's value where it is a plain literal: `''`, `','`, `"x"`, `$'\\t'` (escapes read), `x`."""
    if len(word) >= 3 and word[:2] == "$'" and word[-1] == "'":
        return decode.ansi_c_string(word[2:-1])
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "'\"":
        return word[1:-1]
    return word


def _bind_read(names: list[str], ifs: str | None, record: str, env: dict) -> None:
    """Set the variables as `read` does for one record: a field each, the rest of the record in the
    last. IFS white space is trimmed at the ends and runs of it separate once; each other IFS character
    separates one field from the next."""
    if ifs == "":
        fields = [record]
    else:
        blank = " \t\n" if ifs is None else "".join(c for c in ifs if c in " \t\n")
        hard = "" if ifs is None else "".join(c for c in ifs if c not in " \t\n")
        fields = _read_fields(record.strip(blank) if blank else record, blank, hard, len(names))
    for i, name in enumerate(names):
        env[name] = fields[i] if i < len(fields) else ""


def _read_fields(text: str, blank: str, hard: str, count: int) -> list[str]:
    """At most `count` fields of `text`, the last holding the rest unsplit."""
    fields: list[str] = []
    start = i = 0
    while i < len(text) and len(fields) < count - 1:
        c = text[i]
        if c in hard or c in blank:
            fields.append(text[start:i])
            i += 1
            while i < len(text) and text[i] in blank:
                i += 1
            if c in blank and i < len(text) and text[i] in hard:
                i += 1
                while i < len(text) and text[i] in blank:
                    i += 1
            start = i
        else:
            i += 1
    fields.append(text[start:])
    return fields


_POSITIONAL = frozenset("123456789")
MAX_BRACE_WORDS = 64
MAX_BRACES = 16


_IFS = re2.compile(r"\$\{IFS\}|\$IFS\b")
_COMMAND_BRACES = re2.compile(r"(^|[;&|(\n][ \t]*|(?:^|\s)(?:then|do|else|time|!)[ \t]+)(\{[^\s;|&<>()'\"$\\`]*\})")
"""A brace word where a command starts (`{curl,http://x}|{bash,}`): bash expands it into words, while
tree-sitter reads its `{` as the start of a group and gives up."""


def _expand_command_braces(match) -> str:
    word = match.group(2)
    words = brace_expand(word)
    return match.group(1) + (" ".join(words) if words != [word] else word)


def _builtin_assignments(words: list[str], stdin: str | None, env: dict[str, str], ifs: str | None = None) -> list[str]:
    """Builtins that set variables from text: `printf -v x FORMAT ...` and `read x y <<< TEXT`
    (its fields split on `ifs` when it is set, as `IFS=: read a b`). The names set."""
    if len(words) >= 4 and words[0] == "printf" and words[1] == "-v":
        value = decode.output_of("printf", words[3:], None)
        if value is not None:
            env[words[2]] = value[:MAX_WORD]
            return [words[2]]
    elif words[0] == "read" and stdin is not None:
        names = [w for w in words[1:] if not w.startswith("-")]
        if names and all(n.replace("_", "").isalnum() for n in names):
            _bind_read(names, ifs, stdin.split("\n", 1)[0], env)
            return [n for n in names if n in env]
    return []


_RUN_BY_THE_SHELL = frozenset({"PROMPT_COMMAND", "PS0", "PS1"})


def _substitutions(value: str) -> str:
    """The commands of a prompt string's `$(...)` and backquoted parts, a line each: what expanding
    it runs (one level: a substitution holding parentheses is taken as far as the first `)`)."""
    return "\n".join(a or b for a, b in _PROMPT_SUBSTITUTION.findall(value))


_PROMPT_SUBSTITUTION = re.compile(r"\$\(([^()]*)\)|`([^`]*)`")
_STDIN_FILES = frozenset({"/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})
"""Names of a process's own input: a shell or `source` given one runs what it is fed."""
ASSUMED_ENVIRONMENT = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "SHELL": "/bin/bash"}
"""Values taken for variables the reading never saw set, where an operation cuts characters out of
them (`${PATH:0:1}`, `${SHELL:5}`), as obfuscators do to write `/` and `bash` without writing
them: the default PATH of Debian's and Docker's root shells, and bash. Used as such (`$PATH`) they
stay as written."""


def _parameter_operation(node: Node, name: Node, value: str) -> str | None:
    """`${name<op>...}` applied to a known value, as bash does for the forms agents use to hide a
    word: substrings (`${a:0:2}`), literal replacement (`${a/x/}`, `${a//x/y}`), prefix and suffix
    removal (`${a#x}`, `${a%%x}`), case (`${a,,}`, `${a^^}`) and defaults. None when the form is
    not one of these (the value is then taken as it is)."""
    after = node.children[node.children.index(name) + 1:-1] if name in node.children else []
    if not after:
        return value
    op = after[0].type
    rest = [_text(c) for c in after[1:]]
    if op == ":" and rest:
        if rest[0] == ":":
            rest = ["0", *rest]  # `${a::1}`: an empty offset is 0
        numbers = [r for r in rest if r != ":"]
        try:
            offset = int(numbers[0].strip())
            length = int(numbers[1].strip()) if len(numbers) > 1 else (0 if rest[-1] == ":" else None)
        except (ValueError, IndexError):
            return None
        start = max(0, len(value) + offset) if offset < 0 else offset
        if length is None:
            return value[start:]
        return value[start:len(value) + length] if length < 0 else value[start:start + length]
    if op in ("/", "//"):
        pattern = rest[0] if rest and rest[0] != "/" else ""
        replacement = rest[-1] if len(rest) >= 2 and rest[-2] == "/" else ""
        if not pattern or any(ch in pattern for ch in "*?["):
            return None
        return value.replace(pattern, replacement, -1 if op == "//" else 1)
    if op in ("#", "##", "%", "%%"):
        pattern = "".join(rest)
        if any(ch in pattern for ch in "*?["):
            return None
        if op.startswith("#"):
            return value[len(pattern):] if value.startswith(pattern) else value
        return value[:-len(pattern)] if pattern and value.endswith(pattern) else value
    case = {",,": str.lower, "^^": str.upper, ",": lambda v: v[:1].lower() + v[1:],
            "^": lambda v: v[:1].upper() + v[1:]}.get(op)
    if case is not None and not rest:
        return case(value)
    if op in (":-", "-", ":=", "="):
        return value if (value or op in ("-", "=")) else "".join(rest)
    if op in (":+", "+"):
        return "".join(rest) if (value or op == "+") else ""
    return None


_EXPANDING = frozenset({"simple_expansion", "expansion", "command_substitution", "process_substitution",
                        "arithmetic_expansion"})


def _expands(node: Node) -> bool:
    """Whether a word holds an expansion: its value is then computed, not written."""
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type in _EXPANDING:
            return True
        stack.extend(current.named_children)
    return False


_DEFAULT_OPERATORS = frozenset({"-", ":-", "=", ":="})
_GLUABLE = frozenset({"word", "concatenation", "command_substitution", "string", "raw_string", "number",
                      "simple_expansion", "expansion", "ansi_c_string"})




def _unset(node: Node) -> str:
    """`${x}` of a variable the reading never saw set: as written (`$HOME/x`, `/srv/${DIR}/x` tell
    the reader more so), except glued between letters or digits inside a word (`cu${x}rl`), where
    it splits a name: there it is what the shell in which nothing set it makes of it, nothing."""
    before, after = node.prev_sibling, node.next_sibling
    if (node.parent is not None and node.parent.type == "concatenation" and before is not None
            and after is not None and before.text[-1:].isalnum() and after.text[:1].isalnum()):
        return ""
    return _text(node)


_QUOTED_IN_DOUBLE_QUOTES = re.compile(r'\\([$`"\\\n])')


def _in_double_quotes(text: str) -> str:
    """Text between double quotes as bash reads it: a backslash quotes `$`, a backquote, `"`, a
    backslash or a newline (removed with it) and is kept before anything else (`"\\$(id)"` is
    `$(id)` to an eval, `"a\\nb"` stays a backslash and n)."""
    if "\\" not in text:
        return text
    return _QUOTED_IN_DOUBLE_QUOTES.sub(lambda m: "" if m.group(1) == "\n" else m.group(1), text)


class _Capped:
    """Pieces of a word (or here-document), joined up to `limit` characters: each piece is still
    computed (a command substitution in it is read), but what would pass the bound is not kept."""

    __slots__ = ("parts", "size", "limit")

    def __init__(self, limit: int = MAX_WORD) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit

    def append(self, piece: str) -> None:
        if self.size < self.limit:
            self.parts.append(piece)
            self.size += len(piece)

    def text(self) -> str:
        joined = "".join(self.parts)
        return joined if self.size <= self.limit else joined[:self.limit]


def _unquoted_expansion(node: Node) -> bool:
    """`$x` or `${x}` standing alone as a word (or as the command's name), outside quotes."""
    if node.type == "command_name" and node.named_child_count == 1:
        node = node.named_children[0]
    return node.type in ("simple_expansion", "expansion")


MAX_FIELDS = 256
MAX_FUNCTIONS = 256


def _split_ifs(value: str, ifs: str | None) -> list[str]:
    """Field splitting of an expansion's value: on IFS's characters (space, tab and newline when it
    is unset), empty fields dropped; an empty IFS splits nothing. At most MAX_FIELDS fields."""
    if ifs is None:
        ifs = " \t\n"
    if not ifs or not any(ch in value for ch in ifs):
        return [value]
    fields = [field for field in _ifs_fields(value, ifs) if field]
    if len(fields) > MAX_FIELDS:
        fields = fields[:MAX_FIELDS - 1] + [" ".join(fields[MAX_FIELDS - 1:])]
    return fields or [value]


def _ifs_fields(text: str, ifs: str, most: int = -1) -> list[str]:
    """`text` cut at each of IFS's characters (at most `most` times, the rest in the last field),
    empty fields kept: `read`'s fields, and what `_split_ifs` keeps of them."""
    sep = ifs[0]
    if len(ifs) > 1:
        text = text.translate({ord(ch): sep for ch in ifs[1:]})
    return text.split(sep, most)


def _has_braces(node: Node) -> bool:
    """A word bash would brace-expand (`{cat,/etc/passwd}`, `cu{rl,}`): braces with a comma or
    `..` inside, and nothing quoted or expanded that this simple reading would get wrong."""
    raw = node.text
    return (b"{" in raw and b"}" in raw and (b"," in raw or b".." in raw) and len(raw) <= 4096
            and raw.count(b"{") <= MAX_BRACES
            and not any(ch in raw for ch in (b"'", b'"', b"$", b"\\", b"`")))


MAX_FIND_ROOTS = 4


def _find_roots(args: list[str]) -> list[str]:
    """find's starting points: the words before its first test or option (`.` where none is given),
    at most MAX_FIND_ROOTS."""
    roots = []
    for arg in args:
        if arg in ("-H", "-L", "-P") and not roots:
            continue  # how it follows links, before the starting points
        if arg.startswith(("-", "!", "(", ")")):
            break
        roots.append(arg)
    return roots[:MAX_FIND_ROOTS] or ["."]


def _find_name(args: list[str]) -> str | None:
    """The pattern of find's one -name/-iname test when it is neither negated nor one of several."""
    tests = [i for i, a in enumerate(args) if a in ("-name", "-iname")]
    if len(tests) != 1 or "-o" in args or "-or" in args or tests[0] + 1 >= len(args):
        return None
    at = tests[0]
    if at and args[at - 1] in ("!", "-not"):
        return None
    name = args[at + 1]
    return name if name and "/" not in name else None


_EXPANSION_BRACES = re2.compile(r"\$\{[^{}]*\}")


def _braces_beside_expansions(node: Node) -> bool:
    """A word with both a brace expansion and a variable (`${f}{rsa,dsa}`, `$d/{a,b}`, `{$a,$b}`):
    read by expanding the variables, then the braces (a value holding braces is expanded too, which
    bash does not do: more words, never fewer)."""
    raw = node.text
    if b"$" not in raw or b"{" not in raw or len(raw) > 4096 or raw.count(b"{") > MAX_BRACES or any(
            ch in raw for ch in (b"'", b'"', b"\\", b"`", b"$(")):
        return False
    rest = _EXPANSION_BRACES.sub("", raw.decode("utf-8", "surrogatepass"))
    return "{" in rest and "}" in rest and ("," in rest or ".." in rest)


def brace_expand(word: str, limit: int = MAX_BRACE_WORDS) -> list[str]:
    """Bash's brace expansion of one unquoted word: `{a,b}c` gives ac and bc, `{1..3}` 1, 2, 3,
    `{x,}` x (an empty result is dropped). At most `limit` words; a brace without a comma or a
    range stays as written, and so does a word with more than MAX_BRACES braces or 4 KB."""
    if len(word) > 4096 or word.count("{") > MAX_BRACES:
        return [word]
    out: list[str] = []
    for item in _brace(word, limit):
        if item:
            out.append(item)
        if len(out) >= limit:
            break
    return out or [word]


def _brace(word: str, limit: int) -> list[str]:
    """(Recurses once per brace group: brace_expand lets through words of MAX_BRACES at most.)"""
    depth, start = 0, -1
    for i, ch in enumerate(word):
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                body = word[start + 1:i]
                choices = _brace_choices(body)
                if choices is None:
                    continue  # `{}` or `{x}`: literal; look further on
                rests = _brace(word[i + 1:], limit)
                out: list[str] = []
                for choice in choices:
                    for head in _brace(word[:start] + choice, limit):
                        for rest in rests:
                            out.append(head + rest)
                            if len(out) >= limit:
                                return out
                return out
    return [word]


def _brace_choices(body: str) -> list[str] | None:
    parts, depth, begin = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "{":
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[begin:i])
            begin = i + 1
    if parts:
        return [*parts, body[begin:]]
    ends = body.split("..")
    if len(ends) == 2 and ends[0] and ends[1]:
        a, b = ends
        if a.lstrip("-").isdigit() and b.lstrip("-").isdigit():
            lo, hi = int(a), int(b)
            step = 1 if hi >= lo else -1
            if abs(hi - lo) < MAX_BRACE_WORDS:
                return [str(n) for n in range(lo, hi + step, step)]
        elif len(a) == 1 and len(b) == 1 and a.isalpha() and b.isalpha():
            step = 1 if ord(b) >= ord(a) else -1
            return [chr(c) for c in range(ord(a), ord(b) + step, step)]
    return None


_COPIES = frozenset({"cp", "ln", "install", "mv"})
_FILE_DECODERS = frozenset({"base64", "rev", "xxd", "tac"})
_FILE_FILTERS = frozenset({"awk", "gawk", "mawk", "nawk", "grep", "egrep", "fgrep", "head", "tail", "cut"})
"""Filters whose last word may be the one file they read instead of stdin (each reads the words before
it alone, and gives up on a second file). Not tr, which takes no file, nor uniq, whose second file
is its output."""
"""Decoders whose one non-option argument is the file they read instead of stdin."""
_PLAIN_PATH = re2.compile(r"~?[A-Za-z0-9_./+@%-]{1,512}")
_WHICH = re2.compile(r"(?:\$\(|`)(?:which|command -v|type -[pP]) +([A-Za-z0-9_.+-]{1,64})(?:\)|`)")
_COPY_VALUED = frozenset({"-m", "--mode", "-o", "--owner", "-g", "--group", "-S", "--suffix", "-t",
                          "--target-directory", "-Z", "--context"})
"""Options of cp, install, ln and mv that take a value (the next word is not a path)."""
_DIRECTORIES = frozenset({"/tmp", "/var/tmp", "/dev/shm", "/usr/bin", "/usr/local/bin", "/bin", "/sbin",
                          "/usr/sbin", "/root", "/etc/init.d", "/etc/cron.d", "/etc/profile.d"})
"""Where a copy lands inside: these are directories on every Linux host."""

_SSH_FLAGS = frozenset("46AaCfGgKkMNnqsTtVvXxYy")
"""ssh's options without a value, which may come clustered before -F (`ssh -qF cfg`)."""
_SSH_CONFIG_KEYS = frozenset({"remoteforward", "localforward", "dynamicforward", "proxycommand", "localcommand",
                              "permitlocalcommand", "proxyjump", "tunnel", "tunneldevice", "gatewayports",
                              "knownhostscommand"})
"""ssh_config(5) directives that open a tunnel or run a command, carried from a config file."""
_RUNS_OPTION_COMMANDS = frozenset({"git", "rsync", "scp", "sftp"})
_GIT_COMMAND_KEYS = ("core.sshcommand", "core.pager", "core.editor", "core.fsmonitor", "sequence.editor",
                     "diff.external", "core.askpass", "gpg.program")
"""git -c settings whose value git runs as a command (git-config(1)); `alias.X=!cmd` and
`credential.helper=!cmd` run theirs in a shell too."""


def _is_config_flag(word: str) -> bool:
    """Whether an ssh word is -F, alone, with its value (`-Fcfg`) or after value-less flags (`-qF`)."""
    if word[:1] != "-" or word[1:2] == "-" or "F" not in word:
        return False
    return set(word[1:word.index("F")]) <= _SSH_FLAGS


def _ssh_options(words: list[str]) -> list[tuple[str, str]]:
    """(lowercased key, value) of each -o option: `-o K=V`, `-oK=V`, `-o 'K V'`."""
    out = []
    for i, word in enumerate(words):
        if word == "-o" and i + 1 < len(words):
            option = words[i + 1]
        elif word.startswith("-o") and len(word) > 2:
            option = word[2:]
        else:
            continue
        key, sep, value = option.partition("=")
        if not sep:
            key, _, value = option.strip().partition(" ")
        out.append((key.strip().lower(), value.strip()))
    return out


def _ssh_config(content: str) -> list[tuple[str, str]]:
    """(lowercased key, value) of each `Key value` or `Key=value` line of an ssh_config(5) text."""
    out = []
    for line in content.splitlines()[:1024]:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or len(key.split()) > 1:
            parts = line.split(None, 1)  # `Key value`, a space or a tab between
            key, value = parts[0], parts[1] if len(parts) > 1 else ""
        out.append((key.strip().lower(), value.strip().strip('"')))
    return out


def _option_commands(name: str, args: list[str], env: dict) -> list[str]:
    """Command lines a program runs from its options or environment: `rsync -e 'ssh -R ...'`,
    `git -c core.sshCommand='...'`, `git -c alias.x='!...'` (and such a setting stored with `git
    config`, run when it is used), GIT_SSH_COMMAND, RSYNC_RSH, and for
    scp/sftp `-o ProxyCommand=...` (they clear forwardings, but run the proxy command)."""
    out: list[str] = []
    if name == "rsync":
        for i, arg in enumerate(args):
            if arg == "--rsh" and i + 1 < len(args):
                out.append(args[i + 1])
            elif arg.startswith("--rsh="):
                out.append(arg[6:])
            elif arg[:1] == "-" and arg[1:2] not in ("-", ""):
                value = _rsync_rsh(arg, args[i + 1] if i + 1 < len(args) else None)
                if value is not None:
                    out.append(value)
        if env.get("RSYNC_RSH"):
            out.append(env["RSYNC_RSH"])
    elif name == "git":
        for i, arg in enumerate(args):
            setting = args[i + 1] if arg == "-c" and i + 1 < len(args) else arg[2:] if arg.startswith("-c") else None
            if setting is None or "=" not in setting:
                continue
            key, _, value = setting.partition("=")
            key = key.lower()
            if key in _GIT_COMMAND_KEYS:
                out.append(value)
            elif (key.startswith("alias.") or key == "credential.helper") and value.startswith("!"):
                out.append(value[1:])
        for i, arg in enumerate(args):
            # `--config-env=core.sshCommand=VAR`: the setting's value is what VAR holds
            setting = (args[i + 1] if arg == "--config-env" and i + 1 < len(args)
                       else arg[len("--config-env="):] if arg.startswith("--config-env=") else None)
            if setting is None or "=" not in setting:
                continue
            key, _, variable = setting.partition("=")
            value = env.get(variable)
            if value and key.lower() in _GIT_COMMAND_KEYS:
                out.append(value)
            elif value and (key.lower().startswith("alias.") or key.lower() == "credential.helper") \
                    and value.startswith("!"):
                out.append(value[1:])
        for key in ("GIT_SSH_COMMAND", "GIT_PAGER", "GIT_EDITOR", "GIT_ASKPASS"):
            if env.get(key):
                out.append(env[key])
        words = [a for a in args if not a.startswith("-")]
        if words[:1] == ["config"] and len(words) >= 3 and "--file" not in args and "-f" not in args:
            # `git config [--global] alias.x '!CMD'`: what git runs when the setting is used later
            key, value = words[1].lower(), words[2]
            if key in _GIT_COMMAND_KEYS:
                out.append(value)
            elif (key.startswith("alias.") or key == "credential.helper") and value.startswith("!"):
                out.append(value[1:])
    else:  # scp, sftp
        out.extend(v for k, v in _ssh_options(args) if k == "proxycommand" and v.lower() != "none")
    return out


_NO_NAMES = frozenset({"", ".", "..", "~", "*"})
MAX_SENT_WORDS = 256
_NOT_IN_PATHS = str.maketrans({ch: " " for ch in ";&|()<>'\"`=,"})
"""Shell punctuation that ends a path in a command line (`cd app;`, `--dir=app`), as white space."""


_DIRECTORY_NAMES = frozenset({"tmp", "var", "opt", "srv", "home", "root", "usr", "local", "mnt", "data", "shm",
                              "dev", "etc", "run", "media", "scratch", "work", "workspace", "share", "ubuntu"})
"""Directories a copy is commonly sent into without a trailing slash (`scp f host:/tmp`): not a new name."""


def _sent_names(source: str, destination: str) -> tuple[str, ...]:
    """The lowercased base names a file sent from `source` may go by on the remote side: its own and,
    where one file goes to a destination not written as a directory, the destination's."""
    names = {posixpath.basename(source.rstrip("/")).lower()}
    if destination and not destination.endswith("/"):
        renamed = posixpath.basename(destination).lower()
        if renamed not in _DIRECTORY_NAMES:
            names.add(renamed)
    return tuple(sorted(names - _NO_NAMES))


def copy_names(words: list[str]) -> tuple[str, ...]:
    """The names (`_sent_names`) of what the scp and rsync commands among a text's words (split on
    white space, as written) send to another host, for a text the engine passes over to name."""
    out: dict[str, None] = {}
    for index, word in enumerate(words):
        if posixpath.basename(word) in ("scp", "rsync"):
            args = []
            for arg in words[index + 1:index + 1 + MAX_SENT_WORDS]:
                if arg in (";", "&&", "||", "|", "&") or arg.endswith(";"):
                    if arg.endswith(";") and len(arg) > 1:
                        args.append(arg[:-1])
                    break
                args.append(arg)
            copy = copied_to_host(posixpath.basename(word), args)
            if copy is not None:
                for source in copy[1]:
                    out.update(dict.fromkeys(_sent_names(source, copy[2] if len(copy[1]) == 1 else "")))
    return tuple(out)


def _ssh_host(ssh: Cmd) -> str:
    """The host an ssh command connects to, lowercased ('' where none is read)."""
    endpoints = ssh.endpoints
    return (endpoints[0].host or "").lower() if endpoints else ""


_SFTP_VALUED = frozenset({"-b", "-B", "-c", "-D", "-F", "-i", "-J", "-l", "-o", "-P", "-R", "-S", "-X"})
_STDIN_KEEPERS = frozenset({"cat", "tee", "dd", "gunzip", "zcat", "gzip", "bunzip2", "bzip2", "xz", "unxz",
                            "zstd", "unzstd", "base64", "sponge"})
"""Programs that, given no file of their own, write what they are fed (decoded or not) where they are told."""


def _streamed_into(cmds: list[Cmd], via: tuple) -> tuple[str, list[str]] | None:
    """What the commands an ssh runs (`via`: those it runs itself) keep of what the ssh is fed:
    ("write", remote paths) for `cat > P`, `tee P`, `dd of=P`, `gunzip > P`; ("extract", []) for
    `tar x` or `cpio -i` reading their input; None for neither."""
    written: list[str] = []
    for cmd in cmds:
        if cmd.via != via:
            continue
        operands = [a for a in cmd.args if not a.startswith("-") and "=" not in a]
        if cmd.name == "tar" and cmd.args:
            mode, archive, _members = _tar_parts(cmd.args)
            if ("x" in mode or "--extract" in cmd.args or "--get" in cmd.args) and (archive is None or archive in _TAR_STDIN):
                return ("extract", [])
        elif cmd.name == "cpio" and any(a.startswith("-i") or a == "--extract" for a in cmd.args):
            return ("extract", [])
        elif cmd.name in _STDIN_KEEPERS and cmd.writes and (cmd.name in ("tee", "dd") or not operands):
            if cmd.name != "dd" or not any(a.startswith("if=") for a in cmd.args):
                written.extend(cmd.writes)
    return ("write", written) if written else None


_TAR_VALUED = frozenset("fCTXbKNVgFHIL")
_TAR_LONG_VALUED = frozenset({"--file", "--directory", "--exclude", "--files-from", "--exclude-from", "--transform",
                              "--owner", "--group", "--mode", "--mtime", "--use-compress-program", "--blocking-factor",
                              "--label", "--newer", "--newer-mtime", "--volno-file", "--tape-length", "--format",
                              "--checkpoint-action", "--strip-components", "--suffix", "--index-file",
                              "--listed-incremental", "--to-command", "--rsh-command", "--sort", "--owner-map",
                              "--group-map", "--exclude-tag", "--exclude-tag-all", "--exclude-tag-under", "--warning",
                              "--info-script", "--new-volume-script", "--starting-file", "--after-date", "--record-size",
                              "--quoting-style", "--xform"})
_TAR_STDIN = frozenset({"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"})
"""Archive names that are tar's own input or output."""


def _tar_parts(args: list[str]) -> tuple[str, str | None, list[str]]:
    """tar's words as (its mode letters, the archive -f names or None, the members it names), read as
    GNU tar reads them: an old-style first word (`czf - app`) whose valued letters take the words after
    it in turn; a short cluster whose valued letter takes the rest of the cluster (`-Cdir`, `-f-`) or
    the next word; long options with a value (`--file X`, `--file=X`)."""
    mode, archive, members = "", None, []
    pending: list[str] = []
    index = 0
    if not args:
        return mode, archive, members
    if not args[0].startswith("-"):
        mode = args[0]
        pending = [ch for ch in args[0] if ch in _TAR_VALUED]
        index = 1
    while index < len(args):
        arg = args[index]
        index += 1
        if pending:
            if pending.pop(0) == "f" and archive is None:
                archive = arg
        elif arg == "--":
            members.extend(args[index:])  # the end of the options: the rest are names
            break
        elif arg.startswith("--"):
            name, eq, value = arg.partition("=")
            if name in _TAR_LONG_VALUED and not eq:
                value = args[index] if index < len(args) else ""
                index += 1
            if name == "--file" and archive is None:
                archive = value
        elif arg.startswith("-") and len(arg) > 1:
            for at, letter in enumerate(arg[1:], start=1):
                if letter in _TAR_VALUED:
                    value = arg[at + 1:]
                    if not value:
                        value = args[index] if index < len(args) else None
                        index += 1
                    if letter == "f" and archive is None:
                        archive = value
                    break
                mode += letter
        else:
            members.append(arg)
    return mode, archive, members


def _streamed_sources(cmds: list[Cmd]) -> list[str]:
    """The local files a pipeline's stages before an ssh read (`cat run.py`, `gzip -c run.py`, `tar
    czf - app main.py`): what the ssh is fed comes from them."""
    out: list[str] = []
    for cmd in cmds:
        if cmd.name == "tar" and cmd.args:
            out.extend(_tar_parts(cmd.args)[2])
        else:
            out.extend(a for a in [*cmd.args, *cmd.reads] if a[:1] not in ("-", "") and "=" not in a)
    return out[:MAX_SENT_WORDS]


def streamed_names(lowered: str) -> tuple[str, ...]:
    """For a text the engine passes over that may send files over ssh or sftp (fed to ssh, `put` in
    sftp): the base names of the files it names (4 characters or more), which a later command run
    on that host may name."""
    out: dict[str, None] = {}
    for word in lowered.translate(_NOT_IN_PATHS).split()[:MAX_SENT_WORDS]:
        if ("." in word or "/" in word) and "@" not in word and ":" not in word:
            name = posixpath.basename(word.rstrip("/"))
            if len(name) >= 4 and name not in _DIRECTORY_NAMES:
                out[name] = None
    return tuple(out)


_RSYNC_VALUED = frozenset("BfTM@")
"""rsync's short options other than -e that take a value: the rest of a cluster after one is its value."""


def _rsync_rsh(cluster: str, following: str | None) -> str | None:
    """The -e value of a short-option cluster: `-e CMD`, `-avze CMD`, `-e'CMD'` (glued: `-essh ...`)."""
    for index, flag in enumerate(cluster[1:], start=1):
        if flag == "e":
            return cluster[index + 1:] or following
        if flag in _RSYNC_VALUED:
            return None
    return None


_STATEMENTS = frozenset({"command", "pipeline", "list", "redirected_statement", "subshell", "compound_statement",
                         "if_statement", "for_statement", "c_style_for_statement", "while_statement", "case_statement",
                         "function_definition", "declaration_command", "unset_command",
                         "negated_command", "test_command", "comment"})
_STAGES = frozenset({"command", "redirected_statement", "subshell", "compound_statement", "if_statement",
                     "for_statement", "while_statement", "test_command"})


class _Heredoc(NamedTuple):
    """A here-document's redirection on a line: where its delimiter word is, the delimiter (quotes
    removed), whether `<<-` strips tabs, whether the word was quoted."""
    start: int
    end: int
    delimiter: str
    tabs: bool
    quoted: bool


def _scan_line(line: str) -> tuple[list[_Heredoc], list[int]]:
    """A line's here-document redirections, and where it separates list members (`;`, a lone `&`):
    heredocs at the top level or inside `$(...)`, `(...)` and backquotes, not in quotes, `$((...))`,
    `((...))`, `$[...]` or `${...}`; separators at the top level only; up to a comment."""
    heredocs: list[_Heredoc] = []
    cuts: list[int] = []
    stack: list[str] = []
    shifts = 0  # how many open contexts are ones where << is no heredoc: $((, ((, $[, ${
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        top = stack[-1] if stack else ""
        if top == "'":
            if c == "'":
                stack.pop()
            i += 1
            continue
        if top in ('"', "$'"):
            if c == "\\":
                i += 2
                continue
            if c == top[-1]:
                stack.pop()
            elif top == '"' and c == "$" and line[i + 1:i + 2] in ("(", "{", "["):
                opened = _opener(line, i)
                stack.append(opened)
                shifts += opened != "("
                i += 3 if opened == "a" else 2
                continue
            i += 1
            continue
        if c == "\\":
            i += 2
            continue
        if c in "'\"":
            stack.append("$'" if c == "'" and line[i - 1:i] == "$" else c)
        elif c == "`":
            if top == "`":
                stack.pop()
            else:
                stack.append("`")
        elif c == "#" and (i == 0 or line[i - 1] in " \t;&|()"):
            break
        elif c == "$" and line[i + 1:i + 2] in ("(", "{", "["):
            opened = _opener(line, i)
            stack.append(opened)
            shifts += opened != "("
            i += 3 if opened == "a" else 2
            continue
        elif c == "(":
            if line[i + 1:i + 2] == "(":
                stack.append("a")
                shifts += 1
                i += 2
                continue
            stack.append("(")
        elif c == ")":
            if top == "a" and line[i + 1:i + 2] == ")":
                stack.pop()
                shifts -= 1
                i += 2
                continue
            if top in ("(", "a"):
                shifts -= stack.pop() == "a"
        elif c == "]" and top == "[" or c == "}" and top == "{":
            stack.pop()
            shifts -= 1
        elif c == "<" and line[i + 1:i + 2] == "<" and line[i + 2:i + 3] != "<" and line[i - 1:i] != "<":
            if not shifts:
                heredoc = _heredoc_word(line, i + 2)
                if heredoc is not None:
                    heredocs.append(heredoc)
                    i = heredoc.end
                    continue
            i += 2
            continue
        elif not stack and (c == ";" and line[i + 1:i + 2] != ";" or c == "&" and line[i + 1:i + 2] not in ("&", ">")
                            and line[i - 1:i] not in ("&", ">", "<", "|")):
            cuts.append(i)
        i += 1
    return heredocs, cuts


def _opener(line: str, i: int) -> str:
    """What `$` at i opens: "a" for `$((`, "(" for `$(`, "{" for `${`, "[" for `$[`."""
    nxt = line[i + 1:i + 2]
    if nxt == "(" and line[i + 2:i + 3] == "(":
        return "a"
    return nxt


def _heredoc_word(line: str, at: int) -> _Heredoc | None:
    """The delimiter word after `<<` (at `at`): `-` for tab stripping, blanks, then a word whose
    quotes and backslashes are removed for the delimiter (`E'OF'` is EOF)."""
    tabs = line[at:at + 1] == "-"
    i = at + 1 if tabs else at
    while i < len(line) and line[i] in " \t":
        i += 1
    start = i
    out: list[str] = []
    quoted = False
    while i < len(line) and line[i] not in " \t;&|<>()":
        c = line[i]
        if c in "'\"":
            close = line.find(c, i + 1)
            if close < 0:
                return None
            out.append(line[i + 1:close])
            quoted = True
            i = close + 1
        elif c == "\\" and i + 1 < len(line):
            out.append(line[i + 1])
            quoted = True
            i += 2
        elif c in "$`" and not quoted and not out:
            return None  # (`<<$x` is no delimiter bash takes literally; leave it alone)
        else:
            out.append(c)
            i += 1
    delimiter = "".join(out)
    return _Heredoc(start, i, delimiter, tabs, quoted) if delimiter else None


class _Ends:
    """Where a delimiter line is, found in one pass: each line as it is and with leading tabs stripped."""

    def __init__(self, lines: list[str]) -> None:
        self.plain: dict[str, list[int]] = {}
        self.tabbed: dict[str, list[int]] = {}
        for index, line in enumerate(lines):
            self.plain.setdefault(line, []).append(index)
            if line.startswith("\t"):
                self.tabbed.setdefault(line.lstrip("\t"), []).append(index)

    def after(self, heredoc: _Heredoc, line: int) -> int | None:
        """The first line after `line` that ends this here-document (bash: a line equal to the
        delimiter, after leading tabs for `<<-`)."""
        ends = []
        for lines in (self.plain.get(heredoc.delimiter), self.tabbed.get(heredoc.delimiter) if heredoc.tabs else None):
            at = bisect.bisect_right(lines, line) if lines else 0
            if lines and at < len(lines):
                ends.append(lines[at])
        return min(ends) if ends else None


def _heredoc_lines(lines: list[str]):
    """Each line that opens here-documents, as (its index, its heredocs, its separators, the line that
    ends each heredoc: None for one left unterminated, whose body is the rest of the text, and for
    those after it). Their bodies are skipped: a line inside one opens nothing."""
    ends: _Ends | None = None
    i = 0
    while i < len(lines):
        heredocs, cuts = _scan_line(lines[i]) if "<<" in lines[i] else ((), ())
        if not heredocs:
            i += 1
            continue
        ends = ends or _Ends(lines)
        found: list[int | None] = []
        last: int | None = i
        for heredoc in heredocs:
            last = ends.after(heredoc, last) if last is not None else None
            found.append(last)
        yield i, heredocs, cuts, found
        i = len(lines) if last is None else last + 1


def _heredocs_renamed(text: str) -> str | None:
    """tree-sitter-bash ends a here-document at the first line that starts with its delimiter, where
    bash ends it only at a line equal to it: `cat > u.service <<E` stops at `ExecStart=...`, and the
    rest of the file would be read as commands. Such a delimiter is renamed to one no line of that
    here-document starts with (quoted as it was). None when none needs it."""
    lines = text.split("\n")
    renamed = False
    for i, heredocs, _, ends in _heredoc_lines(lines):
        edits: list[tuple[_Heredoc, str]] = []
        last = i
        for heredoc, end in zip(heredocs, ends):
            if end is None:
                break  # unterminated: nothing ends it, nothing to rename
            body = [line.lstrip("\t") if heredoc.tabs else line for line in lines[last + 1:end]]
            word = lines[i][heredoc.start:heredoc.end]
            if heredoc.quoted and word not in (f"'{heredoc.delimiter}'", f'"{heredoc.delimiter}"', f"\\{heredoc.delimiter}"):
                edits.append((heredoc, heredoc.delimiter))  # `E'OF'`: the grammar takes E; bash, EOF
            elif any(line.startswith(heredoc.delimiter) for line in body):
                new = next((f"{heredoc.delimiter}_{k}_" for k in range(8)
                            if not any(line.startswith(f"{heredoc.delimiter}_{k}_") for line in body)), None)
                if new is None:  # longer than every line of the body, so none starts with it
                    new = heredoc.delimiter + "_" * (max(map(len, body)) + 1)
                edits.append((heredoc, new))
                lines[end] = lines[end].replace(heredoc.delimiter, new, 1)
            last = end
        if edits:
            line, parts, at = lines[i], [], 0
            for heredoc, new in edits:
                parts += [line[at:heredoc.start], f"'{new}'" if heredoc.quoted else new]
                at = heredoc.end
            lines[i] = "".join(parts) + line[at:]
            renamed = True
    return "\n".join(lines) if renamed else None


def _heredoc_lists(text: str) -> str | None:
    """`cat <<E > f; CMD` and `cat <<E & CMD` are shell that tree-sitter-bash does not parse (after a
    here-document's redirection it takes `|`, `&&` and `||`, not `;` or `&`), which would hide CMD:
    the same text with the line cut there, each part followed by its own here-documents' bodies, which
    the shell runs in the same order (a background `&` is dropped). None when there is nothing to cut."""
    lines = text.split("\n")
    out: list[str] = []
    copied = 0
    for i, heredocs, cuts, ends in _heredoc_lines(lines):
        cuts = [c for c in cuts if c > heredocs[0].end]
        if not cuts:
            continue
        bodies: list[list[str]] = []
        last = i
        for end in ends:
            end = len(lines) - 1 if end is None else end  # unterminated: the rest is its body
            bodies.append(lines[last + 1:end + 1])
            last = end
        out.extend(lines[copied:i])
        line, start, k = lines[i], 0, 0
        for cut in [*cuts, len(line)]:
            out.append(line[start:cut])
            while k < len(heredocs) and heredocs[k].start < cut:
                out.extend(bodies[k])
                k += 1
            start = cut + 1
        copied = last + 1
    if not copied:
        return None
    out.extend(lines[copied:])
    return "\n".join(out)


MAX_ERROR_SPANS = 1024
MAX_HEREDOCS = 1024
"""A text with more `<<` than this is not parsed: it is an unreadable command (rules flag it)."""
MAX_DELIMITER = 4096
"""Bytes after `<<` looked at for a here-document's delimiter."""
MAX_HELD_LINES = 16 * 1024
HELD_LINES_FLOOR = 1024
HELD_LINES_FACTOR = 4
"""Bytes of command lines held in variables (`c="nc -e sh"; $c`) read in one walk: four times the
text's length and 1 KB more, at most MAX_HELD_LINES. Such a line is read with its own expansions, and
a value that refers to itself through unbalanced quotes (an unterminated quote in `P=$(...)` whose
text names $P twice) grew threefold at each of the MAX_DEPTH levels: 32 bytes made 1,400 commands,
746 bytes 4,000 (1.6 s). What the budget leaves unread is an unreadable command."""
MAX_REREAD = 64 * 1024
"""At most this many bytes of list members are read again after parse errors, in the whole walk,
the shortest first, only those whose command word the error left out, each once (so reading stays
linear in the text, with a small factor: a budget per parse let members nested in unterminated
`$(` re-read one another at every level, 750 bytes making 4,000 commands in 1.6 s); what the
budget leaves unread is an unreadable command."""
_UNIT_COMMAND = re2.compile(r"(?m)^[ \t]*(?:Exec[A-Za-z]*|(?i:command))[ \t]*=[ \t]*[-@+!:]*[ \t]*([^\n]+)")


def _lost_words(root: Node) -> set[int]:
    """Where the words an error left out of the commands begin (the named nodes directly under an
    ERROR node that are no statement, at most MAX_ERROR_SPANS): a list member that begins with one
    lost its command. A statement under an ERROR is walked like any other."""
    starts: set[int] = set()
    stack = [root]
    while stack and len(starts) < MAX_ERROR_SPANS:
        node = stack.pop()
        if node.type == "ERROR":
            if not node.named_children:
                starts.add(node.start_byte)
            for child in node.named_children:
                if child.has_error:
                    stack.append(child)
                elif child.type not in _STATEMENTS:
                    starts.add(child.start_byte)
        else:
            stack.extend(c for c in node.children if c.has_error)
    return starts


_PIECE_CHARS = re.compile(rb"[\x27\x22\x60\\#()\[\]{}$<;&|\n]")
"""The bytes where _list_pieces has something to decide; it jumps from one to the next. (One
character class: linear in any engine, and `re` yields matches without RE2's per-match Python work.)"""
_ANSI_QUOTE = 0x100
"""_list_pieces's mark for being inside $'...', where a backslash escapes a quote."""


def _last_line(data: bytes) -> int:
    """Where the last line begins, a line continued from the one before (`\\`, or a pipe ending it)
    being part of it."""
    start = len(data)
    while True:
        newline = data.rfind(b"\n", 0, start)
        if newline < 0:
            return 0
        if not data[:newline].rstrip(b" \t").endswith((b"|", b"\\")):
            return newline + 1
        start = newline


def _parse(parser: Parser, data: bytes):
    """`data`'s tree, parsed with a newline after it. tree-sitter-bash (0.21 to 0.25, on cores 0.23 to
    0.26) spends about 45 µs more on a pipeline of three or more stages that ends the input than on one
    a newline ends (`a | b | c`: 50 µs, `a | b | c` and a newline: 4 µs), and a newline at the end
    runs nothing more; a text whose last line (with the lines it continues) has fewer than two pipes is
    parsed once, as given. Where
    that tree has an error, the text as given is parsed instead: a newline
    would then change what the error recovery keeps (an unclosed quote holds it; a trailing backslash
    joins it), and the trees otherwise agree (36,135 corpus commands: no difference without an error)."""
    if data.endswith((b"\n", b"\\")) or data.count(b"|", _last_line(data)) < 2:
        return parser.parse(data)  # (no pipeline of three stages can end it: parsed once, as given)
    tree = parser.parse(data + b"\n")
    return parser.parse(data) if tree.root_node.has_error else tree


def _list_pieces(data: bytes) -> list[tuple[int, int]]:
    """Byte spans of a text's top-level list members, each from its first word: split at newline, `;`,
    `&`, `&&` and `||` outside quotes, parentheses, backquotes, `${...}` and `$[...]` (a pipeline stays
    whole); comments and here-document bodies are no member."""
    pieces: list[tuple[int, int]] = []
    pending: list[_Heredoc] = []
    quote = 0
    stack: list[int] = []  # what is open: ( parentheses, a `((` arithmetic, { a ${, [ a $[
    shifts = 0  # how many of those open are ones where << is no heredoc (the last three)
    start = 0
    skip = 0  # (matches before this are escaped or already dealt with)
    n = len(data)
    for match in _PIECE_CHARS.finditer(data):
        i = match.start()
        if i < skip:
            continue
        c = data[i]
        if quote:
            if c == (0x27 if quote == _ANSI_QUOTE else quote):
                quote = 0
            elif c == 0x5C and quote != 0x27:  # backslash, not in '...'
                skip = i + 2
        elif c == 0x27:
            quote = _ANSI_QUOTE if data[i - 1:i] == b"$" else c
        elif c in (0x22, 0x60):  # " `
            quote = c
        elif c == 0x5C:
            skip = i + 2
        elif c == 0x24:  # $
            nxt = data[i + 1:i + 2]
            if nxt in (b"{", b"["):
                stack.append(nxt[0])
                shifts += 1
                skip = i + 2
        elif c == 0x23 and (i == 0 or data[i - 1] in b" \t\n;&|()"):  # a comment, to the line's end
            end = data.find(b"\n", i)
            if i > start:
                pieces.append((start, i))
            start = skip = n if end < 0 else end
        elif c == 0x28:
            if data[i + 1:i + 2] == b"(":  # `((` and `$((`: arithmetic, where << is a shift
                stack.append(0x61)
                shifts += 1
                skip = i + 2
            else:
                stack.append(0x28)
        elif c == 0x29:
            if stack and stack[-1] == 0x61 and data[i + 1:i + 2] == b")":
                stack.pop()
                shifts -= 1
                skip = i + 2
            elif stack and stack[-1] in (0x28, 0x61):
                shifts -= stack.pop() == 0x61
        elif c == 0x7D or c == 0x5D:
            if stack and stack[-1] == c - 2:  # } closes ${, ] closes $[
                stack.pop()
                shifts -= 1
        elif c == 0x3C:
            if data[i + 1:i + 2] == b"<" and data[i + 2:i + 3] != b"<" and data[i - 1:i] != b"<":
                if not shifts:
                    end = data.find(b"\n", i)
                    end = n if end < 0 else min(end, i + 2 + MAX_DELIMITER)
                    heredoc = _heredoc_word(data[i + 2:end].decode("utf-8", "surrogatepass"), 0)
                    if heredoc is not None:
                        pending.append(heredoc)
                skip = i + 2
        elif c in (0x7B, 0x5B):
            pass  # (a brace or bracket of its own opens nothing that holds a list)
        elif not stack and (c in (0x0A, 0x3B) or c == 0x26 and data[i - 1:i] not in (b">", b"<")
                            and data[i + 1:i + 2] != b">" or c == 0x7C and data[i + 1:i + 2] == b"|"):
            at = i
            if data[i + 1:i + 2] in (b"&", b"|") and c != 0x0A and c != 0x3B:
                at = i + 1
            if at > start:
                pieces.append((start, at if c in (0x0A, 0x3B) or data[at - 1:at] not in (b"&", b"|") else at - 1))
            start = skip = at + 1
            if c == 0x0A and pending:
                start = skip = _after_bodies(data, i + 1, pending)
                pending = []
    if start < n:
        pieces.append((start, n))
    out = []
    for a, b in pieces:
        piece = data[a:b]
        word = len(piece) - len(piece.lstrip())
        if word < len(piece):
            out.append((a + word, b))  # (each from its first word)
    return out


def _after_bodies(data: bytes, at: int, heredocs: list[_Heredoc]) -> int:
    """Where the text goes on after these here-documents' bodies, which begin at `at`, in order."""
    for heredoc in heredocs:
        delimiter = heredoc.delimiter.encode("utf-8", "surrogatepass")
        while at < len(data):
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end
            line = data[at:end]
            at = end + 1
            if (line.lstrip(b"\t") if heredoc.tabs else line) == delimiter:
                break
    return min(at, len(data))


def _stages(pipeline: Node) -> list[Node]:
    """A pipeline's stages in order; the tree nests the rest of a pipeline that follows a
    here-document's redirection (`cat <<E | grep x | sh`) as a pipeline in a pipeline."""
    stages: list[Node] = []
    for c in pipeline.named_children:
        if c.type in _STAGES:
            stages.append(c)
        elif c.type == "pipeline":
            stages.extend(_stages(c))
    return stages


def _last_stage_is_command(pipeline: Node) -> bool:
    stages = _stages(pipeline)
    return bool(stages) and stages[-1].type == "command"

def _text(node: Node) -> str:
    return node.text.decode("utf-8", "replace")


def _slice(node: Node, start: int, end: int) -> str:
    base = node.start_byte
    return node.text[start - base:end - base].decode("utf-8", "replace")


def _shell_reading_stdin(words: list[str]) -> bool:
    """Whether a command line is a shell that reads its script from its input: `bash`, `sh -s`,
    `bash -s -- ARGS`, `sudo bash -x` (no -c, no script file)."""
    while words and words[0] in ("sudo", "env", "exec", "nohup"):
        words = words[1:]
    if not words or posixpath.basename(words[0]) not in decode.SHELLS:
        return False
    rest = words[1:]
    for index, word in enumerate(rest):
        if word == "--":
            return index == len(rest) - 1  # `bash -- FILE` runs FILE
        if word.startswith("--"):
            continue  # --login, --norc
        if word[:1] not in ("-", "+"):
            return False  # a script file
        if "c" in word[1:]:
            return False
        if "s" in word[1:]:
            return True  # the rest are the script's arguments
    return True


def _ssh_remote(args: list[str]) -> list[str]:
    """The remote command of an ssh invocation: what follows the destination and any options after it."""
    valued = _SSH_VALUED
    index = 0
    host_seen = False
    while index < len(args):
        arg = args[index]
        if arg == "--":
            index += 1
            if not host_seen:
                index += 1
            return args[index:]
        if arg.startswith("-") and len(arg) >= 2:
            index += 2 if arg[-1] in valued else 1
            continue
        if host_seen:
            return args[index:]
        host_seen = True
        index += 1
    return []


_EXEC_VALUED = frozenset({"-u", "--user", "-e", "--env", "-w", "--workdir", "-c", "--container", "-n",
                          "--namespace", "--env-file", "--context", "--kubeconfig"})


_SCREEN_VALUED = frozenset("cehpSstT")
"""screen's options that take a value (`-S name`, `-dmS name`, `-Sname`)."""
_SCREEN_COMMANDS = frozenset({"stuff", "exec", "screen"})


def _screen_texts(args: list[str]) -> list[str]:
    """What `screen [options] CMD ARGS` runs, and what `screen -X stuff TEXT` types into a session's
    shell (`-X exec CMD`, `-X screen CMD` run CMD)."""
    index = 0
    seen: set[str] = set()
    while index < len(args):
        word = args[index]
        index += 1
        if word == "-X":
            rest = args[index:]
            if rest[:1] == ["stuff"] and len(rest) > 1:
                return [decode.unescape_c(rest[1], control=False).replace("^M", "\n")]
            if rest[:1] and rest[0] in _SCREEN_COMMANDS and len(rest) > 1:
                words = rest[1:]
                while words and words[0].startswith(("-", "!", "|", ".")) and len(words) > 1:
                    words = words[1:]  # exec's fd pattern, screen's own options
                return [_shell_line(words)]
            return []
        if not word.startswith("-") or word == "-":
            if seen & {"r", "R", "x"} or (seen & {"d", "D"} and "m" not in seen):
                return []  # attaching to or detaching a session: the word is its name
            return [_shell_line(args[index - 1:])]
        if word.startswith("--") or word in ("-ls", "-list", "-wipe", "-Logfile"):
            index += word == "-Logfile"
            continue
        for at, flag in enumerate(word[1:], start=1):
            seen.add(flag)
            if flag in _SCREEN_VALUED:
                index += at == len(word) - 1
                break
    return []


_TMUX_RUNS = {
    "new-session": "cefFnstxy", "new": "cefFnstxy", "new-window": "ceFnt", "neww": "ceFnt",
    "split-window": "celtF", "splitw": "celtF", "respawn-pane": "cet", "respawnp": "cet",
    "respawn-window": "cet", "respawnw": "cet", "run-shell": "dt", "run": "dt",
    "pipe-pane": "t", "pipep": "t", "display-popup": "bcdehsStTwxy", "popup": "bcdehsStTwxy",
}
"""tmux commands whose last words are a shell command, with their options that take a value."""
_TMUX_KEYS = {"Enter": "\n", "C-m": "\n", "C-j": "\n", "KPEnter": "\n", "Space": " ", "Tab": "\t"}
_TMUX_GLOBAL_VALUED = frozenset("cfLST")


def _tmux_texts(args: list[str]) -> list[str]:
    """Shell commands tmux is given: `tmux new -d -s s 'CMD'`, `tmux -c CMD`, keys typed into a
    session's shell (`tmux send-keys -t s 'CMD' Enter`), for each command of a `\\;` list."""
    out: list[str] = []
    index = 0
    while index < len(args) and args[index].startswith("-"):
        word = args[index]
        index += 1
        if word == "-c" and index < len(args):
            return [args[index]]
        if word[-1:] in _TMUX_GLOBAL_VALUED and len(word) >= 2:
            index += 1
    current: list[str] = []
    for word in [*args[index:], ";"]:
        if word not in (";", "\\;"):
            current.append(word)
            continue
        if current:
            text = _tmux_command(current)
            if text:
                out.append(text)
        current = []
    return out


def _tmux_command(words: list[str]) -> str | None:
    command, rest = words[0], words[1:]
    sends = command in ("send-keys", "send")
    valued = "Nct" if sends else _TMUX_RUNS.get(command)
    if valued is None:
        return None
    index = 0
    while index < len(rest) and rest[index].startswith("-") and rest[index] != "-":
        word = rest[index]
        index += 1
        if word == "--":
            break
        for at, flag in enumerate(word[1:], start=1):
            if flag in valued:
                index += at == len(word) - 1
                break
    positional = rest[index:]
    if not positional:
        return None
    if sends:
        return "".join(_TMUX_KEYS.get(key, "" if _is_tmux_key(key) else key) for key in positional)
    if len(positional) == 1:
        return positional[0]
    return _shell_line(positional)


def _is_tmux_key(word: str) -> bool:
    """A key name send-keys presses rather than types (C-c, M-x, Escape, F1, BSpace, ...)."""
    return (len(word) > 2 and word[1] == "-" and word[0] in "CMS") or word in (
        "Escape", "BSpace", "BTab", "DC", "End", "Home", "IC", "NPage", "PPage", "PgUp", "PgDn", "Up", "Down",
        "Left", "Right") or (word[:1] == "F" and word[1:].isdigit())


_PARALLEL_VALUED = frozenset({
    "-j", "--jobs", "-P", "--max-procs", "-S", "--sshlogin", "-n", "--max-args", "-N", "-L", "--max-lines",
    "-l", "--delay", "--timeout", "-I", "--joblog", "--results", "--res", "--tmpdir", "--workdir", "--wd",
    "-a", "--arg-file", "--colsep", "-C", "-d", "--delimiter", "-E", "--retries", "--halt", "--memfree",
    "--load", "--basefile", "--bf", "--transferfile", "--tf", "--return", "--sshdelay", "--tagstring",
    "--env", "--termseq", "--limit", "--sshloginfile", "--slf", "--block", "--blocksize", "--recstart",
    "--recend", "--header", "--onall-sep", "--plus", "--rpl", "--shebang-wrap"})
"""GNU parallel's options that take the next word as a value (those used with a space)."""
_PARALLEL_SOURCES = (":::", "::::", ":::+", "::::+")


def _parallel_texts(args: list[str], stdin: str | None, lookup=None) -> list[str]:
    """Command lines GNU parallel runs (through a shell): each argument after `:::` when no command
    is given, else the command with `{}` (or the end) replaced by each quoted argument; arguments
    come from stdin, one a line, when no `:::` is there, and from the lines of files after `::::`
    that `lookup` finds. At most MAX_XARGS of them."""
    index = 0
    while index < len(args) and args[index].startswith("-") and args[index] not in _PARALLEL_SOURCES:
        index += 2 if args[index] in _PARALLEL_VALUED else 1
    command: list[str] = []
    while index < len(args) and args[index] not in _PARALLEL_SOURCES:
        command.append(args[index])
        index += 1
    if index < len(args):
        items = []
        for word in args[index + 1:]:
            if word in _PARALLEL_SOURCES:
                break
            if args[index] == ":::":
                items.append(word)
            else:  # `:::: FILE`: its lines, where the session wrote it
                content = lookup(word) if lookup is not None else None
                items.extend(line for line in (content or "").split("\n") if line.strip())
    elif stdin is not None:
        items = [line for line in stdin.split("\n") if line.strip()]
    else:
        items = []
    items = items[:MAX_XARGS]
    if not command:
        return items
    line = " ".join(command)
    if not items:
        return [line]
    if "{}" in line:
        return [line.replace("{}", _shell_quote(item)) for item in items]
    return [f"{line} {_shell_quote(item)}" for item in items]


_PACKAGE_RUNNERS = {"npx": {"-p", "--package", "--call", "-c"}, "pnpx": {"-p", "--package", "-c"},
                    "bunx": {"-p", "--package"}, "uvx": {"--from", "--with", "-p", "--python", "--index-url"}}
"""Programs that fetch a package and run it, with their options that take a value (`-c` takes a
command line, `-p`/`--from` the package while the command comes after)."""
_PACKAGE_MANAGERS = {("npm", "exec"): "npx", ("npm", "x"): "npx", ("pnpm", "dlx"): "pnpx", ("pnpm", "exec"): "pnpx",
                     ("yarn", "dlx"): "npx", ("bun", "x"): "bunx", ("uv", "tool"): "uvx", ("pipx", "run"): "uvx"}
_PACKAGE_MANAGERS_NAMES = frozenset(name for name, _ in _PACKAGE_MANAGERS)


def _package_run(name: str, args: list[str]) -> tuple[str, list[str]] | None:
    """What `npx PKG ARGS` (`pnpm dlx`, `yarn dlx`, `bunx`, `npm exec`, `uvx`, `pipx run`, `uv tool run`)
    runs: ("text", [CMDLINE]) for `-c CMDLINE`, else ("argv", [PROGRAM, ARGS...]), the package's name
    without its version (`localtunnel@2` runs localtunnel; `@scope/pkg` runs pkg)."""
    if name in _PACKAGE_MANAGERS_NAMES:
        runner = _PACKAGE_MANAGERS.get((name, args[0]))
        if runner is None:
            return None
        args = args[2:] if (name, args[0]) == ("uv", "tool") and args[1:2] == ["run"] else \
            None if (name, args[0]) == ("uv", "tool") else args[1:]
        if args is None:
            return None
        name = runner
    valued = _PACKAGE_RUNNERS[name]
    named = False  # `-p PKG CMD` / `--from PKG CMD`: the command is the first word after the options
    index = 0
    while index < len(args):
        word = args[index]
        if word == "--":
            index += 1
            break
        if not word.startswith("-"):
            break
        option, eq, value = word.partition("=")
        if option in ("-c", "--call"):
            command = value if eq else args[index + 1] if index + 1 < len(args) else None
            return ("text", [command]) if command else None
        named = named or option in ("-p", "--package", "--from")
        index += 1 if eq or option not in valued else 2
    if index >= len(args):
        return None
    program, rest = args[index], args[index + 1:]
    if not named:
        program = program.rsplit("@", 1)[0] if program.rfind("@") > 0 else program
        program = program.split("==", 1)[0].split("[", 1)[0]
    return "argv", [program, *rest]


_VIMS = frozenset({"vim", "vi", "nvim", "view", "ex", "vimdiff", "gvim", "nvi", "vim.basic", "vim.tiny"})
_VIM_SHELL = re2.compile(r"^(?:sil(?:ent)?!?\s*)?(?:(?:r(?:ead)?|w(?:rite)?)\s*)?!(.+)$|^(?:ter(?:minal)?)\s+(.+)$")
_VIM_SYSTEM = re2.compile(r"""system(?:list)?\s*\(\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')""")


def _vim_texts(args: list[str]) -> list[str]:
    """Shell commands vim's start-up ex commands run: `-c ':!CMD'`, `--cmd`, `+':silent !CMD'`,
    `:r !CMD`, `:terminal CMD`, `:call system("CMD")`."""
    commands = []
    for at, word in enumerate(args):
        if word in ("-c", "--cmd") and at + 1 < len(args):
            commands.append(args[at + 1])
        elif word.startswith("+") and len(word) > 1 and not word[1:].isdigit() and word[1] != "/":
            commands.append(word[1:])
    out = []
    for command in commands:
        command = command.strip().lstrip(":").strip()
        match = _VIM_SHELL.search(command)
        if match is not None:
            out.append(match.group(1) or match.group(2))
            continue
        for call in _VIM_SYSTEM.finditer(command):
            out.append(decode.unescape_c(call.group(1)) if call.group(1) is not None else call.group(2))
    return out


_RUN_VALUED = frozenset({
    "-a", "--attach", "--add-host", "--annotation", "--blkio-weight", "--cap-add", "--cap-drop", "--cgroup-parent",
    "--cgroupns", "--cidfile", "-c", "--cpu-shares", "--cpu-period", "--cpu-quota", "--cpus", "--cpuset-cpus",
    "--cpuset-mems", "--device", "--dns", "--dns-option", "--dns-search", "--domainname", "--entrypoint", "-e",
    "--env", "--env-file", "--expose", "--gpus", "--group-add", "--health-cmd", "--health-interval",
    "--health-retries", "--health-start-period", "--health-timeout", "-h", "--hostname", "--ip", "--ip6", "--ipc",
    "--isolation", "-l", "--label", "--label-file", "--link", "--log-driver", "--log-opt", "--mac-address", "-m",
    "--memory", "--memory-reservation", "--memory-swap", "--mount", "--name", "--network", "--net",
    "--network-alias", "--pid", "--platform", "-p", "--publish", "--pull", "--restart", "--runtime",
    "--security-opt", "--shm-size", "--stop-signal", "--stop-timeout", "--storage-opt", "--sysctl", "--tmpfs",
    "--ulimit", "-u", "--user", "--userns", "--uts", "-v", "--volume", "--volumes-from", "-w", "--workdir",
    "--device-cgroup-rule", "--pids-limit", "--oom-score-adj", "--secret", "--systemd", "--arch", "--os",
    "--pod", "--userns", "--init-path"})
"""`docker run`/`podman run`/`nerdctl run` options that take the next word as a value."""
_CONTAINER_GLOBAL_VALUED = frozenset({"-H", "--host", "--context", "--config", "-l", "--log-level", "--url",
                                      "--connection", "--root", "--runroot", "--namespace", "-n"})


def _image_program(image: tuple[str, list[str]] | None) -> list[str]:
    """`docker run IMAGE ARGS` with no entrypoint given runs the image's own program, which a
    single-tool image is named after (`cloudflare/cloudflared:latest tunnel ...` runs cloudflared
    tunnel ...): that name and ARGS, or [] where no image's program is run (_container_run)."""
    if image is None:
        return []
    name = image[0].rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
    if not name or not _PLAIN_PATH.fullmatch(name):
        return []
    return [name, *image[1]]


_MAKE_VALUED = {"-f", "--file", "--makefile", "-C", "--directory", "-I", "--include-dir", "-j", "--jobs", "-o", "-W"}
"""make's options that take the next word as their value (not a target)."""
_ALIAS_SHELL_MARKS = (";", "|", "&", "<", ">", "$", "`", "(", "\n")


def program_name(program: str) -> str:
    """A command's name (Cmd.name) as the program word gives it: its base name; a binary named as
    release downloads are, the tool (`chisel_1.9.1_linux_amd64` is chisel); a substitution whose
    output no one can know, as written."""
    if program.startswith(("$(", "`", "<(")):
        return program
    name = posixpath.basename(program.rstrip("/")) or program
    if "linux" in name or "darwin" in name or "freebsd" in name:
        release = _RELEASE_ASSET.fullmatch(name)
        if release is not None:
            return release.group(1)
    return name


def exec_command(argv: list[str]) -> Cmd:
    """The command an exec of `argv` is, without what it runs (ShellReader.read_argv reads that too)."""
    args = list(argv[1:])
    return Cmd(name=program_name(argv[0]), path=argv[0], args=args, flags=split_flags(args))


def _dash_before(red: Node, words_end: int) -> bool:
    """Whether a lone `-` stands between a command's last word (ending at `words_end`) and its
    heredoc: tree-sitter-bash leaves it out of both (`cat - <<E`, `kubectl apply -f - <<E`), and
    that word is how the program is told to read the heredoc."""
    parent = red.parent
    if parent is None or not 0 <= words_end - parent.start_byte <= red.start_byte - parent.start_byte:
        return False
    source = parent.text or b""
    return source[words_end - parent.start_byte:red.start_byte - parent.start_byte].strip() == b"-"


def _values_of(args: list[str], short: str, long: tuple = ()) -> list[str]:
    """The values given to the `short` option letters or the `long` options (`-f X`, `-fX`,
    `--file X`, `--file=X`), read as _option_value reads one, at most 16."""
    out: list[str] = []
    at = 0
    while at < len(args) and len(out) < 16:
        given = _option_value(args[at], args[at + 1] if at + 1 < len(args) else None, short, long, "")
        if given is None:
            at += 1
            continue
        value, taken = given
        if value is not None:
            out.append(value)
        at += taken
    return out


def _container_run(program: str, args: list[str]) -> tuple[list[str], tuple[str, list[str]] | None]:
    """The command a container started by `docker run [opts] IMAGE CMD ARGS` (`--entrypoint X`: X
    first), `podman`/`nerdctl run`, or `kubectl run NAME ... -- CMD ARGS` runs; and where the
    image's own program runs (no entrypoint given), the image and the words after it."""
    index = 0
    while index < len(args) and args[index].startswith("-"):
        index += 2 if args[index] in _CONTAINER_GLOBAL_VALUED else 1
    if args[index:index + 2] == ["container", "run"]:
        index += 1
    if args[index:index + 1] != ["run"]:
        return [], None
    rest = args[index + 1:]
    if program in ("kubectl", "oc"):
        return (rest[rest.index("--") + 1:] if "--" in rest else []), None
    entrypoint: list[str] = []
    index = 0
    while index < len(rest) and rest[index].startswith("-"):
        option, eq, value = rest[index].partition("=")
        if option == "--entrypoint":
            entrypoint = [value] if eq else rest[index + 1:index + 2]
        index += 1 if eq or option not in _RUN_VALUED else 2
    command = rest[index + 1:]  # after the image
    if index >= len(rest):
        return [], None
    if entrypoint and entrypoint[0]:
        return [*entrypoint, *command], None
    # (options after the image are the image's own program's)
    return (command if command and not command[0].startswith("-") else []), (rest[index], command)


def _container_exec_command(program: str, args: list[str]) -> list[str]:
    """The command of `kubectl exec POD -- CMD`, `docker exec [opts] CONTAINER CMD` and the like."""
    at = args.index("exec")
    rest = args[at + 1:]
    if "--" in rest:
        return rest[rest.index("--") + 1:]
    if program in ("kubectl", "oc"):
        return []
    index = 0
    while index < len(rest) and rest[index].startswith("-"):
        index += 2 if rest[index] in _EXEC_VALUED else 1
    return rest[index + 1:]


def _ssh_endpoints(args: list[str]) -> list[Endpoint]:
    """The destination of an ssh command, with the port from -p when given."""
    words = ssh_option_words(args)
    port = None
    host = None
    index = 0
    while index < len(words):
        arg = words[index]
        if arg.startswith("-") and len(arg) >= 2:
            if arg == "-p" and index + 1 < len(words) and words[index + 1].isdigit():
                port = int(words[index + 1])
            elif arg.startswith("-p") and arg[2:].isdigit():
                port = int(arg[2:])
            index += 2 if arg[-1] in _SSH_VALUED else 1
            continue
        host = arg
        index += 1
    if host is None:
        return []
    if host.startswith("ssh://"):
        found = from_word(host)
        return found
    target = host.rsplit("@", 1)[-1]
    return [Endpoint(target, port if port and 0 < port < 65536 else None, "ssh")] if target else []


_SSH_VALUED = set("BbcDEeFIiJLlmOopQRSWw")


def ssh_option_words(args: list[str]) -> list[str]:
    """ssh's own words, without the remote command (whose flags are not ssh's)."""
    remote = _ssh_remote(args)
    return args[: len(args) - len(remote)] if remote else args
