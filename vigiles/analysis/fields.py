"""The fields rule conditions can name, and how each is read from an event and one of its commands.

A field yields a single value, a list (a condition holds when any element satisfies it) or None
(absent: every comparison is false, `exists` is false). `needle` says whether the field's values
appear verbatim in the event's text, which lets the prefilter use literals compared against it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .command import Cmd
from .copies import uploads
from .downloads import saved_files


@dataclass(slots=True)
class Subject:
    """One thing a rule is evaluated against: an event and, for commands, one simple command in it."""

    event: Any
    cmd: Cmd | None
    text: str
    memo: dict | None = None
    """Results of conditions on the event alone, shared by every command of one event, so a rule
    pairing `evt.text regex ...` with command fields reads the text once, not once per command."""


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    get: Callable[[Subject], Any]
    doc: str
    scope: str
    """'cmd' (evaluated per simple command), 'event' (once per event) or a kind name."""
    needle: bool = False


def _cmd(attr: str) -> Callable[[Subject], Any]:
    def get(s: Subject) -> Any:
        return getattr(s.cmd, attr) if s.cmd is not None else None
    return get


def _paths(attr: str) -> Callable[[Subject], Any]:
    """Files written or read as written and, where a `cd` of the run set the command's directory, the
    relative ones as paths in that directory (Cmd.in_dir), after them."""
    def get(s: Subject) -> Any:
        cmd = s.cmd
        if cmd is None:
            return None
        words = getattr(cmd, attr)
        if cmd.cwd is None or not words:
            return words
        return words + cmd.in_dir(words)
    return get


def _redirects(s: Subject) -> Any:
    """Redirections as written and, after a `cd`, those to a relative file also with the file as a
    path in that directory (`>auth.log` in /var/log is also `>/var/log/auth.log`)."""
    cmd = s.cmd
    if cmd is None:
        return None
    if cmd.cwd is None or not cmd.redirects:
        return cmd.redirects
    extra = []
    for red in cmd.redirects:
        op = red[:len(red) - len(red.lstrip("0123456789<>&|"))]
        target = red[len(op):]
        if target:
            extra += [op + path for path in cmd.in_dir([target])]
    return cmd.redirects + extra


def _args(s: Subject) -> Any:
    """The arguments as written and, after a `cd`, a file program's operands as paths in that
    directory (Cmd.operands_in_dir), after them."""
    cmd = s.cmd
    if cmd is None:
        return None
    if cmd.cwd is None:
        return cmd.args
    return cmd.args + cmd.operands_in_dir()


def _saved(s: Subject) -> Any:
    """As written only (a needle field: the prefilter looks for its literals in the text): wget's
    `-P DIR` is not joined to the name, and a directory's index.html, which no word says, is left out."""
    cmd = s.cmd
    if cmd is None:
        return None
    saved = saved_files(cmd.name, cmd.args)
    if not saved:
        return cmd.writes
    words = " ".join(cmd.args)
    return [*cmd.writes, *(path for path in saved if path in words)]


def _uploads(s: Subject) -> Any:
    """What the command copies to another host or a bucket (analysis.copies), as written and, after a
    `cd`, the relative ones as paths in that directory."""
    cmd = s.cmd
    if cmd is None:
        return None
    sent = uploads(cmd.name, cmd.args)
    if not sent or cmd.cwd is None:
        return sent
    return sent + cmd.in_dir([word for word in sent if word != "{}"])  # (xargs's placeholder is no file there)


def _code(attr: str) -> Callable[[Subject], Any]:
    def get(s: Subject) -> Any:
        code = s.cmd.code if s.cmd is not None else None
        return getattr(code, attr) if code is not None else None
    return get


def _ev(attr: str, kind: str | None = None) -> Callable[[Subject], Any]:
    def get(s: Subject) -> Any:
        if kind is not None and s.event.kind != kind:
            return None
        return getattr(s.event, attr, None)
    return get


def _extra(key: str) -> Callable[[Subject], Any]:
    return lambda s: s.event.extra.get(key)


def _hosts(s: Subject) -> Any:
    return [e.host for e in s.cmd.endpoints if e.host] if s.cmd is not None else None


def _ports(s: Subject) -> Any:
    return [e.port for e in s.cmd.endpoints if e.port is not None] if s.cmd is not None else None


def _env(s: Subject) -> Any:
    return [f"{k}={v}" for k, v in s.cmd.env.items()] if s.cmd is not None else None


def _argc(s: Subject) -> Any:
    return len(s.cmd.args) if s.cmd is not None else None


_BIN_DIRS = ("/usr/bin/", "/bin/", "/usr/sbin/", "/sbin/", "/usr/local/bin/")


def _image(s: Subject) -> Any:
    """Absolute paths the program may be: itself when absolute, else the usual bin directories."""
    if s.cmd is None:
        return None
    path = getattr(s.event, "exe", None) if s.event.kind == "process" else None
    path = path or s.cmd.path
    if path.startswith("/"):
        return [path]
    return [d + s.cmd.name for d in _BIN_DIRS]


def _scope(s: Subject) -> Any:
    """loopback, private, link-local, multicast or public: where a connection's destination lies."""
    dst = getattr(s.event, "dst", None) if s.event.kind == "network" else None
    if not dst:
        return None
    import ipaddress
    try:
        address = ipaddress.ip_address(dst.strip("[]"))
    except ValueError:
        return None
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    return "public"


def _line(s: Subject) -> Any:
    return s.cmd.line if s.cmd is not None else None


def _exe(s: Subject) -> Any:
    return getattr(s.event, "exe", None) or (s.cmd.path if s.cmd is not None and s.event.kind == "process" else None)


_LIST = [
    Field("evt.kind", _ev("kind"), "The event kind: action, process, network, gpu, job, file.", "event"),
    Field("evt.tool", _ev("tool", "action"), "The tool an action called (bash, python, write_file, ...).", "event"),
    Field("evt.text", lambda s: s.text, "The event's text as received (an action's input, a process's argv); the cmd.* fields see it de-obfuscated.", "event", True),
    Field("evt.host", _ev("host"), "The host the event came from.", "event"),
    Field("evt.sandbox", _ev("sandbox"), "The sandbox the event came from.", "event"),
    Field("evt.output", _ev("output", "action"), "What an action printed (untrusted; use with care).", "event"),
    Field("cmd.name", _cmd("name"), "The program's base name, resolved (ssh for /usr/bin/s'sh').", "cmd", True),
    Field("cmd.path", _cmd("path"), "The program as written after resolution (/usr/bin/ssh, ./x.sh).", "cmd", True),
    Field("cmd.args", _args, "Each argument after the program (list); after a `cd`, a file program's relative operands (rm, cat, cp, tar, ...) also as paths in that directory.", "cmd", True),
    Field("cmd.image", _image, "The program as an absolute path; a bare name gives each usual bin dir (Sigma's Image).", "cmd"),
    Field("cmd.argc", _argc, "How many arguments follow the program.", "cmd"),
    Field("cmd.flags", _cmd("flags"), "Options; clusters are split too: -fNR gives -fNR, -f, -N, -R.", "cmd"),
    Field("cmd.line", _line, "Program and arguments joined by single spaces.", "cmd", True),
    Field("cmd.via", _cmd("via"), "How the command was reached: bash, base64, python code, script PATH, ...", "cmd"),
    Field("cmd.writes", _paths("writes"), "Files the command writes (redirections, tee, write_file); after a `cd`, relative ones also as paths in that directory.", "cmd", True),
    Field("cmd.reads", _paths("reads"), "Files the command reads through redirections; after a `cd`, relative ones also as paths in that directory.", "cmd", True),
    Field("cmd.redirects", _redirects, "Redirections as operator+target, e.g. >/dev/null; after a `cd`, one to a relative file also with the file as a path in that directory.", "cmd"),
    Field("cmd.pipe_from", _cmd("pipe_from"), "Programs earlier in the same pipeline.", "cmd", True),
    Field("cmd.pipe_to", _cmd("pipe_to"), "Programs later in the same pipeline.", "cmd", True),
    Field("cmd.written", _cmd("written"), "What the command writes into its files, where known: a write tool's content, echo, printf or a heredoc redirected into a file, tee's input (at most 64 KiB).", "cmd", True),
    Field("cmd.stdin", _cmd("stdin"), "What the command is given on its input, where known: an earlier stage's output (echo, printf, a decoder), a here-string, a heredoc, a file the run wrote given with < (at most 64 KiB).", "cmd", True),
    Field("cmd.piped_files", _cmd("piped_files"), "Words naming files (arguments, < inputs) of the commands earlier in the same pipeline: what the command may be handed.", "cmd", True),
    Field("cmd.fed_by", _cmd("fed_by"), "Programs whose output the command runs: a shell or interpreter given a whole-word <(...) or $(...) of theirs, or a file they wrote earlier in the text.", "cmd", True),
    Field("cmd.sent_files", _cmd("sent_files"), "Run on another host over ssh: the local files an earlier command of the run copied there (scp, rsync) that the command line names.", "cmd"),
    Field("cmd.uploads", _uploads, "Local files the command copies to another host or a bucket: the sources of scp/rsync/gcloud compute scp to HOST:PATH, rclone copy/sync/move to REMOTE:PATH, kubectl/oc cp and oc rsync to POD:PATH, aws s3/gsutil/gcloud storage/s3cmd/s5cmd to a bucket, azcopy to a URL, huggingface-cli/hf upload, aws s3api put-object --body, az storage uploads; not a fetch, nor a copy a command runs elsewhere. After a `cd`, relative ones also as paths in that directory.", "cmd", True),
    Field("cmd.saved", _saved, "Files a downloader saves what it fetched to, as written: curl -o/--output, wget -O, the URL's own name (curl -O, wget), and the command's redirections (curl URL > f).", "cmd", True),
    Field("cmd.hosts", _hosts, "Remote hosts the command names (URLs, user@host, host:port, /dev/tcp).", "cmd", True),
    Field("cmd.ports", _ports, "Remote ports the command names.", "cmd"),
    Field("cmd.env", _env, "Variables set for the command, as NAME=value.", "cmd", True),
    Field("code.lang", _code("lang"), "Language of an interpreter snippet (python, perl, php, node, ruby).", "cmd"),
    Field("code.calls", _code("calls"), "Functions the snippet calls (os.dup2, pty.spawn, fsockopen, ...).", "cmd", True),
    Field("code.modules", _code("modules"), "Modules the snippet imports.", "cmd", True),
    Field("code.text", _code("text"), "The snippet's source.", "cmd", True),
    Field("proc.exe", _exe, "The executable of a process event.", "process", True),
    Field("proc.user", _ev("user", "process"), "The user a process ran as.", "process"),
    Field("proc.cwd", _ev("cwd", "process"), "The working directory of a process.", "process"),
    Field("proc.ppid", _ev("ppid", "process"), "The parent pid of a process.", "process"),
    Field("proc.pexe", _extra("parent_exe"), "The parent's executable, when the source knows it.", "process", True),
    Field("proc.pcmdline", _extra("parent_cmdline"), "The parent's command line, when known.", "process", True),
    Field("net.dst", _ev("dst", "network"), "Destination address.", "network"),
    Field("net.dport", _ev("dport", "network"), "Destination port.", "network"),
    Field("net.dst_scope", _scope, "Where the destination lies: loopback, private, link-local, multicast, public.", "network"),
    Field("net.sport", _ev("sport", "network"), "Source port.", "network"),
    Field("net.proto", _ev("proto", "network"), "Protocol (tcp, udp, ...).", "network"),
    Field("net.direction", _ev("direction", "network"), "outbound, inbound, internal or unknown.", "network"),
    Field("net.dns", _ev("dns_query", "network"), "The DNS name queried or connected to.", "network"),
    Field("net.bytes_out", _ev("bytes_out", "network"), "Bytes sent.", "network"),
    Field("net.bytes_in", _ev("bytes_in", "network"), "Bytes received.", "network"),
    Field("net.duration", _ev("duration_s", "network"), "Connection lifetime in seconds.", "network"),
    Field("gpu.index", _ev("gpu", "gpu"), "The GPU's index.", "gpu"),
    Field("gpu.util", _ev("util", "gpu"), "Utilisation in percent.", "gpu"),
    Field("gpu.mem_mib", _ev("mem_mib", "gpu"), "Memory used, MiB.", "gpu"),
    Field("file.path", _ev("path", "file"), "The path of a file event.", "file", True),
    Field("file.op", _ev("op", "file"), "write, delete, chmod, rename or create.", "file"),
    Field("file.mode", _ev("mode", "file"), "The new mode of a chmod.", "file"),
]

FIELDS: dict[str, Field] = {f.name: f for f in _LIST}
