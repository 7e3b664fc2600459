"""Linux audit logs (auditd's `/var/log/audit/audit.log`, raw or ENRICHED, optionally `node=` prefixed).

One kernel event is several records (lines) sharing a serial in `msg=audit(SECONDS.MS:SERIAL)`:
SYSCALL, then EXECVE, CWD, PATH, PROCTITLE, SOCKADDR, ..., then EOE. Records of different events may
interleave; they are gathered per (node, serial) and an event is emitted at its EOE, or when it
grows old (more than `MAX_AGE_S` behind the newest record), or when more than `MAX_PENDING` events
wait (the oldest goes first), or at the end of the file. An execve becomes one `process` event, a
connect with an internet SOCKADDR one `network` event, a watched file created, deleted, renamed,
chmod-ed or opened for writing one `file` event; other events are skipped.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import re2

from ..events import Event, EventError
from .base import ReadError, data_lines
from .sensorutil import MAX_ARGS, MAX_TEXT, build, ip_of, is_local, to_int

NAME = "auditd"

MAX_PENDING = 256
MAX_AGE_S = 10.0
MAX_RECORDS = 512
"""Most records kept for one event (a huge EXECVE is split over several)."""

TYPE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
HEX_CHARS = frozenset("0123456789abcdefABCDEF")
SYSARG = re2.compile(r"^[0-9A-Fa-f]{1,16}$")

# syscall numbers per audit arch (x86_64, aarch64, i386 where it differs); ENRICHED logs name them.
SYSCALLS = {
    "c000003e": {59: "execve", 322: "execveat", 42: "connect", 2: "open", 257: "openat", 437: "openat2",
                 85: "creat", 87: "unlink", 263: "unlinkat", 82: "rename", 264: "renameat", 316: "renameat2",
                 90: "chmod", 91: "fchmod", 268: "fchmodat"},
    "c00000b7": {221: "execve", 281: "execveat", 203: "connect", 56: "openat", 437: "openat2", 35: "unlinkat",
                 38: "renameat", 276: "renameat2", 52: "fchmod", 53: "fchmodat"},
    "40000003": {11: "execve", 358: "execveat", 362: "connect", 5: "open", 295: "openat", 8: "creat",
                 10: "unlink", 301: "unlinkat", 38: "rename", 302: "renameat", 15: "chmod", 306: "fchmodat"},
}
EXEC = frozenset({"execve", "execveat"})
OPENS = {"open": 1, "openat": 2, "openat2": None, "creat": None}
"""Which syscall argument (a0..a3, hex) holds the open flags; None: always a write (creat) or unknown."""
UNSET_ID = "4294967295"


@dataclass(slots=True)
class Pending:
    ts: float
    line: int
    host: str | None
    serial: str
    records: list[tuple[str, dict[str, str], dict[str, str]]] = field(default_factory=list)


def sniff(head: bytes) -> bool:
    if b"msg=audit(" not in head[:16384]:
        return False
    for line in head.split(b"\n")[:8]:
        text = line.strip()
        if text:
            return parse_header(text.decode("utf-8", "replace")) is not None
    return False


def parse_header(text: str) -> tuple[str | None, str, float, str, str] | None:
    """(node, type, seconds, serial, rest) of `[node=N ]type=T msg=audit(S.MS:SERIAL): rest`, else None.

    The record may follow a syslog prefix; scanning is by `str.find`, linear in the line.
    """
    at = text.find("type=")
    if at < 0:
        return None
    host = None
    node = text.rfind("node=", 0, at)
    if node >= 0 and (node == 0 or text[node - 1] == " "):
        host = text[node + 5:at].strip() or None
        if host is not None and (" " in host or len(host) > 256):
            host = None
    rtype, sep, rest = text[at + 5:].partition(" msg=audit(")
    if not sep or not rtype or len(rtype) > 64 or not TYPE_CHARS.issuperset(rtype):
        return None
    stamp, sep, rest = rest.partition("):")
    seconds, colon, serial = stamp.partition(":")
    whole, _, frac = seconds.partition(".")
    if not sep or not colon or not serial.isdigit() or len(serial) > 20 or not whole.isdigit() \
            or len(whole) > 12 or (frac and (not frac.isdigit() or len(frac) > 9)):
        return None
    return host, rtype, float(seconds), serial, rest[1:] if rest.startswith(" ") else rest


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    with open(path, "rb") as stream:
        yield from read_stream(stream, name)


def read_stream(stream, name: str) -> Iterator[Event | ReadError]:
    pending: OrderedDict[tuple[str | None, str], Pending] = OrderedDict()
    newest = 0.0
    for item in data_lines(stream, name):
        if isinstance(item, ReadError):
            yield item
            continue
        number, raw = item
        text = raw.decode("utf-8", "replace").strip()
        if not text:
            continue
        parsed = parse_header(text)
        if parsed is None:
            yield ReadError(name, number, "not an audit record (expected 'type=TYPE msg=audit(SECONDS:SERIAL): ...')")
            continue
        host, rtype, ts, serial, rest = parsed
        key = (host, serial)
        if rtype == "EOE":
            done = pending.pop(key, None)
            if done is not None:
                yield from _emit(done, name)
            continue
        event = pending.get(key)
        if event is None:
            event = pending[key] = Pending(ts, number, host, serial)
        body, _, enriched = rest.partition("\x1d")
        if len(event.records) < MAX_RECORDS:
            event.records.append((rtype, _fields(body), _fields(enriched)))
        if ts > newest:
            newest = ts
        # Events missing their EOE: flush the old ones, and never hold more than MAX_PENDING.
        while pending:
            oldest_key, oldest = next(iter(pending.items()))
            if oldest_key != key and (len(pending) > MAX_PENDING or oldest.ts < newest - MAX_AGE_S):
                pending.popitem(last=False)
                yield from _emit(oldest, name)
            else:
                break
    for event in pending.values():
        yield from _emit(event, name)


def _fields(text: str) -> dict[str, str]:
    """key=value pairs separated by spaces; a value may be "double" or 'single' quoted (with spaces)."""
    out: dict[str, str] = {}
    tokens = text.split(" ")
    i, n = 0, len(tokens)
    while i < n and len(out) < 4 * MAX_ARGS:
        key, eq, value = tokens[i].partition("=")
        i += 1
        if not eq:
            continue
        if value and value[0] in "\"'" and (len(value) == 1 or value[-1] != value[0]):
            quote, parts = value[0], [value]
            while i < n:  # a quoted value with spaces in it: join up to the closing quote
                parts.append(tokens[i])
                i += 1
                if tokens[i - 1].endswith(quote):
                    break
            value = " ".join(parts)
        if key and len(key) <= 64:
            out.setdefault(key, value)
    return out


def _is_hex(value: str) -> bool:
    return bool(value) and len(value) % 2 == 0 and HEX_CHARS.issuperset(value)


def _arg_key(key: str) -> tuple[int, int | None] | None:
    """a3 → (3, None); a3[1] → (3, 1); anything else (a3_len, argc) → None."""
    if len(key) < 2 or key[0] != "a":
        return None
    index, bracket, chunk = key[1:].partition("[")
    if not index.isdigit() or len(index) > 6:
        return None
    if not bracket:
        return int(index), None
    if not chunk.endswith("]") or not chunk[:-1].isdigit() or len(chunk) > 7:
        return None
    return int(index), int(chunk[:-1])


def decode(value: str | None) -> str | None:
    """An audit value: "quoted" text, (null), or hex-encoded bytes (for text with spaces or odd bytes)."""
    if value is None or value in ("(null)", "(none)"):
        return None
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1][:MAX_TEXT]
    if _is_hex(value):
        return bytes.fromhex(value[: 2 * MAX_TEXT]).decode("utf-8", "replace")
    return value[:MAX_TEXT]


def _argv(records: list) -> tuple[list[str] | None, bool]:
    """Arguments from the EXECVE records (argc, a0.., or aN_len with aN[i] chunks)."""
    args: dict[int, str] = {}
    chunks: dict[int, dict[int, str]] = {}
    argc = None
    for rtype, fields, _ in records:
        if rtype != "EXECVE":
            continue
        if argc is None:
            argc = to_int(fields.get("argc"))
        for key, value in fields.items():
            parsed = _arg_key(key)
            if parsed is None or parsed[0] >= MAX_ARGS:
                continue
            index, chunk = parsed
            if chunk is None:
                args[index] = decode(value) or ""
            else:
                chunks.setdefault(index, {})[chunk] = decode(value) or ""
    for index, parts in chunks.items():
        args[index] = "".join(parts[i] for i in sorted(parts))[:MAX_TEXT]
    if not args:
        return None, False
    count = min(argc if argc is not None else max(args) + 1, MAX_ARGS)
    argv = [args.get(i, "") for i in range(count)]
    return argv, argc is not None and argc > MAX_ARGS


def _sockaddr(hex_text: str | None) -> tuple[str | None, str | None, int | None]:
    """(family, address, port) from SOCKADDR's saddr: sockaddr_in / sockaddr_in6 / sockaddr_un."""
    if not hex_text or len(hex_text) > 512 or not _is_hex(hex_text):
        return None, None, None
    data = bytes.fromhex(hex_text)
    if len(data) < 2:
        return None, None, None
    family = int.from_bytes(data[:2], "little")  # host order; audit logs come from little-endian hosts
    if family == 2 and len(data) >= 8:
        return "inet", ".".join(str(b) for b in data[4:8]), int.from_bytes(data[2:4], "big")
    if family == 10 and len(data) >= 24:
        ip = ip_of(":".join(data[8 + i: 10 + i].hex() for i in range(0, 16, 2)))
        return "inet6", str(ip) if ip else None, int.from_bytes(data[2:4], "big")
    if family == 1:
        return "unix", data[2:].split(b"\0", 1)[0].decode("utf-8", "replace") or None, None
    return str(family), None, None


def _first(records: list, rtype: str) -> tuple[dict[str, str], dict[str, str]] | None:
    for kind, fields, enriched in records:
        if kind == rtype:
            return fields, enriched
    return None


def _user(sys: dict[str, str], enr: dict[str, str]) -> str | None:
    auid = sys.get("auid")
    if auid and auid != UNSET_ID:
        name = decode(enr.get("AUID"))
        return name if name and name != "unset" else auid
    uid = sys.get("uid")
    name = decode(enr.get("UID"))
    return name or uid


def _emit(event: Pending, name: str) -> Iterator[Event | ReadError]:
    found = _first(event.records, "SYSCALL")
    if found is None:
        return  # user-space records (logins, USER_CMD, ...) carry no syscall to map
    sys, enr = found
    syscall = decode(enr.get("SYSCALL")) or SYSCALLS.get(sys.get("arch", ""), {}).get(to_int(sys.get("syscall")) or -1)
    cwd_rec = _first(event.records, "CWD")
    cwd = decode(cwd_rec[0].get("cwd")) if cwd_rec else None
    common: dict[str, Any] = {
        "ts": event.ts, "host": event.host, "pid": to_int(sys.get("pid")),
        "audit_serial": event.serial, "audit_key": decode(sys.get("key")), "syscall": syscall or sys.get("syscall"),
        "success": sys.get("success"), "uid": to_int(sys.get("uid")), "euid": to_int(sys.get("euid")),
        "comm": decode(sys.get("comm")),
    }
    paths = [(f, e) for kind, f, e in event.records if kind == "PATH"]
    try:
        if syscall in EXEC or _first(event.records, "EXECVE") is not None:
            argv, truncated = _argv(event.records)
            if argv is None:
                title = _first(event.records, "PROCTITLE")
                text = decode(title[0].get("proctitle")) if title else None
                argv = [a for a in text.split("\0")][:MAX_ARGS] if text else None
            exe = decode(sys.get("exe")) or (decode(paths[0][0].get("name")) if paths else None)
            if common["pid"] is None:
                raise EventError("SYSCALL record without pid")
            raw = {"kind": "process", **common, "ppid": to_int(sys.get("ppid")), "exe": exe, "argv": argv,
                   "cwd": cwd, "user": _user(sys, enr), "argv_truncated": True if truncated else None}
            yield build(raw, name, event.line, f"auditd:{event.host}:{event.ts}:{event.serial}:process".encode())
            return
        sock = _first(event.records, "SOCKADDR")
        if sock is not None and syscall == "connect":
            family, addr, port = _sockaddr(sock[0].get("saddr"))
            if family not in ("inet", "inet6") or addr is None:
                return
            local = is_local(addr)
            raw = {"kind": "network", **common, "dst": addr, "dport": port,
                   "direction": "internal" if local else "outbound", "family": family,
                   "exit": to_int(sys.get("exit")), "exe": decode(sys.get("exe")), "user": _user(sys, enr)}
            yield build(raw, name, event.line, f"auditd:{event.host}:{event.ts}:{event.serial}:network".encode())
            return
        file_raw = _file(syscall, sys, paths, cwd)
        if file_raw is not None:
            raw = {"kind": "file", **common, **file_raw, "exe": decode(sys.get("exe")), "user": _user(sys, enr)}
            yield build(raw, name, event.line, f"auditd:{event.host}:{event.ts}:{event.serial}:file".encode())
    except EventError as exc:
        yield ReadError(name, event.line, f"audit event {event.serial}: {exc}")


def _file(syscall: str | None, sys: dict[str, str], paths: list, cwd: str | None) -> dict[str, Any] | None:
    if not syscall or not paths or sys.get("success") == "no":
        return None

    def full(fields: dict[str, str]) -> str | None:
        path = decode(fields.get("name"))
        if path and not path.startswith("/") and cwd:
            path = cwd.rstrip("/") + "/" + path
        return path

    by_type: dict[str, list[str]] = {}
    for fields, _ in paths:
        path = full(fields)
        if path:
            by_type.setdefault(fields.get("nametype", ""), []).append(path)
    if syscall.startswith("rename"):
        old, new = by_type.get("DELETE", []), by_type.get("CREATE", [])
        if old:
            return {"path": old[0], "op": "rename", "new_path": new[0] if new else None}
        return None
    if "unlink" in syscall and by_type.get("DELETE"):
        return {"path": by_type["DELETE"][0], "op": "delete"}
    if "chmod" in syscall:
        target = by_type.get("NORMAL") or [p for ps in by_type.values() for p in ps]
        return {"path": target[-1], "op": "chmod"} if target else None
    if syscall in OPENS:
        if by_type.get("CREATE"):
            return {"path": by_type["CREATE"][0], "op": "create"}
        index = OPENS[syscall]
        value = sys.get(f"a{index}", "") if index is not None else ""
        flags = int(value, 16) if SYSARG.match(value) else None
        if syscall == "creat" or (flags is not None and flags & 0o3):  # O_WRONLY | O_RDWR
            target = by_type.get("NORMAL") or [p for ps in by_type.values() for p in ps]
            return {"path": target[-1], "op": "write"} if target else None
    return None
