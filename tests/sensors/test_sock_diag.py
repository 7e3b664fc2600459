"""sock_diag dumps against /proc/net, on real sockets the test opens, and the parser on crafted datagrams."""
import errno
import os
import socket
import time

import pytest

from .sockets import tcp_pair
from vigiles.sensors import sock_diag
from vigiles.sensors.netconns import TABLES, NetTracker, read_tables
from vigiles.sensors.sock_diag import MESSAGE, NLATTR, NLMSGHDR, DiagError, open_diag, parse

diag = open_diag()
needs_diag = pytest.mark.skipif(diag is None, reason="no sock_diag netlink family in this kernel")


def _by_inode(entries):
    return {e.inode: e for e in entries if e.inode}


@needs_diag
@pytest.mark.parametrize("family, host", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_a_dump_gives_the_sockets_proc_net_gives(family, host):
    try:
        sockets = tcp_pair(family, host)
    except OSError:
        pytest.skip(f"no {host} here")
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((host, 0))
    udp.connect(sockets[0].getsockname()[:2])
    try:
        mine = {s.fileno(): s for s in (*sockets, udp)}
        inodes = {os.fstat(fd).st_ino for fd in mine}
        from_diag = _by_inode(read_tables(TABLES, diag, set()))
        from_proc = _by_inode(read_tables(TABLES))
        for inode in inodes:
            assert from_diag[inode][:8] == from_proc[inode][:8]
        listener = from_diag[os.fstat(sockets[0].fileno()).st_ino]
        assert listener.state == 10 and listener.dport == 0 and listener.src == host
        dgram = from_diag[os.fstat(udp.fileno()).st_ino]
        assert dgram.proto == "udp" and dgram.dport == sockets[0].getsockname()[1]
    finally:
        for s in (*sockets, udp):
            s.close()


@needs_diag
def test_the_tracker_reads_by_sock_diag_and_finds_the_owner():
    import os
    server, client, accepted = tcp_pair(socket.AF_INET, "127.0.0.1")
    try:
        tracker = NetTracker(pids=lambda: [os.getpid()])
        assert tracker.stats["reader"] == "sock_diag"
        port = server.getsockname()[1]
        opened = [e for e in tracker.poll() if e.dport == port]
        assert len(opened) == 1 and opened[0].pid == os.getpid() and opened[0].sport == client.getsockname()[1]
        tracker.finish()
        assert tracker.diag is None
    finally:
        for s in (client, accepted, server):
            s.close()


@needs_diag
def test_tcp_byte_counts_come_with_the_connection_and_grow_to_its_close():
    server, client, accepted = tcp_pair(socket.AF_INET, "127.0.0.1")
    try:
        tracker = NetTracker(pids=lambda: [os.getpid()])
        port = server.getsockname()[1]
        client.sendall(b"x" * 5000)
        accepted.sendall(b"y" * 700)
        assert len(accepted.recv(8192)) > 0 and len(client.recv(8192)) > 0
        time.sleep(0.05)  # loopback acknowledges at once; give it the time all the same
        opened = [e for e in tracker.poll(now=1.0) if e.dport == port]
        # the kernel's counters: bytes acknowledged count this end's SYN (and FIN), received the peer's FIN
        assert len(opened) == 1 and opened[0].bytes_out == 5001 and opened[0].bytes_in == 700
        client.sendall(b"z" * 3000)
        accepted.recv(8192)
        time.sleep(0.05)
        tracker.poll(now=2.0)
        client.close()
        closed = [e for e in tracker.poll(now=3.0) if e.dport == port and e.extra["phase"] == "close"]
        assert len(closed) == 1 and closed[0].bytes_out == 8001 and closed[0].bytes_in == 700
    finally:
        for s in (client, accepted, server):
            s.close()


def _message(seq, kind, body):
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), kind, 0, seq, 0) + body


def _socket_body(family, state, sport, dport, src, dst, uid, inode):
    return MESSAGE.pack(family, state, 0, 0, sport.to_bytes(2, "big"), dport.to_bytes(2, "big"), src, dst,
                        0, 0, 0, uid, inode)


def test_parse_reads_sockets_skips_other_sequences_and_stops_at_done():
    mapped = b"\0" * 10 + b"\xff\xff" + bytes([10, 0, 0, 7])
    data = (_message(7, sock_diag.SOCK_DIAG_BY_FAMILY,
                     _socket_body(socket.AF_INET, 1, 40000, 22, bytes([127, 0, 0, 1]) + b"\0" * 12,
                                  bytes([192, 0, 2, 9]) + b"\0" * 12, 1000, 4242))
            + _message(6, sock_diag.SOCK_DIAG_BY_FAMILY,  # a stale dump's answer
                       _socket_body(socket.AF_INET, 1, 1, 2, b"\0" * 16, b"\0" * 16, 0, 1))
            + _message(7, sock_diag.SOCK_DIAG_BY_FAMILY,
                       _socket_body(socket.AF_INET6, 2, 40001, 3333, mapped, bytes(15) + b"\1", 0, 4243))
            + _message(7, sock_diag.NLMSG_DONE, b"\0\0\0\0"))
    out = []
    assert parse(data, "tcp", 7, out) is True
    assert [(e.src, e.sport, e.dst, e.dport, e.state, e.uid, e.inode) for e in out] == [
        ("127.0.0.1", 40000, "192.0.2.9", 22, 1, 1000, 4242), ("10.0.0.7", 40001, "::1", 3333, 2, 0, 4243)]
    assert out[0].bytes_out is None


def test_parse_reads_byte_counts_from_tcp_info_and_ignores_other_attributes():
    info = bytearray(232)
    info[120:136] = (123456).to_bytes(8, "little") + (789).to_bytes(8, "little")
    other = NLATTR.pack(4 + 6, 1) + bytes(6) + bytes(2)  # INET_DIAG_MEMINFO-like, padded to 4
    tcp_info = NLATTR.pack(4 + len(info), sock_diag.INET_DIAG_INFO) + bytes(info)
    body = _socket_body(socket.AF_INET, 1, 5, 6, bytes(16), bytes(16), 0, 9) + other + tcp_info
    out = []
    parse(_message(1, sock_diag.SOCK_DIAG_BY_FAMILY, body), "tcp", 1, out)
    assert (out[0].bytes_out, out[0].bytes_in, out[0].inode) == (123456, 789, 9)
    short = _socket_body(socket.AF_INET, 1, 5, 6, bytes(16), bytes(16), 0, 9) + NLATTR.pack(4 + 64, 2) + bytes(64)
    out = []
    parse(_message(1, sock_diag.SOCK_DIAG_BY_FAMILY, short), "tcp", 1, out)
    assert out[0].bytes_out is None  # a tcp_info too old to hold the counts


def test_parse_raises_the_kernels_error_and_rejects_a_truncated_message():
    with pytest.raises(DiagError) as caught:
        parse(_message(3, sock_diag.NLMSG_ERROR, (-errno.ENOENT).to_bytes(4, "little", signed=True) + bytes(16)),
              "udp", 3, [])
    assert caught.value.errno == errno.ENOENT
    with pytest.raises(DiagError):
        parse(NLMSGHDR.pack(500, sock_diag.SOCK_DIAG_BY_FAMILY, 0, 3, 0) + bytes(20), "tcp", 3, [])


def test_a_refused_table_is_read_from_proc_net_from_then_on(monkeypatch):
    class Refusing:
        calls = 0

        def dump(self, proto, family):
            Refusing.calls += 1
            raise DiagError(errno.ENOENT, "no udp_diag")

    refused = set()
    udp = [t for t in TABLES if t[0] == "udp"][:1]
    server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    server.bind(("127.0.0.1", 0))
    try:
        import os
        inode = os.fstat(server.fileno()).st_ino
        assert inode in _by_inode(read_tables(udp, Refusing(), refused))
        assert refused == {udp[0][1]}
        read_tables(udp, Refusing(), refused)
        assert Refusing.calls == 1
    finally:
        server.close()
