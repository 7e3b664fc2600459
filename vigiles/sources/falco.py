"""Falco alerts as JSON Lines (`json_output: true`, or as Falcosidekick forwards them).

Each alert becomes one event, chosen by what it saw (docs/events.md, "Sensor and log formats"):
a connection (`evt.type` connect/accept/sendto..., or server/client addresses in `output_fields`)
becomes `network`; an open for writing, a rename, an unlink or a chmod becomes `file`; anything
else about a process becomes `process`. Falco's rule name, priority and output text are kept
(`falco_rule`, `falco_priority`, `falco_output`), as are `container_id` and the parent's command.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..events import Event
from .base import ReadError
from .sensorutil import (MAX_TEXT, build, clip, direction_of, json_lines, split_flat_cmdline, to_int)

NAME = "falco"

CONNECT = frozenset({"connect", "sendto", "sendmsg", "sendmmsg"})
ACCEPT = frozenset({"accept", "accept4"})
LISTEN = frozenset({"listen", "bind"})
OPEN = frozenset({"open", "openat", "openat2", "creat", "open_by_handle_at"})
RENAME = frozenset({"rename", "renameat", "renameat2"})
UNLINK = frozenset({"unlink", "unlinkat", "rmdir"})
CHMOD = frozenset({"chmod", "fchmod", "fchmodat", "fchmodat2"})
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND")


def sniff(first: object) -> bool:
    return (isinstance(first, dict) and "kind" not in first and isinstance(first.get("rule"), str)
            and isinstance(first.get("output_fields"), dict) and "priority" in first and "output" in first)


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    return json_lines(path, name, convert, "Falco alert")


def _s(fields: dict, *keys: str) -> str | None:
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and value and value != "<NA>":
            return clip(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
    return None


def _i(fields: dict, *keys: str) -> int | None:
    for key in keys:
        value = to_int(fields.get(key))
        if value is not None:
            return value
    return None


def _tuple(name: str | None) -> tuple[str | None, int | None, str | None, int | None]:
    """fd.name of a socket, "10.0.0.5:51544->203.0.113.9:443", as (cip, cport, sip, sport)."""
    if not name or "->" not in name:
        return None, None, None, None
    left, _, right = name.partition("->")

    def hostport(text: str) -> tuple[str | None, int | None]:
        host, sep, port = text.strip().rpartition(":")
        if not sep:
            return text.strip() or None, None
        return host.strip("[]") or None, to_int(port)

    return (*hostport(left), *hostport(right))


def convert(alert: dict, name: str, number: int, line: bytes) -> list[Event]:
    fields = alert.get("output_fields")
    if not isinstance(fields, dict):
        raise ValueError("no 'output_fields' object")
    ts = alert.get("time") or fields.get("evt.time.iso8601") or fields.get("evt.time")
    if ts is None:
        raise ValueError("no 'time'")
    evt_type = (_s(fields, "evt.type") or "").lower()
    common: dict[str, Any] = {
        "ts": ts,
        "host": _s(alert, "hostname") or _s(fields, "hostname", "evt.hostname"),
        "sandbox": _s(fields, "k8s.pod.name", "container.name"),
        "falco_rule": clip(alert.get("rule"), 512),
        "falco_priority": clip(alert.get("priority"), 32),
        "falco_output": clip(alert.get("output"), 4096),
        "falco_source": clip(alert.get("source"), 64),
        "container_id": _s(fields, "container.id"),
    }
    if common["container_id"] == "host":
        common["container_id"] = None
    pid = _i(fields, "proc.pid", "thread.tid")
    cmdline = _s(fields, "proc.cmdline")
    exe = _s(fields, "proc.exepath", "proc.exe")

    sip, sport = _s(fields, "fd.sip"), _i(fields, "fd.sport")
    cip, cport = _s(fields, "fd.cip"), _i(fields, "fd.cport")
    if sip is None and cip is None:
        cip, cport, sip, sport = _tuple(_s(fields, "fd.name")) if _s(fields, "fd.type") in (None, "ipv4", "ipv6") \
            else (None, None, None, None)
    rip = _s(fields, "fd.rip")
    is_net = evt_type in CONNECT | ACCEPT | LISTEN or (sip or rip) is not None
    if is_net and (sip or rip):
        if evt_type in ACCEPT:
            src, sp, dst, dp, direction = cip, cport, sip, sport, "inbound"
        elif evt_type in CONNECT:
            src, sp, dst, dp, direction = cip or _s(fields, "fd.lip"), cport, sip or rip, sport, "outbound"
        else:
            src, sp, dst, dp = cip, cport, sip or rip, sport
            direction = direction_of(src, dst)
        raw = {"kind": "network", **common, "pid": pid, "proto": _s(fields, "fd.l4proto"),
               "src": src, "sport": sp, "dst": dst, "dport": dp, "direction": direction,
               "proc_exe": exe, "proc_cmdline": cmdline}
        return [build(raw, name, number, line)]

    path = _s(fields, "fs.path.name", "evt.arg.name", "evt.arg.path", "evt.arg.pathname", "evt.arg.filename",
              "fd.name")
    flags = _s(fields, "evt.arg.flags") or ""
    is_write = fields.get("evt.is_open_write") in (True, "true") or any(f in flags for f in WRITE_FLAGS)
    file_raw: dict[str, Any] | None = None
    if evt_type in OPEN and is_write and path:
        file_raw = {"path": path, "op": "write"}
    elif evt_type in RENAME:
        old = _s(fields, "fs.path.source", "evt.arg.oldpath", "evt.arg.source")
        new = _s(fields, "fs.path.target", "evt.arg.newpath", "evt.arg.target")
        if old or path:
            file_raw = {"path": old or path, "op": "rename", "new_path": new}
    elif evt_type in UNLINK and path:
        file_raw = {"path": path, "op": "delete"}
    elif evt_type in CHMOD and path:
        file_raw = {"path": path, "op": "chmod", "mode": _s(fields, "evt.arg.mode")}
    if file_raw is not None:
        raw = {"kind": "file", **common, "pid": pid, **file_raw, "proc_exe": exe, "proc_cmdline": cmdline}
        return [build(raw, name, number, line)]

    if not cmdline and not exe:
        raise ValueError(f"rule {common['falco_rule']!r}: no proc.cmdline or proc.exepath, and no connection "
                         "or file written to read")
    argv = split_flat_cmdline(cmdline) if cmdline else None
    raw = {"kind": "process", **common, "pid": pid if pid is not None else 0,
           "pid_unknown": True if pid is None else None,
           "ppid": _i(fields, "proc.ppid"), "exe": exe, "argv": argv, "cwd": _s(fields, "proc.cwd"),
           "user": _s(fields, "user.name", "user.loginname") or _s(fields, "user.uid"),
           "parent_exe": _s(fields, "proc.pexepath", "proc.pexe", "proc.pname"),
           "parent_cmdline": _s(fields, "proc.pcmdline"),
           "fd_name": path if path and len(path) <= MAX_TEXT else None}
    return [build(raw, name, number, line)]
