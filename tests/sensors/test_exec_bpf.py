"""The eBPF exec sensor (vigiles/sensors/exec_bpf.py, bpf.py, btf.py).

The BTF reader, the assembler and the record layout are tested on bytes built here. The program
itself is loaded into this machine's kernel, attached and fed real execs where that is possible
(root, BTF, Linux >= 5.8): those tests skip elsewhere, saying why.
"""
import os
import shutil
import struct
import subprocess
import time

import pytest

from vigiles.sensors import bpf, exec_bpf
from vigiles.sensors.btf import BTF, BTFError, HEADER
from vigiles.sensors.run import Sensor

PROBE, WHY = exec_bpf.open_probe() if os.geteuid() == 0 else (None, "needs root")
if PROBE is not None:
    PROBE.close()
needs_bpf = pytest.mark.skipif(PROBE is None, reason=WHY or "eBPF unavailable")


# -- BTF ----------------------------------------------------------------------------------------------
def _btf(types: list[bytes], names: list[str]) -> bytes:
    strings = b"\0" + b"".join(n.encode() + b"\0" for n in names)
    type_data = b"".join(types)
    header_len = HEADER.size
    return HEADER.pack(0xEB9F, 1, 0, header_len, 0, len(type_data), len(type_data), len(strings)) + type_data + strings


def _name_off(names: list[str], name: str) -> int:
    return 1 + sum(len(n) + 1 for n in names[:names.index(name)])


def _struct(kind: int, name_off: int, size: int, members: list[tuple[int, int, int]], kind_flag: int = 0) -> bytes:
    info = (kind_flag << 31) | (kind << 24) | len(members)
    return struct.pack("<III", name_off, info, size) + b"".join(struct.pack("<III", *m) for m in members)


def test_btf_offsets_found_through_anonymous_members_and_typedefs():
    names = ["int", "inner", "task", "mm", "pid", "arg_start", "arg_end", "flags"]
    n = lambda s: _name_off(names, s)  # noqa: E731
    types = [
        struct.pack("<IIII", n("int"), 1 << 24, 4, 32),                                     # 1: int
        _struct(4, 0, 16, [(n("arg_start"), 1, 0), (n("arg_end"), 1, 64)]),                # 2: anonymous struct
        struct.pack("<III", 0, 8 << 24, 2),                                                 # 3: typedef -> 2
        _struct(5, 0, 16, [(0, 3, 0), (n("flags"), 1, 0)]),                                 # 4: anonymous union
        _struct(4, n("task"), 40, [(n("pid"), 1, 32), (0, 4, 128)]),                        # 5: struct task
        _struct(4, n("mm"), 8, [(n("pid"), 1, (3 << 24) | 8)], kind_flag=1),                # 6: a bit field
    ]
    btf = BTF(_btf(types, names))
    assert btf.offset("task", "pid") == 4
    assert btf.offset("task", "arg_start") == 16 and btf.offset("task", "arg_end") == 24
    assert btf.offset("task", "flags") == 16
    with pytest.raises(BTFError, match="no field nope"):
        btf.offset("task", "nope")
    with pytest.raises(BTFError, match="no struct absent"):
        btf.offset("absent", "pid")
    with pytest.raises(BTFError, match="bit field"):
        btf.offset("mm", "pid")


def test_btf_that_is_not_btf_is_refused():
    with pytest.raises(BTFError, match="not BTF"):
        BTF(b"\0" * 64)
    with pytest.raises(BTFError, match="shorter"):
        BTF(b"\x9f\xeb")


@pytest.mark.skipif(not os.path.exists("/sys/kernel/btf/vmlinux"), reason="the kernel has no BTF")
def test_the_running_kernel_has_every_field_the_program_follows():
    off = exec_bpf.offsets(BTF.load())
    assert off["mm_struct.arg_end"] == off["mm_struct.arg_start"] + 8
    assert off["task_struct.tgid"] > 0 and off["qstr.name"] == 8 and off["vfsmount.mnt_root"] >= 0


# -- the assembler and the record ------------------------------------------------------------------------
def test_assembler_encodes_instructions_and_resolves_labels():
    a = bpf.Asm()
    a.mov(bpf.R0, -1).jeq(bpf.R0, 0, "end").load_map(bpf.R1, 7).label("end").exit()
    code = a.assemble()
    insns = [struct.unpack_from("<BBhi", code, i) for i in range(0, len(code), 8)]
    assert insns[0] == (0xB7, 0, 0, -1)
    assert insns[1] == (0x15, 0, 2, 0)               # over both slots of the ld_imm64
    assert insns[2] == (0x18, (1 << 4) | 1, 0, 7)    # src = BPF_PSEUDO_MAP_FD, dst = r1
    assert insns[3] == (0, 0, 0, 0) and insns[4] == (0x95, 0, 0, 0)


def _names(raw: bytearray, at: int, names) -> None:
    for i, name in enumerate(names):
        slot = at + i * exec_bpf.NAME_SLOT
        raw[slot:slot + len(name)] = name.encode()


def _record(argv: bytes, *, cwd=("work", "home"), exe=("sh", "", "bin"), cut=False, argv_len=None,
            pid=4321) -> bytes:
    """A record as the program writes it: names leaf first, "" where a mount was crossed."""
    steps = (len(cwd) | exec_bpf.CUT) if cut else len(cwd)
    head = exec_bpf.HEAD.pack(pid << 32 | pid, 5_000_000_000, 1000, 0, 77, steps, 0, 0, len(exe), 0,
                              len(argv) if argv_len is None else argv_len)
    raw = bytearray(exec_bpf.DATA_AT)
    raw[:len(head)] = head
    _names(raw, exec_bpf.CWD_AT, cwd)
    _names(raw, exec_bpf.EXE_AT, exe)
    return bytes(raw) + argv


def test_record_gives_argv_and_paths_built_leaf_first():
    record = exec_bpf.parse(_record(b"sh\0-c\0echo \xff\0\0"))
    assert (record.pid, record.ppid, record.uid) == (4321, 77, 1000)
    assert record.argv == ["sh", "-c", "echo \udcff", ""] and record.complete  # an empty last argument kept
    assert record.cwd == "/home/work" and record.exe == "/bin/sh"  # the empty slot: a mount crossed
    assert exec_bpf.parse(_record(b"true\0", cwd=())).cwd == "/"
    assert exec_bpf.parse(_record(b"true\0", cut=True)).cwd is None
    cut = exec_bpf.parse(_record(b"a\0bbbb", argv_len=50_000))
    assert not cut.complete and cut.argv == ["a", "bbbb"]
    assert exec_bpf.parse(_record(b"")).argv is None
    assert exec_bpf.parse(b"short") is None


def test_a_cut_command_line_stays_the_kernels_and_is_marked():
    """What /proc holds later is the process's to rewrite (perl's $0): a cut command line is
    kept as the kernel copied it, and says how long it was."""
    emitted = []
    source = exec_bpf.BpfExecSource(emitted.append, None, probe=object())
    source.handle(exec_bpf.parse(_record(b"sleep\0" + b"x" * 10, argv_len=1 << 20, pid=os.getpid())))
    assert emitted[-1].argv == ["sleep", "x" * 10] and emitted[-1].extra["argv_cut"] == 1 << 20
    assert source.stats["truncated_argv"] == 1
    assert emitted[-1].exe == "/bin/sh" and emitted[-1].cwd == "/home/work"
    source.handle(exec_bpf.parse(_record(b"true\0", cut=True, pid=os.getpid())))  # cwd from /proc while alive
    assert emitted[-1].cwd == os.getcwd() and emitted[-1].extra["cwd_from"] == "proc"
    source.handle(exec_bpf.parse(_record(b"true\0", cut=True, pid=2**22 + 12345)))  # gone: unknown, said so
    assert emitted[-1].cwd is None and emitted[-1].extra["cwd_from"] == "unknown"
    source.handle(exec_bpf.parse(_record(b"")))
    assert source.stats["lost_exec_details"] == 1 and len(emitted) == 3


# -- the program in this kernel -------------------------------------------------------------------------
def _bind(source, target) -> None:
    """A bind mount for a test, or a skip where this machine allows none (no CAP_SYS_ADMIN)."""
    done = subprocess.run(["mount", "--bind", str(source), str(target)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"bind mount refused: {done.stderr.strip()}")


def _execs(run) -> list:
    probe = exec_bpf.ExecProbe()
    try:
        run()
        deadline = time.monotonic() + 5
        records = []
        while time.monotonic() < deadline:
            records += [exec_bpf.parse(raw) for raw in probe.records()]
            if any(r.argv and r.argv[-1] == "END" for r in records):
                break
            time.sleep(0.02)
        assert probe.ring_dropped() == 0
        return records
    finally:
        probe.close()


@needs_bpf
def test_program_records_argv_paths_across_mounts_and_links_and_the_parent(tmp_path):
    workdir = tmp_path / "dir with space"
    (workdir / "sub").mkdir(parents=True)
    script = workdir / "run.sh"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    (tmp_path / "harmless").symlink_to(os.path.realpath("/bin/true"))
    bound = tmp_path / "bound"
    bound.mkdir()
    _bind(workdir, bound)  # a subdirectory bound
    shell = shutil.which("sh")
    try:
        def run():
            subprocess.run([shell, "-c", f"cd '{workdir}' && ./run.sh 'a b' \"$(printf '\\377')\" ''; "
                            f"cd '{bound}/sub' && {tmp_path}/harmless; "
                            "cd /proc/self && /bin/true; cd /dev/shm && /bin/true END"], check=True)
        records = _execs(run)
    finally:
        subprocess.run(["umount", str(bound)], check=True)
    sh = next(r for r in records if r.argv and r.argv[0] == shell)
    ours = [(r.argv, r.exe, r.cwd) for r in records if r.ppid == sh.pid]
    true, dash = os.path.realpath("/bin/true"), os.path.realpath("/bin/sh")
    assert ours == [
        (["/bin/sh", "./run.sh", "a b", "\udcff", ""], dash, str(workdir)),  # a script: its interpreter
        ([f"{tmp_path}/harmless"], true, f"{bound}/sub"),     # the link resolved; the bind mount read right
        (["/bin/true"], true, f"/proc/{sh.pid}"),              # a mount point crossed: /proc on /
        (["/bin/true", "END"], true, "/dev/shm"),
    ]
    assert sh.ppid == os.getpid() and sh.uid == os.geteuid()


@needs_bpf
def test_program_copies_a_long_command_line_up_to_its_bound():
    # one argument may hold at most 128 KiB (MAX_ARG_STRLEN): three make a command line longer than ARGV_MAX
    parts = ["y" * 60_000] * 3
    records = _execs(lambda: subprocess.run(["/bin/true", *parts, "END"], check=True))
    record = next(r for r in records if r.argv and r.argv[0] == "/bin/true")
    assert record.argv_len == len("/bin/true") + 180_000 + len("END") + 5
    assert record.copied == exec_bpf.ARGV_MAX and not record.complete
    assert record.argv[:3] == ["/bin/true", parts[0], parts[1]]
    short = next(r for r in _execs(lambda: subprocess.run(["/bin/true", "z" * 100_000, "END"], check=True))
                 if r.argv and r.argv[0] == "/bin/true")
    assert short.complete and short.argv == ["/bin/true", "z" * 100_000, "END"]


@needs_bpf
def test_host_sensor_prefers_the_program_and_a_watch_keeps_the_connector():
    sensor = Sensor(net=False, gpu=False)
    sensor.start()
    try:
        assert sensor.mode == "bpf"
        subprocess.run(["/bin/true", "vigiles-bpf-test"], check=True)
        deadline, found = time.monotonic() + 5, None
        while found is None and time.monotonic() < deadline:
            event = sensor.get(timeout=0.2)
            if event is not None and event.argv == ["/bin/true", "vigiles-bpf-test"]:
                found = event
        assert found is not None and found.exe == os.path.realpath("/bin/true") and found.cwd == os.getcwd()
        assert found.ppid == os.getpid() and found.extra["sensor"] == "bpf"
    finally:
        sensor.stop()
    assert sensor.stats()["lost_exec_details"] == 0


@needs_bpf
def test_a_watch_reports_only_what_descends_from_it_even_past_a_fork_that_execs_nothing():
    # started before the watch: its fork was not seen, so what it runs is not the watch's
    helper = subprocess.Popen(["/bin/sh", "-c", "read go; /bin/true outside"], stdin=subprocess.PIPE)
    sensor = Sensor(watch_children=True, net=False, gpu=False)
    sensor.start()
    try:
        assert sensor.mode == "bpf"
        # a subshell forks without an exec of its own; what it runs descends from us all the same
        subprocess.run(["/bin/sh", "-c", "( /bin/true watched-child; exit 0 ); /bin/true END"], check=True)
        helper.communicate(b"go\n", timeout=5)
        deadline, seen = time.monotonic() + 5, []
        while time.monotonic() < deadline and not (["/bin/true", "END"] in seen
                                                   and sensor.process_source.stats["skipped_unwatched"]):
            event = sensor.get(timeout=0.2)
            if event is not None and event.kind == "process":
                seen.append(event.argv)
        seen += [e.argv for e in sensor.drain() if e.kind == "process"]
    finally:
        sensor.stop()
    assert ["/bin/true", "watched-child"] in seen and ["/bin/true", "END"] in seen
    assert ["/bin/true", "outside"] not in seen
    stats = sensor.stats()
    assert stats["bpf_skipped_unwatched"] >= 1 and stats["bpf_forks"] >= 2 and stats["lost_exec_details"] == 0


@needs_bpf
def test_a_full_ring_drops_in_the_kernel_and_the_running_reader_counts_it():
    probe = exec_bpf.ExecProbe(ring_bytes=8192)  # smaller than one record: every exec overflows it
    source = exec_bpf.BpfExecSource(lambda event: None, None, probe=probe)
    source.start()
    try:
        for _ in range(3):
            subprocess.run(["/bin/true"], check=True)
        deadline = time.monotonic() + 5
        while source.stats["ring_dropped"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert source.stats["ring_dropped"] >= 3  # seen while it runs, not only at the stop
        assert source.stats["lost_exec_details"] == source.stats["ring_dropped"]
    finally:
        source.stop()


@needs_bpf
def test_a_chrooted_process_reads_as_the_host_sees_it(tmp_path):
    """Paths are walked to the top of the mount namespace, not to the process's own root: a
    chrooted agent cannot make its directory or program read as another place."""
    root = tmp_path / "root"
    root.mkdir()
    _bind("/", root)
    try:
        records = _execs(lambda: subprocess.run(["chroot", str(root), "/bin/sh", "-c", "cd /etc && /bin/true END"],
                                                check=True))
    finally:
        subprocess.run(["umount", str(root)], check=True)
    record = next(r for r in records if r.argv == ["/bin/true", "END"])
    assert record.cwd == f"{root}/etc" and record.exe == f"{root}{os.path.realpath('/bin/true')}"
