"""Every exec on the host, as the kernel saw it at the moment of exec: an eBPF program on the
`sched_process_exec` raw tracepoint writing one record per exec into a BPF ring buffer.

The connector (proc_connector.py) only says that a pid exec'd; its argv must then be read from
/proc before the process exits, so its reader wakes for every exec and races it. Here the program
copies, when the exec happens: the new image's argument area (mm->arg_start..arg_end, what
/proc/PID/cmdline shows), the parent (real_parent->tgid), the effective uid (cred->euid), and two
paths it builds from the kernel's dentries, as d_path does: the executable (bprm->file, so a
symbolic link is resolved and a script gives its interpreter, as /proc/PID/exe does) and the working
directory (fs->pwd). The reader drains the ring in batches, a few dozen times a second at most, and
loses nothing to a process that has already exited. Struct offsets come from the kernel's BTF
(btf.py), so one program fits every kernel build with BTF (CONFIG_DEBUG_INFO_BTF) and the ring
buffer (Linux >= 5.8). Needs root (CAP_BPF and CAP_PERFMON).

Paths are walked to the top of the process's mount namespace, crossing each mount at its root
(vfsmount.mnt_root, so a bind mount of a subdirectory reads right), not to the process's own root:
a chrooted process's directory reads as the host sees it, as the connector's /proc reads show it.
A path the walk cannot finish (deeper than DEPTH steps, a name it cannot read, a detached mount)
is read from /proc/PID/cwd or /proc/PID/exe while the process lives, and the event says so.

Bounded: ARGV_MAX bytes of arguments (a longer command line is kept cut, `extra.argv_cut` giving its
whole length: nothing longer can be read from /proc either, and what /proc holds later is the
process's to rewrite), DEPTH names per path. A full ring drops records in the kernel, which the
program counts; the reader reads that count every second (`ring_dropped`, part of
`lost_exec_details`).
"""
from __future__ import annotations

import os
import select
import struct
import sys
import time
from operator import itemgetter

from . import bpf
from .btf import BTF, BTFError
from .common import process_event, split_args, wall_offset
from .proc_connector import MAX_CMDLINE

ARGV_MAX = MAX_CMDLINE
"""Bytes of arguments the kernel copies per exec: as many as the connector's reader reads from
/proc (128 KiB). Each CPU has a scratch record this large (a BPF array keyed by CPU)."""
NAME_SLOT = 256
"""A path component as the kernel copies it: NAME_MAX (255) bytes and a NUL."""
DEPTH = 32
"""Steps of a path walk (a name, or a mount crossed); a longer path is read from /proc."""
CUT = 1 << 16
RING_BYTES = 32 << 20
"""The ring between the program and the reader: about 2,000 execs of short commands (a record is
HEAD_BYTES + 2 x DEPTH names + the arguments), 220 of the longest."""
HEAD = struct.Struct("<QQIIIIQQIIQ")
"""pid_tgid, ktime_ns, euid, (pad), ppid, cwd steps (or CUT), arg_start, arg_end, exe steps (or CUT),
(pad), argv length; the program's working slots follow, up to HEAD_BYTES."""
HEAD_BYTES = 128
CWD_STEPS, EXE_STEPS = 28, 48
MNT, DENTRY, TMP, PARENT, MNT_ROOT, SCRATCH = 64, 72, 80, 88, 96, 104
"""The walk's working slots in the record (offsets)."""
CWD_AT = HEAD_BYTES
EXE_AT = CWD_AT + DEPTH * NAME_SLOT
DATA_AT = EXE_AT + DEPTH * NAME_SLOT
COALESCE_S = 0.03
"""When wakes come less than twice this apart, the reader waits this long after each, so that a
busy host's execs are read in batches: about 33 wakes a second at most, where the connector's
reader wakes once per exec. A lone exec (a quiet host, a watched agent) is read at once."""
IDLE_WAKE_S = 0.5
DROPS_EVERY_S = 1.0

_FIELDS = (("task_struct", "real_parent"), ("task_struct", "tgid"), ("task_struct", "mm"),
           ("task_struct", "fs"), ("task_struct", "cred"), ("cred", "euid"), ("mm_struct", "arg_start"),
           ("mm_struct", "arg_end"), ("linux_binprm", "file"), ("file", "f_path"), ("fs_struct", "pwd"),
           ("path", "mnt"), ("path", "dentry"), ("dentry", "d_parent"), ("dentry", "d_name"), ("qstr", "name"),
           ("vfsmount", "mnt_root"), ("mount", "mnt"), ("mount", "mnt_parent"), ("mount", "mnt_mountpoint"),
           ("mount", "mnt_ns"), ("mnt_namespace", "root"))


def offsets(btf: BTF) -> dict[str, int]:
    """The offsets the program needs, as "struct.field"."""
    found = {f"{s}.{f}": btf.offset(s, f) for s, f in _FIELDS}
    if found["mm_struct.arg_end"] != found["mm_struct.arg_start"] + 8:
        raise BTFError("mm_struct.arg_end does not follow arg_start")
    return found


def _walk(a: bpf.Asm, off: dict[str, int], names_at: int, steps_at: int, tag: str) -> None:
    """The path whose vfsmount and dentry are in the MNT and DENTRY slots, one name per slot, leaf
    first, as the kernel's prepend_path builds it: at the root of a mount (its mnt_root) go on from
    its mount point in the parent mount; stop at the root of the namespace's root mount. A mount
    crossed leaves its slot empty. The number of steps taken goes to `steps_at`, CUT where the
    walk could not finish (too deep, unreadable, a mount detached from the namespace)."""
    R0, R1, R2, R3, R7 = bpf.R0, bpf.R1, bpf.R2, bpf.R3, bpf.R7
    in_mount = off["mount.mnt"]
    for i in range(DEPTH + 1):
        a.ldx64(R1, R7, DENTRY).jeq(R1, 0, f"{tag}cut")
        a.ldx64(R3, R7, MNT).read_kernel(R7, MNT_ROOT, 8, R3, off["vfsmount.mnt_root"])
        a.ldx64(R1, R7, DENTRY).ldx64(R2, R7, MNT_ROOT).jner(R1, R2, f"{tag}name{i}")
        # the root of a mount: its parent mount, or the top
        a.ldx64(R3, R7, MNT).read_kernel(R7, TMP, 8, R3, off["mount.mnt_parent"] - in_mount)
        a.ldx64(R1, R7, TMP).jeq(R1, 0, f"{tag}cut")
        a.ldx64(R2, R7, MNT).add(R2, -in_mount).jner(R1, R2, f"{tag}cross{i}")
        # the top of a mount tree: done if it is its namespace's root mount, else unreachable
        a.ldx64(R3, R7, MNT).read_kernel(R7, SCRATCH, 8, R3, off["mount.mnt_ns"] - in_mount)
        a.ldx64(R3, R7, SCRATCH).read_kernel(R7, SCRATCH, 8, R3, off["mnt_namespace.root"])
        a.ldx64(R1, R7, SCRATCH).ldx64(R2, R7, MNT).add(R2, -in_mount).jner(R1, R2, f"{tag}cut")
        a.st32(R7, steps_at, i).ja(f"{tag}done")
        a.label(f"{tag}cross{i}")
        if i < DEPTH:
            a.st32(R7, names_at + i * NAME_SLOT, 0)
        a.ldx64(R3, R7, MNT).read_kernel(R7, DENTRY, 8, R3, off["mount.mnt_mountpoint"] - in_mount)
        a.ldx64(R1, R7, TMP).add(R1, in_mount).stx64(R7, MNT, R1)
        a.ja(f"{tag}next{i}")
        a.label(f"{tag}name{i}")
        if i == DEPTH:
            a.ja(f"{tag}cut")  # a name left and no slot for it
        else:
            a.ldx64(R3, R7, DENTRY).read_kernel(R7, TMP, 8, R3, off["dentry.d_name"] + off["qstr.name"])
            a.ldx64(R3, R7, TMP).movr(R1, R7).add(R1, names_at + i * NAME_SLOT).mov(R2, NAME_SLOT)
            a.call(bpf.PROBE_READ_KERNEL_STR).jsle(R0, 1, f"{tag}cut")  # unreadable or empty
            a.ldx64(R3, R7, DENTRY).read_kernel(R7, PARENT, 8, R3, off["dentry.d_parent"])
            # a dentry that is its own parent but not its mount's root is out of reach
            a.ldx64(R1, R7, PARENT).ldx64(R2, R7, DENTRY).jeqr(R1, R2, f"{tag}cut")
            a.stx64(R7, DENTRY, R1)
        a.label(f"{tag}next{i}")
    a.label(f"{tag}cut").st32(R7, steps_at, CUT)
    a.label(f"{tag}done")


def program(off: dict[str, int], scratch_fd: int, ring_fd: int, dropped_fd: int) -> bytes:
    """The exec program. r6: the task (raw tracepoint args[0]), r9: the linux_binprm (args[2]),
    r7: this CPU's scratch record, r8: the argument bytes to copy. Every read of kernel or user
    memory goes through a probe_read helper, which fails cleanly (zeroes) on a bad address."""
    R0, R1, R2, R3, R4, R6, R7, R8, R9, R10 = (bpf.R0, bpf.R1, bpf.R2, bpf.R3, bpf.R4, bpf.R6, bpf.R7, bpf.R8,
                                               bpf.R9, bpf.R10)
    a = bpf.Asm()
    a.ldx64(R6, R1, 0).ldx64(R9, R1, 16)
    a.call(bpf.GET_SMP_PROCESSOR_ID).stx32(R10, -4, R0)  # this CPU's scratch record: the tracepoint
    a.load_map(R1, scratch_fd).movr(R2, R10).add(R2, -4)  # runs with preemption off, so it is ours
    a.call(bpf.MAP_LOOKUP_ELEM).jeq(R0, 0, "out").movr(R7, R0)
    a.call(bpf.GET_CURRENT_PID_TGID).stx64(R7, 0, R0)
    a.call(bpf.KTIME_GET_NS).stx64(R7, 8, R0)
    a.mov(R0, 0)
    for slot in (16, 24, 32, 40, 48, MNT, DENTRY, SCRATCH):
        a.stx64(R7, slot, R0)
    # euid: task->cred->euid; ppid: task->real_parent->tgid (pointers read into a slot, then the
    # value over its low half)
    a.read_kernel(R7, 16, 8, R6, off["task_struct.cred"])
    a.ldx64(R3, R7, 16).read_kernel(R7, 16, 4, R3, off["cred.euid"]).st32(R7, 20, 0)
    a.read_kernel(R7, 24, 8, R6, off["task_struct.real_parent"])
    a.ldx64(R3, R7, 24).read_kernel(R7, 24, 4, R3, off["task_struct.tgid"]).st32(R7, 28, 0)
    # mm->arg_start, mm->arg_end
    a.read_kernel(R7, 32, 8, R6, off["task_struct.mm"])
    a.ldx64(R3, R7, 32).read_kernel(R7, 32, 16, R3, off["mm_struct.arg_start"])
    # the working directory: task->fs->pwd
    path_mnt, path_dentry = off["path.mnt"], off["path.dentry"]
    a.read_kernel(R7, SCRATCH, 8, R6, off["task_struct.fs"])
    a.ldx64(R3, R7, SCRATCH).read_kernel(R7, MNT, 8, R3, off["fs_struct.pwd"] + path_mnt)
    a.ldx64(R3, R7, SCRATCH).read_kernel(R7, DENTRY, 8, R3, off["fs_struct.pwd"] + path_dentry)
    _walk(a, off, CWD_AT, CWD_STEPS, "cwd")
    # the executable: bprm->file->f_path
    a.mov(R0, 0).stx64(R7, MNT, R0).stx64(R7, DENTRY, R0)
    a.read_kernel(R7, SCRATCH, 8, R9, off["linux_binprm.file"])
    a.ldx64(R3, R7, SCRATCH).read_kernel(R7, MNT, 8, R3, off["file.f_path"] + path_mnt)
    a.ldx64(R3, R7, SCRATCH).read_kernel(R7, DENTRY, 8, R3, off["file.f_path"] + path_dentry)
    _walk(a, off, EXE_AT, EXE_STEPS, "exe")
    # the argument area: its whole length recorded, at most ARGV_MAX bytes copied
    a.ldx64(R8, R7, 40).ldx64(R3, R7, 32).subr(R8, R3).stx64(R7, 56, R8)
    a.jle(R8, ARGV_MAX, "copy").mov(R8, ARGV_MAX)
    a.label("copy")
    a.movr(R1, R7).add(R1, DATA_AT).movr(R2, R8).ldx64(R3, R7, 32)
    a.call(bpf.PROBE_READ_USER)
    a.jeq(R0, 0, "send").mov(R8, 0)  # unreadable: the record says so (no arguments copied)
    a.label("send")
    a.load_map(R1, ring_fd).movr(R2, R7).movr(R3, R8).add(R3, DATA_AT).mov(R4, 0)
    a.call(bpf.RINGBUF_OUTPUT).jeq(R0, 0, "out")
    # the ring was full: count the record lost
    a.st32(R10, -4, 0).load_map(R1, dropped_fd).movr(R2, R10).add(R2, -4)
    a.call(bpf.MAP_LOOKUP_ELEM).jeq(R0, 0, "out").mov(R1, 1).atomic_add64(R0, 0, R1)
    a.label("out").mov(R0, 0).exit()
    return a.assemble()


def possible_cpus(path: str = "/sys/devices/system/cpu/possible") -> int:
    """How many CPU ids the kernel may use ("0-15", "0,2-3"): the scratch array has one record each."""
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return os.cpu_count() or 1
    top = 0
    for part in text.split(","):
        top = max(top, int(part.rpartition("-")[2]))
    return top + 1


def _cstr(raw: bytes, start: int, size: int) -> str:
    end = raw.find(b"\0", start, start + size)
    return raw[start:end if end >= 0 else start + size].decode("utf-8", "surrogateescape")


def _path(raw: bytes, at: int, steps: int) -> str | None:
    """A walked path from its slots (leaf first; a mount crossed leaves an empty slot); None when
    the walk did not finish."""
    if steps & CUT or steps > DEPTH:
        return None
    names = [_cstr(raw, at + i * NAME_SLOT, NAME_SLOT) for i in range(steps)]
    return "/" + "/".join(name for name in reversed(names) if name)


class ExecRecord:
    """One exec as the program recorded it. `cwd` and `exe` are None where a walk did not finish;
    `argv` is None where the argument area could not be read."""

    __slots__ = ("pid", "ppid", "uid", "ts_ns", "exe", "cwd", "argv", "argv_len", "copied")

    def __init__(self, raw: bytes) -> None:
        (pid_tgid, self.ts_ns, self.uid, _pad, self.ppid, cwd_steps, _start, _end, exe_steps, _pad2,
         self.argv_len) = HEAD.unpack_from(raw, 0)
        self.pid = pid_tgid >> 32
        self.cwd = _path(raw, CWD_AT, cwd_steps)
        self.exe = _path(raw, EXE_AT, exe_steps)
        area = raw[DATA_AT:]
        self.copied = len(area)
        self.argv = split_args(area) if area else None

    @property
    def complete(self) -> bool:
        return self.argv is not None and self.copied >= self.argv_len


def parse(raw: bytes) -> ExecRecord | None:
    return ExecRecord(raw) if len(raw) >= DATA_AT else None


def open_probe() -> tuple["ExecProbe | None", str]:
    """The exec program loaded and attached, or None and why it could not be (one line)."""
    try:
        return ExecProbe(), ""
    except (OSError, ValueError, struct.error) as exc:  # BTFError is a ValueError
        return None, f"the eBPF exec sensor is unavailable: {exc}".splitlines()[0]


class ExecProbe:
    """The loaded, attached program and its maps; `records()` drains the ring."""

    def __init__(self, ring_bytes: int = RING_BYTES) -> None:
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            raise BTFError("the kernel has no BTF (/sys/kernel/btf/vmlinux)")
        off = offsets(BTF.load())
        self.fds: list[int] = []
        self.ring_bytes = ring_bytes
        try:
            self.scratch = self._keep(bpf.map_create(bpf.MAP_ARRAY, 4, DATA_AT + ARGV_MAX, possible_cpus(),
                                                     "vig_exec_buf"))
            self.ring_fd = self._keep(bpf.map_create(bpf.MAP_RINGBUF, 0, 0, ring_bytes, "vig_exec_ring"))
            self.dropped = self._keep(bpf.map_create(bpf.MAP_ARRAY, 4, 8, 1, "vig_exec_lost"))
            code = program(off, self.scratch, self.ring_fd, self.dropped)
            self.prog = self._keep(bpf.prog_load(bpf.PROG_RAW_TRACEPOINT, code, "vigiles_exec"))
            self.ring = bpf.RingBuffer(self.ring_fd, ring_bytes)
            self.poller = select.epoll()
            self.poller.register(self.ring_fd, select.EPOLLIN)
            self.link = self._keep(bpf.raw_tracepoint_open("sched_process_exec", self.prog))
        except BaseException:
            self.close()
            raise

    def _keep(self, fd: int) -> int:
        self.fds.append(fd)
        return fd

    def wait(self, timeout: float) -> None:
        self.poller.poll(timeout)

    def records(self) -> list[bytes]:
        return self.ring.records()

    def ring_dropped(self) -> int:
        return struct.unpack("<Q", bpf.map_lookup(self.dropped, 0, 8))[0]

    def close(self) -> None:
        for fd in reversed(self.fds):  # the attachment first: nothing is written once it is gone
            os.close(fd)
        self.fds = []
        if getattr(self, "poller", None) is not None:
            self.poller.close()
            self.poller = None
        if getattr(self, "ring", None) is not None:
            self.ring.close()
            self.ring = None


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


class BpfExecSource:
    """The host-wide process sensor on the exec program: a reader thread that drains the ring in
    batches and emits one `process` event per exec."""

    name = "bpf"

    def __init__(self, emit, tree, probe: ExecProbe | None = None) -> None:
        self.emit = emit
        self.tree = tree
        self.probe = probe if probe is not None else ExecProbe()
        self.offset = wall_offset()
        self.stats = {"execs": 0, "lost_exec_details": 0, "truncated_argv": 0, "ring_dropped": 0,
                      "cwd_from_proc": 0, "exe_from_proc": 0, "batches": 0, "reader_errors": 0}
        self._drops_read = time.monotonic()
        self.drained_bytes = 0
        self.busy_bytes = getattr(self.probe, "ring_bytes", RING_BYTES) // 8
        """A batch this large means the ring fills faster than the pause allows: no pause then."""
        self._stop = False
        self._thread = None

    def start(self) -> None:
        import threading
        self._thread = threading.Thread(target=self._run, name="vigiles-bpf", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        stuck = False
        if self._thread is not None:
            self._thread.join(timeout=5)
            stuck = self._thread.is_alive()
        try:
            if not stuck:  # a reader still running keeps the ring to itself
                self.drain()
                self._count_drops()
        finally:
            self.probe.close()

    def _run(self) -> None:
        errors = 0
        last_wake = 0.0
        while not self._stop:
            try:
                self.probe.wait(IDLE_WAKE_S)
                woke = time.monotonic()
                busy = woke - last_wake < 2 * COALESCE_S
                last_wake = woke
                # Pause only when wakes come close together (a busy host: then batches), and not
                # when the ring fills faster than the pause allows; a lone exec is handled at once.
                if self.drain() and busy and self.drained_bytes < self.busy_bytes:
                    time.sleep(COALESCE_S)
                now = time.monotonic()
                if now - self._drops_read >= DROPS_EVERY_S:
                    self._drops_read = now
                    self._count_drops()
            except Exception as exc:  # one bad record or call must not end host monitoring
                errors += 1
                self.stats["reader_errors"] = errors
                if errors == 1:
                    sys.stderr.write(f"vigiles: eBPF exec sensor: {type(exc).__name__}: {exc}\n")
                time.sleep(0.1)

    def _count_drops(self) -> None:
        dropped = self.probe.ring_dropped()
        self.stats["lost_exec_details"] += dropped - self.stats["ring_dropped"]
        self.stats["ring_dropped"] = dropped

    def drain(self) -> int:
        records = self._records()
        if records:
            self.stats["batches"] += 1
        for record in records:
            self.handle(record)
        return len(records)

    def _records(self) -> list[ExecRecord]:
        """The ring's records, parsed; how many bytes they held is kept for the reader's pause."""
        raws = self.probe.records()
        self.drained_bytes = sum(map(len, raws))
        return [record for record in map(parse, raws) if record is not None]

    def handle(self, record: ExecRecord) -> None:
        stats = self.stats
        stats["execs"] += 1
        pid, ppid = record.pid, record.ppid or None
        argv = record.argv
        if argv is None:
            stats["lost_exec_details"] += 1
            return
        extra = {}
        if not record.complete:
            stats["truncated_argv"] += 1
            extra["argv_cut"] = record.argv_len  # the length of the whole argument area
        cwd = record.cwd if record.cwd is not None else self._from_proc(pid, "cwd", extra)
        exe = record.exe if record.exe is not None else self._from_proc(pid, "exe", extra)
        self.emit(process_event(record.ts_ns / 1e9 + self.offset, pid, ppid, argv, exe, cwd, record.uid, "bpf",
                                record.ts_ns, **extra))


    def _from_proc(self, pid: int, name: str, extra: dict) -> str | None:
        """/proc/PID/cwd or /proc/PID/exe, where the walk did not finish, while the process lives;
        the event says which (`extra.cwd_from`, `extra.exe_from`: proc or unknown)."""
        self.stats[f"{name}_from_proc"] += 1
        value = _readlink(f"/proc/{pid}/{name}")
        extra[f"{name}_from"] = "proc" if value is not None else "unknown"
        return value


class BpfWatchSource(BpfExecSource):
    """The process sensor of `watch`: execs from the exec program, forks and exits from the
    connector (read for the tree only: no /proc reads, no race), so that only execs descending from
    the watched command are reported. Both carry the kernel's monotonic time; each batch is handled
    in that order. A child's fork is queued on the socket before the child can exec, so reading the
    socket before the ring never sees an exec without its fork."""

    def __init__(self, emit, tree, probe: ExecProbe | None = None, tree_conn=None) -> None:
        from .proc_connector import PROC_EVENT_EXIT, PROC_EVENT_FORK, ProcConnector, filtering_supported
        super().__init__(emit, tree, probe)
        try:
            self.tree_conn = tree_conn if tree_conn is not None else ProcConnector(
                events=PROC_EVENT_FORK | PROC_EVENT_EXIT if filtering_supported() else None, timeout=None)
            self.probe.poller.register(self.tree_conn.fileno(), select.EPOLLIN)
        except BaseException:
            self.probe.close()
            raise
        self.stats.update(forks=0, exits=0, skipped_unwatched=0, overruns=0)

    def drain(self) -> int:
        events = self.tree_conn.drain()
        records = self._records()
        self.stats["overruns"] = self.tree_conn.overruns
        if not records and not events:
            return 0
        self.stats["batches"] += 1
        items: list[tuple[int, int, object]] = [(event.timestamp_ns, 0, event) for event in events
                                                if event.what in ("fork", "exit", "nonzero_exit")]
        items.extend((record.ts_ns, 1, record) for record in records)
        items.sort(key=itemgetter(0, 1))
        tree, stats = self.tree, self.stats
        for _ts, kind, item in items:
            if kind == 1:
                if tree.is_watched(item.pid):
                    self.handle(item)
                else:
                    stats["skipped_unwatched"] += 1
            elif item.what == "fork":
                if item.pid == item.tgid:  # a process, not a thread
                    stats["forks"] += 1
                    tree.fork(item.ptgid, item.pid, item.timestamp_ns)
            elif item.pid == item.tgid:
                stats["exits"] += 1
                tree.exit(item.pid)
        return len(records) + len(events)

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.tree_conn.close()
