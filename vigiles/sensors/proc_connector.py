"""The Linux process-events connector (cn_proc): every fork, exec and exit on the host, as it happens.

A plain netlink socket (``AF_NETLINK``, ``NETLINK_CONNECTOR``) bound to the ``CN_IDX_PROC`` group;
after ``PROC_CN_MCAST_LISTEN`` the kernel sends one datagram per process event. Needs
CAP_NET_ADMIN (root). Layouts (all native-endian, x86-64 and arm64 alike):

``struct nlmsghdr`` (linux/netlink.h, 16 bytes)
    u32 nlmsg_len, u16 nlmsg_type, u16 nlmsg_flags, u32 nlmsg_seq, u32 nlmsg_pid
``struct cn_msg`` (linux/connector.h, 20 bytes)
    struct cb_id {u32 idx, u32 val}, u32 seq, u32 ack, u16 len, u16 flags, u8 data[]
``struct proc_event`` (linux/cn_proc.h)
    u32 what, u32 cpu, u64 timestamp_ns (aligned 8; CLOCK_MONOTONIC ns), then a union:
    fork {parent_pid, parent_tgid, child_pid, child_tgid}; exec {pid, tgid};
    id (uid/gid) {pid, tgid, ruid|rgid, euid|egid}; sid {pid, tgid};
    ptrace {pid, tgid, tracer_pid, tracer_tgid}; comm {pid, tgid, char comm[16]};
    coredump {pid, tgid, parent_pid, parent_tgid}; exit {pid, tgid, exit_code, exit_signal,
    parent_pid, parent_tgid} (the parent fields since Linux 4.19; older kernels send 8 bytes fewer).

The reader does as little as it can: parse, and on exec read the new program's details from /proc
at once (`read_details`), because a short-lived process may be gone a few milliseconds later.

Since Linux 6.6 a listener may send ``struct proc_input {u32 mcast_op; u32 event_type}`` instead
of the bare op, and the kernel then delivers only the event kinds in the ``event_type`` mask
(drivers/connector/cn_proc.c, cn_filter). The reader uses two such sockets: it sleeps on one that
carries execs only, and on each wake drains the other (forks and exits) without blocking. Waking
costs far more than reading here, and a fork and an exit come with nearly every exec: this cuts the
wakes to one per exec.
"""
from __future__ import annotations

import errno
import os
import select
import socket
import struct
import sys
from typing import NamedTuple

from .common import process_event, split_args, wall_offset

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSG_OVERRUN = 4
PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2

PROC_EVENT_NONE = 0x00000000
PROC_EVENT_FORK = 0x00000001
PROC_EVENT_EXEC = 0x00000002
PROC_EVENT_UID = 0x00000004
PROC_EVENT_GID = 0x00000040
PROC_EVENT_SID = 0x00000080
PROC_EVENT_PTRACE = 0x00000100
PROC_EVENT_COMM = 0x00000200
PROC_EVENT_NONZERO_EXIT = 0x20000000
PROC_EVENT_COREDUMP = 0x40000000
PROC_EVENT_EXIT = 0x80000000

NAMES = {PROC_EVENT_NONE: "ack", PROC_EVENT_FORK: "fork", PROC_EVENT_EXEC: "exec", PROC_EVENT_UID: "uid",
         PROC_EVENT_GID: "gid", PROC_EVENT_SID: "sid", PROC_EVENT_PTRACE: "ptrace", PROC_EVENT_COMM: "comm",
         PROC_EVENT_NONZERO_EXIT: "nonzero_exit", PROC_EVENT_COREDUMP: "coredump", PROC_EVENT_EXIT: "exit"}

NLMSGHDR = struct.Struct("=IHHII")
CN_MSG = struct.Struct("=IIIIHH")
EVENT_HEAD = struct.Struct("=IIQ")
_I2 = struct.Struct("=ii")
_I4 = struct.Struct("=iiii")
_ID = struct.Struct("=iiII")
_COMM = struct.Struct("=ii16s")
_EXIT = struct.Struct("=iiII")
_EXIT_PARENT = struct.Struct("=ii")
_OP = struct.Struct("=I")
_INPUT = struct.Struct("=II")
EXEC_DATAGRAM = struct.Struct("=IHHIIIIIIHHIIQii")
"""The head of a datagram that holds one exec event and nothing else: nlmsghdr, cn_msg, the event's
what/cpu/timestamp and exec {pid, tgid}. The kernel sends the whole proc_event (its largest union
member), so the datagram is longer than this; nlmsg_len says whether it is one message."""

RCVBUF_BYTES = 8 * 1024 * 1024
READER_NICE = -10
IDLE_WAKE_S = 0.5
"""How often an idle reader wakes to see whether it is asked to stop: every wake of a thread costs
about 100 µs of CPU on a virtual machine, so it is not done more often than needed."""
RECV_BYTES = 65536
MAX_DRAIN = 4096
FILTER_SINCE = (6, 6)


class ProcEvent(NamedTuple):
    """One parsed proc_event. `pid`/`tgid` are the subject's; `ppid`/`ptgid` its parent's (fork,
    exit, coredump) or the tracer's (ptrace); `info` holds the rest (uid/gid, comm, exit code)."""

    what: str
    cpu: int
    timestamp_ns: int
    pid: int
    tgid: int
    ppid: int | None = None
    ptgid: int | None = None
    info: tuple = ()


def listen_message(op: int = PROC_CN_MCAST_LISTEN, nl_pid: int = 0, seq: int = 0,
                   events: int | None = None) -> bytes:
    """The datagram that subscribes to (or, with PROC_CN_MCAST_IGNORE, leaves) process events;
    with `events`, a mask of PROC_EVENT_* kinds, only those (struct proc_input, Linux >= 6.6)."""
    payload = _OP.pack(op) if events is None else _INPUT.pack(op, events)
    cn = CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, seq, 0, len(payload), 0) + payload
    return NLMSGHDR.pack(NLMSGHDR.size + len(cn), NLMSG_DONE, 0, seq, nl_pid) + cn


def parse_event(data: bytes | memoryview) -> ProcEvent | None:
    """One struct proc_event (the cn_msg payload); None for a kind this reader does not know."""
    if len(data) < EVENT_HEAD.size:
        return None
    what, cpu, ts = EVENT_HEAD.unpack_from(data, 0)
    off = EVENT_HEAD.size
    body = len(data) - off
    if what == PROC_EVENT_FORK and body >= _I4.size:
        ppid, ptgid, pid, tgid = _I4.unpack_from(data, off)
        return ProcEvent("fork", cpu, ts, pid, tgid, ppid, ptgid)
    if what == PROC_EVENT_EXEC and body >= _I2.size:
        pid, tgid = _I2.unpack_from(data, off)
        return ProcEvent("exec", cpu, ts, pid, tgid)
    if what in (PROC_EVENT_EXIT, PROC_EVENT_NONZERO_EXIT) and body >= _EXIT.size:
        pid, tgid, code, sig = _EXIT.unpack_from(data, off)
        ppid = ptgid = None
        if body >= _EXIT.size + _EXIT_PARENT.size:
            ppid, ptgid = _EXIT_PARENT.unpack_from(data, off + _EXIT.size)
        return ProcEvent(NAMES[what], cpu, ts, pid, tgid, ppid, ptgid, (code, sig))
    if what in (PROC_EVENT_UID, PROC_EVENT_GID) and body >= _ID.size:
        pid, tgid, real, effective = _ID.unpack_from(data, off)
        return ProcEvent(NAMES[what], cpu, ts, pid, tgid, info=(real, effective))
    if what == PROC_EVENT_SID and body >= _I2.size:
        pid, tgid = _I2.unpack_from(data, off)
        return ProcEvent("sid", cpu, ts, pid, tgid)
    if what in (PROC_EVENT_PTRACE, PROC_EVENT_COREDUMP) and body >= _I4.size:
        pid, tgid, ppid, ptgid = _I4.unpack_from(data, off)
        return ProcEvent(NAMES[what], cpu, ts, pid, tgid, ppid, ptgid)
    if what == PROC_EVENT_COMM and body >= _COMM.size:
        pid, tgid, comm = _COMM.unpack_from(data, off)
        return ProcEvent("comm", cpu, ts, pid, tgid, info=(comm.split(b"\0", 1)[0].decode("utf-8", "replace"),))
    if what == PROC_EVENT_NONE and body >= 4:
        (err,) = _OP.unpack_from(data, off)
        return ProcEvent("ack", cpu, ts, 0, 0, info=(err,))
    return None


def parse_datagram(data: bytes) -> tuple[list[ProcEvent], int]:
    """Every proc_event in one netlink datagram (there may be several messages); and how many
    overrun/error messages it carried."""
    events: list[ProcEvent] = []
    problems = 0
    view = memoryview(data)
    off = 0
    while off + NLMSGHDR.size <= len(data):
        length, kind, _flags, _seq, _pid = NLMSGHDR.unpack_from(data, off)
        if length < NLMSGHDR.size or off + length > len(data):
            problems += 1
            break
        if kind in (NLMSG_ERROR, NLMSG_OVERRUN):
            problems += 1
        elif kind != NLMSG_NOOP:
            start = off + NLMSGHDR.size
            if length - NLMSGHDR.size >= CN_MSG.size:
                idx, val, _s, _a, plen, _f = CN_MSG.unpack_from(data, start)
                body = start + CN_MSG.size
                if idx == CN_IDX_PROC and val == CN_VAL_PROC and body + plen <= off + length:
                    event = parse_event(view[body:body + plen])
                    if event is not None:
                        events.append(event)
        off += (length + 3) & ~3  # NLMSG_ALIGN
    return events, problems


def lone_exec(data: bytes) -> tuple[int, int] | None:
    """(tgid, timestamp_ns) when `data` is exactly one exec event, which is all a socket that carries
    execs only receives; None for anything else (`parse_datagram` reads that). One unpack instead of
    the general walk: this runs once per exec on the host."""
    if len(data) < EXEC_DATAGRAM.size:
        return None
    (length, kind, _f, _s, _p, idx, val, _cs, _ca, plen, _cf, what, _cpu, ts, _pid,
     tgid) = EXEC_DATAGRAM.unpack_from(data, 0)
    if (length != len(data) or kind != NLMSG_DONE or idx != CN_IDX_PROC or val != CN_VAL_PROC
            or what != PROC_EVENT_EXEC or NLMSGHDR.size + CN_MSG.size + plen > length):
        return None
    return tgid, ts


class ProcConnector:
    """The subscribed socket. `read()` returns the events of one datagram (or [] on timeout);
    a full receive queue (ENOBUFS) is counted in `overruns` and reading goes on."""

    def __init__(self, rcvbuf: int = RCVBUF_BYTES, timeout: float | None = 0.2, events: int | None = None) -> None:
        self.overruns = 0
        self.bad_messages = 0
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        try:
            for option in (getattr(socket, "SO_RCVBUFFORCE", 33), socket.SO_RCVBUF):
                try:  # SO_RCVBUFFORCE ignores rmem_max (root); SO_RCVBUF is capped by it
                    self.sock.setsockopt(socket.SOL_SOCKET, option, rcvbuf)
                    break
                except OSError:
                    continue
            self.sock.bind((0, CN_IDX_PROC))
            if timeout:  # a kernel-side receive timeout: one system call per datagram, not poll + recv
                usec = int(timeout * 1e6)
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", usec // 1_000_000,
                                                                                        usec % 1_000_000))
            else:
                self.sock.settimeout(timeout)
            self.sock.send(listen_message(PROC_CN_MCAST_LISTEN, self.sock.getsockname()[0], events=events))
        except OSError:
            self.sock.close()
            raise
        self.events = events
        self._ready = select.poll()
        self._ready.register(self.sock, select.POLLIN)

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> list[ProcEvent]:
        """The events of one datagram, waiting for it up to the socket's timeout."""
        data = self._receive(0)
        return self._parse(data) if data else []

    def receive(self) -> bytes | None:
        """One datagram as it came, waiting up to the socket's timeout; None or b"" when none came
        (see `_receive`)."""
        return self._receive(0)

    def drain(self, limit: int = MAX_DRAIN) -> list[ProcEvent]:
        """Every event already queued, without waiting. A poll asks whether anything is queued: a
        receive that finds nothing raises in Python, which costs several times the system call."""
        out: list[ProcEvent] = []
        ready = self._ready.poll
        for _ in range(limit):
            if not ready(0):
                break
            data = self._receive(socket.MSG_DONTWAIT)
            if data is None:
                break
            if data:
                out.extend(self._parse(data))
        return out

    def _receive(self, flags: int) -> bytes | None:
        """One datagram; b"" when the kernel's queue overflowed (counted in `overruns`); None when
        nothing came (timeout, interrupted, or nothing queued)."""
        try:
            return self.sock.recv(RECV_BYTES, flags)
        except socket.timeout:
            return None
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                self.overruns += 1
                return b""
            if exc.errno in (errno.EINTR, errno.EAGAIN, errno.EWOULDBLOCK):
                return None
            raise

    def _parse(self, data: bytes) -> list[ProcEvent]:
        events, problems = parse_datagram(data)
        self.bad_messages += problems
        return events

    def close(self) -> None:
        try:
            self.sock.send(listen_message(PROC_CN_MCAST_IGNORE, self.sock.getsockname()[0], events=self.events))
        except OSError:
            pass
        self.sock.close()


def filtering_supported(release: str | None = None) -> bool:
    """Whether this kernel filters process events per socket (Linux >= 6.6)."""
    release = os.uname().release if release is None else release
    try:
        major, minor = (int(part) for part in release.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= FILTER_SINCE


def available() -> tuple[bool, str]:
    """Whether the connector can be opened here, and why not."""
    try:
        ProcConnector(timeout=0).close()
        return True, ""
    except PermissionError:
        return False, "the process connector needs root (CAP_NET_ADMIN)"
    except OSError as exc:
        return False, f"the process connector is unavailable: {exc.strerror or exc}"


class Details(NamedTuple):
    argv: list[str] | None
    exe: str | None
    cwd: str | None
    ppid: int | None
    uid: int | None


MAX_CMDLINE = 128 * 1024


def _read_at(name: str, size: int, directory: int) -> bytes:
    fd = os.open(name, os.O_RDONLY | os.O_CLOEXEC, dir_fd=directory)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def read_details(pid: int, ppid_known: int | None = None) -> Details | None:
    """argv, exe, cwd, ppid and (effective) uid of a running process, read from /proc with as few
    system calls as it takes; None when it is gone (or a zombie: its cmdline is empty).

    A new process's /proc entries are built on first use, and reading them costs far more than
    the same reads repeated (about 130 µs against 13 µs here), so: one lookup of /proc/PID, the
    rest relative to it, and /proc/PID/stat only when the parent is not already known (its fork
    was seen)."""
    try:
        directory = os.open(f"/proc/{pid}", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        raw = _read_at("cmdline", MAX_CMDLINE, directory)
        if not raw:
            return None  # exited (zombie) or a kernel thread
        ppid = ppid_known
        if ppid is None:
            stat = _read_at("stat", 1024, directory)
            try:  # "pid (comm) state ppid ...": comm may hold spaces and parentheses
                ppid = int(stat[stat.rindex(b")") + 2:].split(None, 2)[1])
            except (ValueError, IndexError):
                ppid = None
        uid = os.fstat(directory).st_uid
        try:
            exe = os.readlink("exe", dir_fd=directory)
        except OSError:
            exe = None
        try:
            cwd = os.readlink("cwd", dir_fd=directory)
        except OSError:
            cwd = None
    except OSError:
        return None
    finally:
        os.close(directory)
    return Details(split_args(raw), exe, cwd, ppid, uid)


def _timestamp(event: ProcEvent) -> int:
    return event.timestamp_ns


class ConnectorSource:
    """The process sensor on the connector: a reader thread that keeps the tree and emits one
    `process` event per exec (of the watched tree, or of the whole host)."""

    name = "netlink"

    def __init__(self, emit, tree, only_watched: bool = False, rcvbuf: int = RCVBUF_BYTES) -> None:
        self.emit = emit
        self.tree = tree
        self.only_watched = only_watched
        self.offset = wall_offset()
        self.tree_conn: ProcConnector | None = None
        self.filtered = filtering_supported()
        # Forks and exits are followed only where needed: a watch needs them (which processes descend
        # from the watched one, through forks that exec nothing); a host-wide sensor on a kernel that
        # filters reads only execs, each one's parent from /proc/PID/stat (`keeps_tree`).
        if self.filtered:
            self.conn = ProcConnector(rcvbuf=rcvbuf, events=PROC_EVENT_EXEC, timeout=IDLE_WAKE_S)
            if only_watched:
                try:
                    self.tree_conn = ProcConnector(rcvbuf=rcvbuf, events=PROC_EVENT_FORK | PROC_EVENT_EXIT,
                                                   timeout=None)
                except OSError:
                    self.conn.close()
                    raise
        else:
            self.conn = ProcConnector(rcvbuf=rcvbuf)
        self.stats = {"execs": 0, "lost_exec_details": 0, "forks": 0, "exits": 0, "overruns": 0,
                      "bad_messages": 0, "skipped_unwatched": 0}
        self._stop = False
        self._thread = None

    @property
    def keeps_tree(self) -> bool:
        """Whether forks and exits are followed (every one is, on a kernel that does not filter)."""
        return self.only_watched or not self.filtered

    def start(self) -> None:
        import threading
        self._thread = threading.Thread(target=self._run, name="vigiles-netlink", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.conn.close()
        if self.tree_conn is not None:
            self.tree_conn.close()
        self._count_problems()

    def _count_problems(self) -> None:
        conns = [self.conn] + ([self.tree_conn] if self.tree_conn is not None else [])
        self.stats["overruns"] = sum(c.overruns for c in conns)
        self.stats["bad_messages"] = sum(c.bad_messages for c in conns)

    def _run(self) -> None:
        import threading
        try:  # this thread races short-lived processes for their /proc entries: let it run first (root)
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), READER_NICE)
            self.stats["reader_nice"] = READER_NICE
        except (OSError, AttributeError):
            pass
        self.stats["filtered"] = self.filtered
        try:
            if self.tree_conn is None and self.filtered:
                self._read_execs()
            else:
                self._read_all()
        except OSError as exc:
            sys.stderr.write(f"vigiles: process connector read failed: {exc}\n")

    def _read_execs(self) -> None:
        """The loop of a host-wide sensor on a kernel that filters: each datagram is one exec."""
        receive, parse = self.conn.receive, self.conn._parse
        loops = 0
        while not self._stop:
            data = receive()
            if not data:
                self._count_problems()
                continue
            one = lone_exec(data)
            if one is not None:
                self._exec(*one)
            else:
                for event in parse(data):
                    self.handle(event)
            loops += 1
            if loops % 64 == 0:
                self._count_problems()

    def _read_all(self) -> None:
        loops = 0
        while not self._stop:
            events = self.conn.read()
            if self.tree_conn is not None:
                # forks and exits queued meanwhile, then any exec that came in between; handled
                # in the kernel's time order, so a child's fork still comes before its exec
                tree_events = self.tree_conn.drain()
                if tree_events:
                    events.extend(tree_events)
                    events.extend(self.conn.drain())
                    events.sort(key=_timestamp)
            for event in events:
                self.handle(event)
            loops += 1
            if not events or loops % 64 == 0:  # when idle, and now and then under load
                self._count_problems()

    def handle(self, event: ProcEvent) -> None:
        what = event.what
        if what == "fork":
            if event.pid == event.tgid:  # a new process, not a thread
                self.stats["forks"] += 1
                self.tree.fork(event.ptgid, event.pid, event.timestamp_ns)
        elif what == "exec":
            self._exec(event.tgid, event.timestamp_ns)
        elif what in ("exit", "nonzero_exit"):
            if event.pid == event.tgid:
                self.stats["exits"] += 1
                self.tree.exit(event.pid)

    def _exec(self, pid: int, timestamp_ns: int) -> None:
        tree = self.tree
        known = pid in tree.nodes
        if self.only_watched and known and not tree.is_watched(pid):
            self.stats["skipped_unwatched"] += 1
            return
        details = read_details(pid, tree.ppid(pid) if known else None)
        if details is None:
            if not self.only_watched or tree.is_watched(pid):
                self.stats["execs"] += 1
                self.stats["lost_exec_details"] += 1
            return
        if not known and details.ppid is not None and self.keeps_tree:
            tree.learn(pid, details.ppid, timestamp_ns)
            if self.only_watched and not tree.is_watched(pid):
                self.stats["skipped_unwatched"] += 1
                return
        self.stats["execs"] += 1
        ppid = details.ppid if details.ppid is not None else tree.ppid(pid)
        self.emit(process_event(timestamp_ns / 1e9 + self.offset, pid, ppid, details.argv, details.exe,
                                details.cwd, details.uid, "netlink", timestamp_ns))
