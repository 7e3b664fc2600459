"""Every exec on the host, its argv copied by the kernel at the moment of exec: an eBPF program on
the `sched_process_exec` raw tracepoint writing one record per exec into a BPF ring buffer.

The connector (proc_connector.py) only says that a pid exec'd; its argv must then be read from
/proc before the process exits, so its reader wakes for every exec and races it. Here the program
copies what /proc/PID/cmdline would show (the new image's argument area, mm->arg_start..arg_end),
the program's path (bprm->interp: the path given to execve, or a script's interpreter), the parent (real_parent->tgid) and the uid when the
exec happens; the reader drains the ring in batches, a few dozen times a second at most, and
loses nothing to a process that has already exited. Struct offsets come from the kernel's BTF
(btf.py), so one program fits every kernel build that has BTF (CONFIG_DEBUG_INFO_BTF) and the
ring buffer (Linux >= 5.8). Needs root (CAP_BPF and CAP_PERFMON).

What the kernel copies is bounded: ARGV_MAX bytes of arguments (a longer command line is read
from /proc when the process still lives, else kept cut and counted in `truncated_argv`) and
FILENAME_MAX bytes of path. A full ring drops records in the kernel; the program counts them
(`ring_dropped`).

The working directory is in the record too: the program walks task->fs->pwd up to the task's
root, one component per step (at most DEPTH), crossing mount points as the kernel's d_path does,
so it is the path /proc/PID/cwd shows, without reading /proc. Nothing is read from /proc unless
the arguments or the path did not fit.
"""
from __future__ import annotations

import os
import select
import struct
import sys
import time

from . import bpf
from .btf import BTF, BTFError
from .common import process_event, wall_offset
from .proc_connector import MAX_CMDLINE

ARGV_MAX = MAX_CMDLINE
"""Bytes of arguments the kernel copies per exec: as many as the connector's reader reads from
/proc (128 KiB). Each CPU has a scratch record this large (a BPF array keyed by CPU)."""
FILENAME_MAX = 4096
"""PATH_MAX: the program's path is never cut."""
NAME_SLOT = 256
"""A path component as the kernel copies it: NAME_MAX (255) bytes and a NUL."""
DEPTH = 32
"""Components of the working directory followed up to the task's root; a deeper one is read from /proc."""
CUT = 1 << 16
RING_BYTES = 16 << 20
"""The ring between the program and the reader: about 1,400 execs of short commands (a record is
HEAD_BYTES + FILENAME_MAX + DEPTH names + the arguments), 120 of the longest."""
HEAD = struct.Struct("<QQQIIQQqQ")
"""pid_tgid, ktime_ns, uid_gid, ppid, components of cwd (| CUT), arg_start, arg_end, filename length,
argv length; the program's own working slots follow, up to HEAD_BYTES."""
HEAD_BYTES = 128
MNT, DENTRY, TMP, PARENT, ROOT_MNT, ROOT_DENTRY, FS = 64, 72, 80, 88, 96, 104, 112
"""The walk's working slots in the record (offsets)."""
NAME_AT = HEAD_BYTES
SLOTS_AT = NAME_AT + FILENAME_MAX
DATA_AT = SLOTS_AT + DEPTH * NAME_SLOT
COALESCE_S = 0.03
"""After a wake, the reader waits this long before the next, so that execs are read in batches:
at most 50 wakes a second, where the connector's reader wakes once per exec."""
IDLE_WAKE_S = 0.5

_FIELDS = (("task_struct", "real_parent"), ("task_struct", "tgid"), ("task_struct", "mm"),
           ("task_struct", "fs"), ("mm_struct", "arg_start"), ("mm_struct", "arg_end"),
           ("linux_binprm", "interp"), ("fs_struct", "pwd"), ("fs_struct", "root"), ("path", "mnt"),
           ("path", "dentry"), ("dentry", "d_parent"), ("dentry", "d_name"), ("qstr", "name"),
           ("mount", "mnt"), ("mount", "mnt_parent"), ("mount", "mnt_mountpoint"))


def offsets(btf: BTF) -> dict[str, int]:
    """The offsets the program needs, as "struct.field"."""
    found = {f"{s}.{f}": btf.offset(s, f) for s, f in _FIELDS}
    if found["mm_struct.arg_end"] != found["mm_struct.arg_start"] + 8:
        raise BTFError("mm_struct.arg_end does not follow arg_start")
    return found


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
    a.call(bpf.GET_CURRENT_UID_GID).stx64(R7, 16, R0)
    a.mov(R0, 0)
    for slot in (24, 32, 40, MNT, DENTRY, ROOT_MNT, ROOT_DENTRY, FS):
        a.stx64(R7, slot, R0)
    # ppid: task->real_parent->tgid (the pointer read over the slot, then the pid over its low half)
    a.read_kernel(R7, 24, 8, R6, off["task_struct.real_parent"])
    a.ldx64(R3, R7, 24).read_kernel(R7, 24, 4, R3, off["task_struct.tgid"]).st32(R7, 28, 0)
    # mm->arg_start, mm->arg_end
    a.read_kernel(R7, 32, 8, R6, off["task_struct.mm"])
    a.ldx64(R3, R7, 32).read_kernel(R7, 32, 16, R3, off["mm_struct.arg_start"])
    # bprm->interp, a kernel string: the path given to execve, or for a script its interpreter's
    # (what /proc/PID/exe names, before symbolic links are resolved)
    a.read_kernel(R7, 48, 8, R9, off["linux_binprm.interp"])
    a.ldx64(R3, R7, 48).movr(R1, R7).add(R1, NAME_AT).mov(R2, FILENAME_MAX).call(bpf.PROBE_READ_KERNEL_STR)
    a.stx64(R7, 48, R0)
    # the working directory, task->fs->pwd, walked up to task->fs->root, one component per slot
    # (leaf first), crossing mount points as d_path does
    path_mnt, path_dentry = off["path.mnt"], off["path.dentry"]
    a.read_kernel(R7, FS, 8, R6, off["task_struct.fs"])
    for slot, field in ((MNT, off["fs_struct.pwd"] + path_mnt), (DENTRY, off["fs_struct.pwd"] + path_dentry),
                        (ROOT_MNT, off["fs_struct.root"] + path_mnt), (ROOT_DENTRY, off["fs_struct.root"] + path_dentry)):
        a.ldx64(R3, R7, FS).read_kernel(R7, slot, 8, R3, field)
    in_mount = off["mount.mnt"]
    for i in range(DEPTH):
        a.st32(R7, SLOTS_AT + i * NAME_SLOT, 0)
        a.ldx64(R1, R7, DENTRY).jeq(R1, 0, f"done{i}")
        a.ldx64(R2, R7, ROOT_DENTRY).jner(R1, R2, f"walk{i}")
        a.ldx64(R1, R7, MNT).ldx64(R2, R7, ROOT_MNT).jeqr(R1, R2, f"done{i}")
        a.label(f"walk{i}")
        a.ldx64(R3, R7, DENTRY).read_kernel(R7, PARENT, 8, R3, off["dentry.d_parent"])
        a.ldx64(R1, R7, DENTRY).ldx64(R2, R7, PARENT).jner(R1, R2, f"name{i}")
        # the root of a mount: go on from its mount point, in the parent mount (struct mount holds
        # the vfsmount at offset mount.mnt)
        a.ldx64(R3, R7, MNT).read_kernel(R7, TMP, 8, R3, off["mount.mnt_parent"] - in_mount)
        a.ldx64(R1, R7, TMP).jeq(R1, 0, f"done{i}")
        a.ldx64(R2, R7, MNT).add(R2, -in_mount).jeqr(R1, R2, f"done{i}")
        a.ldx64(R3, R7, MNT).read_kernel(R7, DENTRY, 8, R3, off["mount.mnt_mountpoint"] - in_mount)
        a.ldx64(R1, R7, TMP).add(R1, in_mount).stx64(R7, MNT, R1)
        a.ja(f"next{i}")
        a.label(f"name{i}")
        a.ldx64(R3, R7, DENTRY).read_kernel(R7, TMP, 8, R3, off["dentry.d_name"] + off["qstr.name"])
        a.ldx64(R3, R7, TMP).movr(R1, R7).add(R1, SLOTS_AT + i * NAME_SLOT).mov(R2, NAME_SLOT)
        a.call(bpf.PROBE_READ_KERNEL_STR)
        a.ldx64(R1, R7, PARENT).stx64(R7, DENTRY, R1)
        a.label(f"next{i}")
    a.st32(R7, 28, DEPTH | CUT).ja("walked")
    for i in range(DEPTH):
        a.label(f"done{i}").st32(R7, 28, i).ja("walked")
    a.label("walked")
    # the argument area: its whole length recorded, at most ARGV_MAX bytes copied
    a.ldx64(R8, R7, 40).ldx64(R3, R7, 32).subr(R8, R3).stx64(R7, 56, R8)
    a.jle(R8, ARGV_MAX, "copy").mov(R8, ARGV_MAX)
    a.label("copy")
    a.movr(R1, R7).add(R1, DATA_AT).movr(R2, R8).ldx64(R3, R7, 32)
    a.call(bpf.PROBE_READ_USER)
    a.jeq(R0, 0, "send").mov(R8, 0)  # unreadable: send the head, the reader goes to /proc
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


class ExecRecord:
    """One exec as the program recorded it. `cwd` is None where the walk did not reach the root."""

    __slots__ = ("pid", "ppid", "uid", "ts_ns", "filename", "cwd", "argv", "argv_len", "copied")

    def __init__(self, raw: bytes) -> None:
        pid_tgid, self.ts_ns, uid_gid, self.ppid, parts, _s, _e, fn_len, self.argv_len = HEAD.unpack_from(raw, 0)
        self.pid = pid_tgid >> 32
        self.uid = uid_gid & 0xFFFFFFFF
        self.filename = _cstr(raw, NAME_AT, FILENAME_MAX) if fn_len > 0 else None
        self.cwd = None
        if not parts & CUT and parts <= DEPTH:
            names = [_cstr(raw, SLOTS_AT + i * NAME_SLOT, NAME_SLOT) for i in range(parts)]
            self.cwd = "/" + "/".join(name for name in reversed(names) if name)
        args = raw[DATA_AT:]
        self.copied = len(args)
        self.argv = ([part.decode("utf-8", "surrogateescape") for part in args.rstrip(b"\0").split(b"\0")]
                     if args.strip(b"\0") else None)

    @property
    def complete(self) -> bool:
        return self.argv is not None and self.copied >= self.argv_len


def parse(raw: bytes) -> ExecRecord | None:
    return ExecRecord(raw) if len(raw) >= DATA_AT else None


def open_probe() -> tuple["ExecProbe | None", str]:
    """The exec program loaded and attached, or None and why it could not be (one line)."""
    try:
        return ExecProbe(), ""
    except (OSError, BTFError) as exc:
        return None, f"the eBPF exec sensor is unavailable: {exc}".splitlines()[0]


def available() -> tuple[bool, str]:
    """Whether the exec program can be loaded here, and why not."""
    probe, why = open_probe()
    if probe is not None:
        probe.close()
    return probe is not None, why


class ExecProbe:
    """The loaded, attached program and its maps; `records()` drains the ring."""

    def __init__(self, ring_bytes: int = RING_BYTES) -> None:
        if not os.path.exists("/sys/kernel/btf/vmlinux"):
            raise BTFError("the kernel has no BTF (/sys/kernel/btf/vmlinux)")
        off = offsets(BTF.load())
        self.fds: list[int] = []
        try:
            self.scratch = self._keep(bpf.map_create(bpf.MAP_ARRAY, 4, DATA_AT + ARGV_MAX, possible_cpus(),
                                                     "vig_exec_buf"))
            self.ring_fd = self._keep(bpf.map_create(bpf.MAP_RINGBUF, 0, 0, ring_bytes, "vig_exec_ring"))
            self.dropped = self._keep(bpf.map_create(bpf.MAP_ARRAY, 4, 8, 1, "vig_exec_lost"))
            code = program(off, self.scratch, self.ring_fd, self.dropped)
            self.prog = self._keep(bpf.prog_load(bpf.PROG_RAW_TRACEPOINT, code, "vigiles_exec"))
            self.ring = bpf.RingBuffer(self.ring_fd, ring_bytes)
            self.link = self._keep(bpf.raw_tracepoint_open("sched_process_exec", self.prog))
        except BaseException:
            self.close()
            raise
        self.poller = select.epoll()
        self.poller.register(self.ring_fd, select.EPOLLIN)

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
        if getattr(self, "poller", None) is not None:
            self.poller.close()
        if getattr(self, "ring", None) is not None:
            self.ring.close()
        for fd in reversed(self.fds):
            os.close(fd)
        self.fds = []


def _readlink(path: str) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _cmdline(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            raw = fh.read(MAX_CMDLINE)
    except OSError:
        return None
    return [p.decode("utf-8", "surrogateescape") for p in raw.rstrip(b"\0").split(b"\0")] if raw else None


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
                      "cwd_from_proc": 0, "batches": 0}
        self._stop = False
        self._thread = None

    def start(self) -> None:
        import threading
        self._thread = threading.Thread(target=self._run, name="vigiles-bpf", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.drain()
        self.stats["ring_dropped"] = self.probe.ring_dropped()
        self.probe.close()

    def _run(self) -> None:
        try:
            while not self._stop:
                self.probe.wait(IDLE_WAKE_S)
                if self.drain():
                    time.sleep(COALESCE_S)
        except OSError as exc:
            sys.stderr.write(f"vigiles: eBPF exec sensor read failed: {exc}\n")

    def drain(self) -> int:
        raws = self.probe.records()
        if not raws:
            return 0
        self.stats["batches"] += 1
        for raw in raws:
            record = parse(raw)
            if record is not None:
                self.handle(record)
        return len(raws)

    def handle(self, record: ExecRecord) -> None:
        stats = self.stats
        stats["execs"] += 1
        pid, ppid = record.pid, record.ppid or None
        argv = record.argv
        extra = {}
        if not record.complete:
            full = _cmdline(pid)
            if full is not None:
                argv = full
            elif argv is None:
                stats["lost_exec_details"] += 1
                return
            else:
                stats["truncated_argv"] += 1
                extra["argv_cut"] = record.argv_len  # the length of the whole argument area
        cwd = record.cwd
        if cwd is None:
            cwd = _readlink(f"/proc/{pid}/cwd")
            stats["cwd_from_proc"] += 1
        exe = record.filename
        if exe and not exe.startswith("/") and cwd:
            exe = os.path.normpath(os.path.join(cwd, exe))
        self.emit(process_event(record.ts_ns / 1e9 + self.offset, pid, ppid, argv, exe, cwd, record.uid, "bpf",
                                record.ts_ns, **extra))
