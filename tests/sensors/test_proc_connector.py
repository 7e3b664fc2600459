"""The connector's message parsing, on hand-built datagrams laid out as linux/netlink.h,
linux/connector.h and linux/cn_proc.h define them; and the live socket when root."""
import os
import struct
import subprocess
import time

import pytest

from vigiles.sensors import proc_connector as pc
from vigiles.sensors.tree import ProcessTree

NLMSG_DONE = 3


def datagram(what, body, cpu=1, ts=123_456_789, idx=1, val=1, nl_type=NLMSG_DONE):
    event = struct.pack("=IIQ", what, cpu, ts) + body
    cn = struct.pack("=IIIIHH", idx, val, 7, 0, len(event), 0) + event
    return struct.pack("=IHHII", 16 + len(cn), nl_type, 0, 7, 0) + cn


def test_sizes_match_the_kernel_structs():
    assert pc.NLMSGHDR.size == 16 and pc.CN_MSG.size == 20 and pc.EVENT_HEAD.size == 16


def test_fork_exec_exit_comm_uid():
    fork = datagram(pc.PROC_EVENT_FORK, struct.pack("=iiii", 100, 100, 101, 101))
    events, problems = pc.parse_datagram(fork)
    assert problems == 0
    assert events == [pc.ProcEvent("fork", 1, 123_456_789, 101, 101, 100, 100)]
    (exe,), _ = pc.parse_datagram(datagram(pc.PROC_EVENT_EXEC, struct.pack("=ii", 101, 101)))
    assert (exe.what, exe.pid, exe.tgid) == ("exec", 101, 101)
    (ex,), _ = pc.parse_datagram(datagram(pc.PROC_EVENT_EXIT, struct.pack("=iiIIii", 101, 101, 256, 17, 100, 100)))
    assert (ex.what, ex.pid, ex.ppid, ex.info) == ("exit", 101, 100, (256, 17))
    (old,), _ = pc.parse_datagram(datagram(pc.PROC_EVENT_EXIT, struct.pack("=iiII", 5, 5, 0, 17)))  # pre-4.19
    assert old.ppid is None and old.info == (0, 17)
    (comm,), _ = pc.parse_datagram(datagram(pc.PROC_EVENT_COMM, struct.pack("=ii16s", 9, 9, b"ssh\0garbage")))
    assert comm.info == ("ssh",)
    (uid,), _ = pc.parse_datagram(datagram(pc.PROC_EVENT_UID, struct.pack("=iiII", 9, 9, 1000, 0)))
    assert (uid.what, uid.info) == ("uid", (1000, 0))
    (ack,), _ = pc.parse_datagram(datagram(pc.PROC_EVENT_NONE, struct.pack("=I", 0)))
    assert ack.what == "ack"


def test_several_messages_in_one_datagram_and_bad_input():
    one = datagram(pc.PROC_EVENT_EXEC, struct.pack("=ii", 1, 1))
    two = datagram(pc.PROC_EVENT_EXEC, struct.pack("=ii", 2, 2))
    events, _ = pc.parse_datagram(one + two)
    assert [e.pid for e in events] == [1, 2]
    assert pc.parse_datagram(one[:20]) == ([], 1)                       # truncated message: counted
    assert pc.parse_datagram(one[:10]) == ([], 0)                       # not even a header
    events, problems = pc.parse_datagram(struct.pack("=IHHII", 999, 3, 0, 0, 0))  # length past the end
    assert events == [] and problems == 1
    assert pc.parse_datagram(datagram(pc.PROC_EVENT_EXEC, b"\x01"))[0] == []  # short body
    assert pc.parse_datagram(datagram(pc.PROC_EVENT_EXEC, struct.pack("=ii", 1, 1), idx=2))[0] == []  # other connector
    assert pc.parse_datagram(datagram(0x1234, b"\0" * 16))[0] == []      # unknown kind
    assert pc.parse_datagram(struct.pack("=IHHII", 16, 2, 0, 0, 0)) == ([], 1)  # NLMSG_ERROR


def test_a_lone_exec_is_read_in_one_step_and_anything_else_is_left_to_the_parser():
    padded = struct.pack("=ii", 101, 102) + b"\0" * 32  # the kernel sends the whole union (40 bytes)
    assert pc.lone_exec(datagram(pc.PROC_EVENT_EXEC, padded, ts=55)) == (102, 55)
    assert pc.lone_exec(datagram(pc.PROC_EVENT_EXEC, struct.pack("=ii", 7, 7))) == (7, 123_456_789)
    one = datagram(pc.PROC_EVENT_EXEC, struct.pack("=ii", 1, 1))
    assert pc.lone_exec(one + one) is None                                   # two messages: the parser's
    assert pc.lone_exec(datagram(pc.PROC_EVENT_FORK, struct.pack("=iiii", 1, 1, 2, 2))) is None
    assert pc.lone_exec(datagram(pc.PROC_EVENT_EXEC, struct.pack("=ii", 1, 1), idx=2)) is None
    assert pc.lone_exec(datagram(pc.PROC_EVENT_EXEC, struct.pack("=ii", 1, 1), nl_type=2)) is None
    assert pc.lone_exec(one[:40]) is None


def test_listen_message_layout():
    msg = pc.listen_message(pc.PROC_CN_MCAST_LISTEN, nl_pid=42)
    length, kind, flags, seq, pid = struct.unpack_from("=IHHII", msg)
    assert (length, kind, pid) == (len(msg), NLMSG_DONE, 42) and len(msg) == 40
    assert struct.unpack_from("=IIIIHH", msg, 16) == (1, 1, 0, 0, 4, 0)
    assert struct.unpack_from("=I", msg, 36) == (1,)


def test_tree_selects_descendants_and_stays_bounded():
    tree = ProcessTree(max_live=100, keep_exited=10)
    tree.watch(10)
    tree.fork(10, 11, 1)
    tree.fork(11, 12, 2)
    tree.fork(1, 99, 3)
    assert tree.is_watched(12) and not tree.is_watched(99)
    tree.exit(11)                      # the parent exits: the grandchild stays watched
    assert tree.is_watched(12) and tree.ppid(12) == 11
    for pid in range(1000, 1500):      # a fork bomb
        tree.fork(12, pid, pid)
    assert len(tree) <= 110 + 1 and tree.evicted > 0
    for pid in range(2000, 2050):
        tree.fork(1, pid, pid)
        tree.exit(pid)
    assert len(tree) <= 111


def _run_watched(conn, seen, argv, wanted=1):
    """Start the connector, run `argv` to its end, and wait (3 s at most) until `wanted` events
    are seen — of the program's own pid when one is wanted."""
    conn.start()
    try:
        proc = subprocess.Popen(argv)
        proc.wait()
        deadline = time.time() + 3
        while time.time() < deadline:
            mine = [e for e in seen if e.pid == proc.pid] if wanted == 1 else seen
            if len(mine) >= wanted:
                break
            time.sleep(0.02)
    finally:
        conn.stop()
    return proc


@pytest.mark.skipif(os.geteuid() != 0, reason="the process connector needs root")
def test_live_connector_reads_exec_details():
    conn = pc.ConnectorSource(lambda e: seen.append(e), ProcessTree())
    seen = []
    proc = _run_watched(conn, seen, ["sleep", "0.05"])
    mine = [e for e in seen if e.pid == proc.pid]
    assert mine and mine[0].argv == ["sleep", "0.05"] and mine[0].exe.endswith("sleep")
    assert mine[0].ppid == os.getpid() and mine[0].user
    assert conn.stats["overruns"] == 0
    if pc.filtering_supported():  # host-wide: execs only, each parent read from /proc/PID/stat
        assert conn.tree_conn is None and conn.stats["forks"] == 0


def test_filtered_listen_message_carries_proc_input():
    msg = pc.listen_message(pc.PROC_CN_MCAST_LISTEN, nl_pid=7, events=pc.PROC_EVENT_EXEC)
    assert len(msg) == 44 and struct.unpack_from("=I", msg, 0) == (44,)
    assert struct.unpack_from("=IIIIHH", msg, 16)[4] == 8  # cn_msg.len: struct proc_input
    assert struct.unpack_from("=II", msg, 36) == (pc.PROC_CN_MCAST_LISTEN, pc.PROC_EVENT_EXEC)


def test_filtering_needs_linux_6_6():
    assert not pc.filtering_supported("6.5.13-generic")
    assert pc.filtering_supported("6.6.0") and pc.filtering_supported("6.18.44-fc-v657-gpu")
    assert pc.filtering_supported("7.0.1") and not pc.filtering_supported("5.15.0-91-generic")
    assert not pc.filtering_supported("unknown")


@pytest.mark.skipif(os.geteuid() != 0 or not pc.filtering_supported(),
                    reason="needs root and a kernel that filters process events (Linux >= 6.6)")
def test_the_kernel_filters_per_socket():
    execs = pc.ProcConnector(events=pc.PROC_EVENT_EXEC, timeout=0.1)
    lifecycle = pc.ProcConnector(events=pc.PROC_EVENT_FORK | pc.PROC_EVENT_EXIT, timeout=0.1)
    try:
        proc = subprocess.Popen(["true"])
        proc.wait()
        time.sleep(0.05)
        on_execs = [e for e in execs.drain() if e.tgid == proc.pid]
        on_lifecycle = [e for e in lifecycle.drain() if e.tgid == proc.pid]
    finally:
        execs.close()
        lifecycle.close()
    assert [e.what for e in on_execs] == ["exec"]
    assert sorted(e.what for e in on_lifecycle) == ["exit", "fork"]


@pytest.mark.skipif(os.geteuid() != 0, reason="the process connector needs root")
def test_a_child_forked_and_exec_d_at_once_is_in_the_watched_tree():
    """The reader sleeps on execs and drains forks on waking: the fork must still come first."""
    tree = ProcessTree()
    tree.watch(os.getpid())
    seen = []
    conn = pc.ConnectorSource(seen.append, tree, only_watched=True)
    proc = _run_watched(conn, seen, ["bash", "-c", "sleep 0.05 & wait"], wanted=2)
    assert [e.argv for e in seen] == [["bash", "-c", "sleep 0.05 & wait"], ["sleep", "0.05"]]
    assert seen[1].ppid == proc.pid


@pytest.mark.skipif(os.geteuid() != 0, reason="the process connector needs root")
def test_kernels_without_filters_get_one_socket_of_every_event(monkeypatch):
    monkeypatch.setattr(pc, "filtering_supported", lambda release=None: False)
    seen = []
    conn = pc.ConnectorSource(seen.append, ProcessTree())
    assert conn.tree_conn is None
    proc = _run_watched(conn, seen, ["sleep", "0.05"])
    assert [e.argv for e in seen if e.pid == proc.pid] == [["sleep", "0.05"]]
    assert conn.stats["forks"] >= 1 and conn.stats["exits"] >= 1 and conn.stats["filtered"] is False


def test_details_keep_empty_arguments():
    import sys
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(5)", "", "x", ""])
    try:
        deadline = time.monotonic() + 5
        details = None
        while time.monotonic() < deadline:
            details = pc.read_details(child.pid)
            if details is not None and details.argv[0] == sys.executable:
                break
            time.sleep(0.02)
        assert details.argv == [sys.executable, "-c", "import time; time.sleep(5)", "", "x", ""]
    finally:
        child.kill()
        child.wait()
