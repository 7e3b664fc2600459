"""Connections per process, from /proc/net/{tcp,tcp6,udp,udp6} joined to processes through the
socket inodes in /proc/PID/fd.

Each connection is tracked for its whole life: one `network` event when it is first seen
(extra `phase: open`), one when it is gone (`phase: close`, with `duration_s`), and, for those still
open when the sensor stops, one `phase: open_at_stop` with the duration so far — so a tunnel that
stays up for hours is two events, not one per poll. Durations are measured between polls (a lower
bound, to within one interval). Connections that open and close between two polls are missed.
The sockets come from sock_diag netlink dumps (vigiles.sensors.sock_diag) where the kernel has them,
else from /proc/net, which costs far more at rest. Either shows the sensor's own network namespace;
byte counts are in neither (left None).
"""
from __future__ import annotations

import os
import socket
import struct
import time
from typing import Callable, Iterable

from ..events import Location, Network
from .common import HOST, PollingSource, event_id
from .sock_diag import DiagError, Entry, SockDiag, open_diag

MAX_CONNS = 65_536
MAX_INODE_CACHE = 262_144
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2", 6: "TIME_WAIT",
              7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING"}
TABLES = (("tcp", "/proc/net/tcp", socket.AF_INET), ("tcp", "/proc/net/tcp6", socket.AF_INET6),
          ("udp", "/proc/net/udp", socket.AF_INET), ("udp", "/proc/net/udp6", socket.AF_INET6))


def decode_address(text: str, family: int) -> tuple[str, int]:
    """`0100007F:0016` → ('127.0.0.1', 22); IPv6 as four host-order 32-bit words."""
    host, _, port = text.partition(":")
    if family == socket.AF_INET:
        packed = struct.pack("=I", int(host, 16))
    else:
        packed = struct.pack("=IIII", *(int(host[i:i + 8], 16) for i in range(0, 32, 8)))
        if packed[:12] == b"\0" * 10 + b"\xff\xff":  # v4-mapped
            return socket.inet_ntop(socket.AF_INET, packed[12:]), int(port, 16)
    return socket.inet_ntop(family, packed), int(port, 16)


def parse_table(text: str, proto: str, family: int) -> list[Entry]:
    out: list[Entry] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        try:
            src, sport = decode_address(fields[1], family)
            dst, dport = decode_address(fields[2], family)
            out.append(Entry(proto, src, sport, dst, dport, int(fields[3], 16), int(fields[7]), int(fields[9])))
        except (ValueError, struct.error, OSError):
            continue
    return out


def read_tables(tables: Iterable[tuple[str, str, int]] = TABLES, diag: SockDiag | None = None,
                refused: set[str] | None = None) -> list[Entry]:
    """Every socket of `tables`: by sock_diag when `diag` is given, table by table, else (and for a
    table the kernel refuses to dump, remembered in `refused`) from /proc/net."""
    out: list[Entry] = []
    for proto, path, family in tables:
        if diag is not None and (refused is None or path not in refused):
            try:
                out.extend(diag.dump(proto, family))
                continue
            except DiagError:
                if refused is not None:
                    refused.add(path)
            except OSError:
                pass
        try:
            with open(path) as fh:
                out.extend(parse_table(fh.read(), proto, family))
        except OSError:
            continue
    return out


def socket_inodes(pid: int) -> set[int]:
    found: set[int] = set()
    base = f"/proc/{pid}/fd"
    try:
        names = os.listdir(base)
    except OSError:
        return found
    for name in names:
        try:
            target = os.readlink(f"{base}/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(int(target[8:-1]))
    return found


def _all_pids() -> list[int]:
    try:
        return [int(n) for n in os.listdir("/proc") if n.isdigit()]
    except OSError:
        return []


def _loopback(address: str) -> bool:
    return address.startswith("127.") or address == "::1"


class Conn:
    __slots__ = ("entry", "pid", "first", "last", "state", "open_id", "direction", "bytes_out", "bytes_in")

    def __init__(self, entry: Entry, pid: int | None, now: float) -> None:
        self.entry, self.pid, self.first, self.last, self.state = entry, pid, now, now, entry.state
        self.bytes_out, self.bytes_in = entry.bytes_out, entry.bytes_in
        self.open_id = ""
        self.direction = "outbound"


class NetTracker:
    """Call `poll()` periodically; it returns the events of that poll. `pids()` gives the processes
    whose sockets count (None: every process on the host)."""

    def __init__(self, pids: Callable[[], Iterable[int] | None] = lambda: None,
                 tables: Iterable[tuple[str, str, int]] = TABLES, max_conns: int = MAX_CONNS,
                 diag: bool = True) -> None:
        self.pids = pids
        self.tables = tuple(tables)
        self.diag = open_diag() if diag and self.tables == TABLES else None
        """sock_diag, for the host's own tables (a test's tables are files: read as given)."""
        self.refused: set[str] = set()
        self.max_conns = max_conns
        self.conns: dict[tuple, Conn] = {}
        self.owner: dict[int, int] = {}
        self.foreign: set[int] = set()
        self.stats = {"polls": 0, "opened": 0, "closed": 0, "dropped_capacity": 0,
                      "reader": "sock_diag" if self.diag is not None else "proc"}

    def poll(self, now: float | None = None) -> list[Network]:
        now = time.time() if now is None else now
        self.stats["polls"] += 1
        entries = read_tables(self.tables, self.diag, self.refused)
        listening = {(e.proto, e.sport) for e in entries if e.state == 10 or (e.proto == "udp" and e.dport == 0)}
        live = [e for e in entries if e.inode and e.dport and e.state != 10]
        inodes = {e.inode for e in live}
        self.owner = {i: p for i, p in self.owner.items() if i in inodes}
        self.foreign &= inodes
        unknown = inodes - self.owner.keys() - self.foreign
        selected = self.pids()
        selected = None if selected is None else set(selected)
        if unknown:
            self._resolve(unknown, selected, {e.uid for e in live if e.inode in unknown})
        out: list[Network] = []
        current: set[tuple] = set()
        for e in live:
            pid = self.owner.get(e.inode)
            if selected is not None and pid not in selected:
                continue
            key = (e.proto, e.inode, e.src, e.sport, e.dst, e.dport)
            current.add(key)
            conn = self.conns.get(key)
            if conn is not None:
                conn.last, conn.state = now, e.state
                if e.bytes_out is not None:
                    conn.bytes_out, conn.bytes_in = e.bytes_out, e.bytes_in
                continue
            if len(self.conns) >= self.max_conns:
                self.stats["dropped_capacity"] += 1
                continue
            conn = self.conns[key] = Conn(e, pid, now)
            self.stats["opened"] += 1
            inbound = (e.proto, e.sport) in listening
            out.append(self._event(conn, "open", now, inbound))
        for key in [k for k in self.conns if k not in current]:
            conn = self.conns.pop(key)
            self.stats["closed"] += 1
            out.append(self._event(conn, "close", conn.last, None))
        return out

    def finish(self) -> list[Network]:
        """Events for the connections still open (the sensor is stopping); the dump socket is closed."""
        out = [self._event(c, "open_at_stop", c.last, None) for c in self.conns.values()]
        self.conns.clear()
        if self.diag is not None:
            self.diag.close()
            self.diag = None
        return out

    def _resolve(self, unknown: set[int], selected: set[int] | None, uids: set[int] | None = None) -> None:
        candidates = sorted(selected) if selected is not None else _all_pids()
        left = set(unknown)
        for pid in candidates:
            if not left:
                break
            if uids is not None and selected is None:
                try:  # a socket's uid is its creator's: skip other users' processes (one stat, not every fd)
                    if os.stat(f"/proc/{pid}").st_uid not in uids:
                        continue
                except OSError:
                    continue
            hits = socket_inodes(pid) & left
            for inode in hits:
                self.owner[inode] = pid
            left -= hits
        if len(self.owner) > MAX_INODE_CACHE:
            self.owner.clear()
        if len(self.foreign) < MAX_INODE_CACHE:
            self.foreign |= left

    def _event(self, conn: Conn, phase: str, ts: float, inbound: bool | None) -> Network:
        e = conn.entry
        if inbound is not None:
            conn.direction = "internal" if _loopback(e.dst) and _loopback(e.src) else (
                "inbound" if inbound else "outbound")
        direction = conn.direction
        event = Network(id=event_id("network", phase, e.proto, e.inode, e.src, e.sport, e.dst, e.dport, conn.first),
                        ts=ts, host=HOST, pid=conn.pid, proto=e.proto, src=e.src, sport=e.sport, dst=e.dst,
                        dport=e.dport, direction=direction, bytes_out=conn.bytes_out, bytes_in=conn.bytes_in,
                        duration_s=None if phase == "open" else round(conn.last - conn.first, 3))
        event.extra = {"sensor": "netconns", "phase": phase, "state": TCP_STATES.get(conn.state, str(conn.state))
                       if e.proto == "tcp" else None, "first_seen": conn.first, "uid": e.uid}
        event.source = Location("live:netconns")
        if phase == "open":
            conn.open_id = event.id
        else:
            event.extra["open_event"] = conn.open_id
        return event


class NetSource(PollingSource):
    """The tracker on a thread, every `interval` seconds."""

    name = "netconns"
    thread_name = "vigiles-net"

    def __init__(self, emit: Callable, pids: Callable[[], Iterable[int] | None], interval: float = 0.5) -> None:
        super().__init__(emit, interval)
        self.tracker = NetTracker(pids)
        self.stats = self.tracker.stats

    def poll(self) -> list:
        return self.tracker.poll()

    def start(self) -> None:
        self._start_thread()

    def stop(self) -> None:
        self._stop_thread()
        for event in self.tracker.poll():
            self.emit(event)
        for event in self.tracker.finish():
            self.emit(event)