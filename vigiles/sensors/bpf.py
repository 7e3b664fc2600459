"""The bpf(2) system call from Python, without a compiler or library: maps, program loading, raw
tracepoints and the BPF ring buffer.

Only what the exec sensor (exec_bpf.py) needs. References: the kernel's include/uapi/linux/bpf.h
(union bpf_attr, the instruction encoding, helper numbers), Documentation/bpf/instruction-set.rst
and Documentation/bpf/ringbuf.rst (the ring's memory layout and record header).
"""
from __future__ import annotations

import ctypes
import mmap
import os
import platform
import struct

SYS_BPF = {"x86_64": 321, "aarch64": 280}.get(platform.machine())

BPF_MAP_CREATE, BPF_MAP_LOOKUP_ELEM, BPF_PROG_LOAD, BPF_RAW_TRACEPOINT_OPEN = 0, 1, 5, 17
MAP_ARRAY, MAP_PERCPU_ARRAY, MAP_RINGBUF = 2, 6, 27
PROG_RAW_TRACEPOINT = 17
BPF_PSEUDO_MAP_FD = 1

# helpers (enum bpf_func_id)
MAP_LOOKUP_ELEM, KTIME_GET_NS, GET_SMP_PROCESSOR_ID, GET_CURRENT_PID_TGID, GET_CURRENT_UID_GID = 1, 5, 8, 14, 15
PROBE_READ_USER, PROBE_READ_KERNEL, PROBE_READ_KERNEL_STR = 112, 113, 115
RINGBUF_OUTPUT = 130

R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10 = range(11)


class BPFError(OSError):
    """A bpf(2) call failed; `log` holds the verifier's explanation for a refused program."""

    def __init__(self, errno_: int, what: str, log: str = "") -> None:
        super().__init__(errno_, f"{what}: {os.strerror(errno_)}" + (f"\n{log}" if log else ""))
        self.log = log


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def bpf(cmd: int, attr: ctypes.Array, what: str, log: ctypes.Array | None = None) -> int:
    if SYS_BPF is None:
        raise BPFError(38, f"bpf on {platform.machine()}")  # ENOSYS
    result = _libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))
    if result < 0:
        errno_ = ctypes.get_errno()
        text = log.value.decode("utf-8", "replace").strip() if log is not None else ""
        raise BPFError(errno_, what, text[-4000:])
    return result


def _attr(fmt: str, *values) -> ctypes.Array:
    """A union bpf_attr: the leading fields packed, the rest zero (the kernel checks that it is)."""
    buf = ctypes.create_string_buffer(128)
    struct.pack_into(fmt, buf, 0, *values)
    return buf


def map_create(map_type: int, key_size: int, value_size: int, max_entries: int, name: str) -> int:
    """A map's file descriptor (`name` shows in bpftool, 15 characters at most)."""
    attr = _attr("=IIIII", map_type, key_size, value_size, max_entries, 0)
    struct.pack_into("16s", attr, 28, name.encode()[:15])  # map_name, after inner_map_fd and numa_node
    return bpf(BPF_MAP_CREATE, attr, f"creating BPF map {name}")


def map_lookup(fd: int, key: int, value_size: int) -> bytes:
    key_buf = ctypes.c_uint32(key)
    value = ctypes.create_string_buffer(value_size)
    attr = _attr("=IIQQQ", fd, 0, ctypes.addressof(key_buf), ctypes.addressof(value), 0)
    bpf(BPF_MAP_LOOKUP_ELEM, attr, "reading BPF map")
    return value.raw


def prog_load(prog_type: int, insns: bytes, name: str, license_: str = "GPL") -> int:
    """A loaded program's file descriptor; the verifier's log in the error when it refuses it.
    The probe_read helpers are GPL-only, hence the license."""
    code = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(license_.encode())
    log = ctypes.create_string_buffer(1 << 20)

    def attributes(log_level: int, log_size: int, log_address: int) -> ctypes.Array:
        attr = _attr("=IIQQIIQII", prog_type, len(insns) // 8, ctypes.addressof(code), ctypes.addressof(lic),
                     log_level, log_size, log_address, 0, 0)
        struct.pack_into("16s", attr, 48, name.encode()[:15])  # prog_name
        return attr

    try:
        return bpf(BPF_PROG_LOAD, attributes(1, len(log), ctypes.addressof(log)), f"loading BPF program {name}", log)
    except BPFError as exc:
        if exc.errno != 28:  # ENOSPC: the log did not fit; the program may be fine without one
            raise
    return bpf(BPF_PROG_LOAD, attributes(0, 0, 0), f"loading BPF program {name}")


def raw_tracepoint_open(name: str, prog_fd: int) -> int:
    """Attach a program to a raw tracepoint; it stays attached while the returned descriptor is open."""
    name_buf = ctypes.create_string_buffer(name.encode())
    attr = _attr("=QI", ctypes.addressof(name_buf), prog_fd)
    return bpf(BPF_RAW_TRACEPOINT_OPEN, attr, f"attaching to raw tracepoint {name}")


class Asm:
    """A BPF program as it is written: one method per instruction form (instruction-set.rst)."""

    def __init__(self) -> None:
        self.code: list[list] = []  # [opcode, dst, src, off, imm]; off of a jump may be a label
        self.labels: dict[str, int] = {}

    def _op(self, code: int, dst: int = 0, src: int = 0, off: int | str = 0, imm: int = 0) -> "Asm":
        self.code.append([code, dst, src, off, imm])
        return self

    def label(self, name: str) -> "Asm":
        self.labels[name] = len(self.code)
        return self

    # ALU64: BPF_ALU64 (0x07) | operation | BPF_K (0x00) or BPF_X (0x08)
    def mov(self, dst: int, imm: int) -> "Asm":
        return self._op(0xB7, dst, imm=imm)

    def movr(self, dst: int, src: int) -> "Asm":
        return self._op(0xBF, dst, src)

    def add(self, dst: int, imm: int) -> "Asm":
        return self._op(0x07, dst, imm=imm)

    def addr(self, dst: int, src: int) -> "Asm":
        return self._op(0x0F, dst, src)

    def subr(self, dst: int, src: int) -> "Asm":
        return self._op(0x1F, dst, src)

    # memory: BPF_LDX / BPF_STX / BPF_ST | BPF_MEM | size (W 0x00, DW 0x18)
    def ldx64(self, dst: int, src: int, off: int) -> "Asm":
        return self._op(0x79, dst, src, off)

    def stx64(self, dst: int, off: int, src: int) -> "Asm":
        return self._op(0x7B, dst, src, off)

    def read_kernel(self, dst_base: int, dst_off: int, size: int, src: int, src_off: int) -> "Asm":
        """*(dst_base + dst_off) = size bytes at kernel address src + src_off (bpf_probe_read_kernel,
        which zeroes the destination where the address is bad). Clobbers r0-r5."""
        self.movr(R1, dst_base).add(R1, dst_off).mov(R2, size).movr(R3, src).add(R3, src_off)
        return self.call(PROBE_READ_KERNEL)

    def stx32(self, dst: int, off: int, src: int) -> "Asm":
        return self._op(0x63, dst, src, off)

    def st32(self, dst: int, off: int, imm: int) -> "Asm":
        return self._op(0x62, dst, off=off, imm=imm)

    def atomic_add64(self, dst: int, off: int, src: int) -> "Asm":
        return self._op(0xDB, dst, src, off, 0)  # BPF_STX | BPF_ATOMIC | BPF_DW, imm BPF_ADD

    def load_map(self, dst: int, map_fd: int) -> "Asm":
        """dst = the map (ld_imm64 with BPF_PSEUDO_MAP_FD: two instruction slots)."""
        self._op(0x18, dst, BPF_PSEUDO_MAP_FD, 0, map_fd)
        return self._op(0, 0, 0, 0, 0)

    # jumps: BPF_JMP (0x05) | operation | BPF_K; off counts instructions after this one
    def jeq(self, dst: int, imm: int, label: str) -> "Asm":
        return self._op(0x15, dst, off=label, imm=imm)

    def jne(self, dst: int, imm: int, label: str) -> "Asm":
        return self._op(0x55, dst, off=label, imm=imm)

    def jeqr(self, dst: int, src: int, label: str) -> "Asm":
        return self._op(0x1D, dst, src, label)

    def jner(self, dst: int, src: int, label: str) -> "Asm":
        return self._op(0x5D, dst, src, label)

    def ja(self, label: str) -> "Asm":
        return self._op(0x05, off=label)

    def jsle(self, dst: int, imm: int, label: str) -> "Asm":
        return self._op(0xD5, dst, off=label, imm=imm)

    def jle(self, dst: int, imm: int, label: str) -> "Asm":
        return self._op(0xB5, dst, off=label, imm=imm)

    def call(self, helper: int) -> "Asm":
        return self._op(0x85, imm=helper)

    def exit(self) -> "Asm":
        return self._op(0x95)

    def assemble(self) -> bytes:
        out = bytearray()
        for index, (code, dst, src, off, imm) in enumerate(self.code):
            if isinstance(off, str):
                off = self.labels[off] - index - 1
            out += struct.pack("<BBhi", code, (src << 4) | dst, off, imm)
        return bytes(out)


RINGBUF_BUSY, RINGBUF_DISCARD = 1 << 31, 1 << 30
RINGBUF_HEADER = 8


class RingBuffer:
    """The consumer side of a BPF_MAP_TYPE_RINGBUF map (Documentation/bpf/ringbuf.rst): the consumer
    position page (read-write), then the producer position page and the data pages, mapped twice
    in a row so that a record that wraps around reads as one piece.

    The positions are read and written with plain loads and stores: on x86-64 (total store order)
    that is what the kernel's own consumer does; on arm64 the interpreter's work between the reads
    stands in for the acquire barrier libbpf uses, which nothing guarantees."""

    def __init__(self, map_fd: int, size: int) -> None:
        self.fd = map_fd
        self.size = size
        self.mask = size - 1
        page = mmap.PAGESIZE
        self.consumer = mmap.mmap(map_fd, page, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE, offset=0)
        try:
            self.data = mmap.mmap(map_fd, page + 2 * size, mmap.MAP_SHARED, mmap.PROT_READ, offset=page)
        except BaseException:
            self.consumer.close()
            raise
        self.base = page

    def records(self, limit: int = 1 << 20) -> list[bytes]:
        """Every committed record, oldest first (at most `limit`), and the space they held given back."""
        consumer = self.consumer
        data = self.data
        (pos,) = struct.unpack_from("<Q", consumer, 0)
        (producer,) = struct.unpack_from("<Q", data, 0)
        out = []
        base, mask = self.base, self.mask
        while pos < producer and len(out) < limit:
            start = base + (pos & mask)
            length, _pg_off = struct.unpack_from("<II", data, start)
            if length & RINGBUF_BUSY:
                break  # reserved, not yet committed: it and what follows wait for the next call
            size = length & ~(RINGBUF_BUSY | RINGBUF_DISCARD)
            if not length & RINGBUF_DISCARD:
                out.append(data[start + RINGBUF_HEADER: start + RINGBUF_HEADER + size])
            pos += (size + RINGBUF_HEADER + 7) & ~7
        struct.pack_into("<Q", consumer, 0, pos)
        return out

    def close(self) -> None:
        self.consumer.close()
        self.data.close()
