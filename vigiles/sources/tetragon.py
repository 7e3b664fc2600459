"""Tetragon's JSON export (`tetra getevents -o json`, or the export file): one event object per line.

`process_exec` becomes `process` (binary, arguments split as a shell would, pid, cwd, uid, parent);
`process_kprobe` becomes `network` for `tcp_connect`-like hooks with a `sock_arg`/`sockaddr_arg`,
and `file` for `fd_install`/`security_file_permission`-like hooks with a `file_arg`/`path_arg`
when the access writes; `process_exit` and other kinds are understood and skipped (an exit is not
a new execution). The Kubernetes pod (`namespace/name`) is the sandbox; `node_name` the host.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..events import Event
from .base import ReadError
from .sensorutil import Skip, build, clip, direction_of, json_lines, split_args, to_int

NAME = "tetragon"

KINDS = ("process_exec", "process_kprobe", "process_exit", "process_tracepoint", "process_uprobe",
         "process_lsm", "process_loader", "process_throttle", "rate_limit_info", "test")
WRITE_HOOKS = frozenset({"security_file_permission", "security_mmap_file", "fd_install", "security_file_open"})
ALWAYS_WRITE_HOOKS = frozenset({"security_path_truncate", "vfs_write", "__x64_sys_write", "sys_write",
                                "__x64_sys_pwrite64", "vfs_writev"})
UNLINK_HOOKS = frozenset({"security_path_unlink", "security_inode_unlink", "__x64_sys_unlink",
                          "__x64_sys_unlinkat", "do_unlinkat"})
CHMOD_HOOKS = frozenset({"security_path_chmod", "__x64_sys_chmod", "__x64_sys_fchmodat"})
RENAME_HOOKS = frozenset({"security_path_rename", "security_inode_rename", "vfs_rename"})


def sniff(first: object) -> bool:
    if not isinstance(first, dict) or "kind" in first:
        return False
    return any(isinstance(first.get(k), dict) for k in KINDS[:5]) and ("time" in first or "node_name" in first)


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    return json_lines(path, name, convert, "Tetragon event")


def _common(event: dict, body: dict) -> dict[str, Any]:
    process = body.get("process") if isinstance(body.get("process"), dict) else {}
    pod = process.get("pod") if isinstance(process.get("pod"), dict) else {}
    sandbox = None
    if isinstance(pod.get("name"), str) and pod["name"]:
        sandbox = f"{pod['namespace']}/{pod['name']}" if isinstance(pod.get("namespace"), str) and pod["namespace"] \
            else pod["name"]
    ts = event.get("time") or process.get("start_time")
    if ts is None:
        raise ValueError("no 'time'")
    container = pod.get("container") if isinstance(pod.get("container"), dict) else {}
    return {"ts": ts, "host": clip(event.get("node_name"), 256), "sandbox": clip(sandbox, 512),
            "pid": to_int(process.get("pid")), "exec_id": clip(process.get("exec_id"), 256),
            "container_id": clip(container.get("id") or process.get("docker"), 128)}


def _process_fields(body: dict) -> dict[str, Any]:
    process = body.get("process") if isinstance(body.get("process"), dict) else {}
    parent = body.get("parent") if isinstance(body.get("parent"), dict) else {}
    binary = clip(process.get("binary"))
    arguments = process.get("arguments")
    argv = None
    if binary or isinstance(arguments, str):
        argv = ([binary] if binary else []) + (split_args(arguments) if isinstance(arguments, str) and arguments
                                               else [])
    uid = to_int(process.get("uid"))
    parent_args = parent.get("arguments") if isinstance(parent.get("arguments"), str) else ""
    parent_binary = clip(parent.get("binary"))
    return {"exe": binary, "argv": argv or None, "cwd": clip(process.get("cwd")),
            "user": str(uid) if uid is not None else None, "ppid": to_int(parent.get("pid")),
            "parent_exe": parent_binary,
            "parent_cmdline": clip(f"{parent_binary or ''} {parent_args}".strip()) if parent_binary else None}


def _arg(args: list, *keys: str) -> dict | None:
    for arg in args[:64]:
        if isinstance(arg, dict):
            for key in keys:
                if isinstance(arg.get(key), dict):
                    return arg[key]
    return None


def convert(event: dict, name: str, number: int, line: bytes) -> list[Event]:
    kind = next((k for k in KINDS if isinstance(event.get(k), dict)), None)
    if kind is None:
        raise ValueError(f"no known event kind among keys {sorted(event)[:8]}")
    body = event[kind]
    if kind == "process_exec":
        common = _common(event, body)
        if common["pid"] is None:
            raise ValueError("process_exec without process.pid")
        raw = {"kind": "process", **common, **_process_fields(body)}
        return [build(raw, name, number, line)]
    if kind not in ("process_kprobe", "process_tracepoint", "process_lsm"):
        raise Skip
    common = _common(event, body)
    args = body.get("args") if isinstance(body.get("args"), list) else []
    function = clip(body.get("function_name") or body.get("event") or body.get("subsys"), 256) or ""
    hook = {"tetragon_hook": function, "tetragon_policy": clip(body.get("policy_name"), 256),
            "tetragon_action": clip(body.get("action"), 64)}
    process = _process_fields(body)
    proc = {"proc_exe": process["exe"], "proc_cmdline": " ".join(process["argv"] or []) or None}
    sock = _arg(args, "sock_arg", "skb_arg")
    if sock is not None and sock.get("daddr"):
        src, dst = clip(sock.get("saddr"), 64), clip(sock.get("daddr"), 64)
        direction = "outbound" if "connect" in function or "sendmsg" in function else direction_of(src, dst)
        raw = {"kind": "network", **common, **hook, **proc, "proto": _proto(sock.get("protocol")),
               "src": src, "sport": to_int(sock.get("sport")), "dst": dst, "dport": to_int(sock.get("dport")),
               "direction": direction}
        return [build(raw, name, number, line)]
    sockaddr = _arg(args, "sockaddr_arg")
    if sockaddr is not None and sockaddr.get("addr"):
        dst = clip(sockaddr.get("addr"), 64)
        raw = {"kind": "network", **common, **hook, **proc, "dst": dst, "dport": to_int(sockaddr.get("port")),
               "direction": "outbound" if "connect" in function else "unknown"}
        return [build(raw, name, number, line)]
    file = _arg(args, "file_arg", "path_arg", "linux_binprm_arg")
    if file is not None and file.get("path"):
        path = clip(file.get("path"))
        flags = str(file.get("flags") or "")
        int_args = [a.get("int_arg") for a in args[:64] if isinstance(a, dict) and "int_arg" in a]
        op = None
        if function in UNLINK_HOOKS:
            op = "delete"
        elif function in CHMOD_HOOKS:
            op = "chmod"
        elif function in RENAME_HOOKS:
            op = "rename"
        elif function in ALWAYS_WRITE_HOOKS:
            op = "write"
        elif function in WRITE_HOOKS:
            # security_file_permission(file, mask): MAY_WRITE is 2. fd_install(fd, file) says nothing
            # of the access mode, so it counts only when the file's flags show a write mode.
            mask_writes = function in ("security_file_permission", "security_mmap_file") and any(
                isinstance(m, int) and not isinstance(m, bool) and m & 2 for m in int_args)
            if mask_writes or any(f in flags for f in ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "FMODE_WRITE")):
                op = "write"
        if op is None:
            raise Skip
        raw = {"kind": "file", **common, **hook, **proc, "path": path, "op": op}
        return [build(raw, name, number, line)]
    raise Skip


def _proto(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.upper()
    for proto in ("TCP", "UDP", "ICMP"):
        if proto in text:
            return proto.lower()
    return clip(value.lower(), 32)
