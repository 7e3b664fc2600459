"""Connection tracking against real sockets on 127.0.0.1 (and ::1) that the test opens."""
import os
import socket

import pytest

from .sockets import tcp_pair
from vigiles.sensors.netconns import NetTracker, decode_address, parse_table

SAMPLE = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 2222 1 0 20 4 30 10 -1
"""


def test_decode_addresses():
    assert decode_address("0100007F:0016", socket.AF_INET) == ("127.0.0.1", 22)
    assert decode_address("00000000000000000000000001000000:0016", socket.AF_INET6) == ("::1", 22)
    assert decode_address("0000000000000000FFFF00000100007F:0050", socket.AF_INET6) == ("127.0.0.1", 80)
    rows = parse_table(SAMPLE, "tcp", socket.AF_INET)
    assert [(r.sport, r.dport, r.state, r.uid, r.inode) for r in rows] == [(8080, 0, 10, 0, 1111), (50000, 8080, 1, 1000, 2222)]


@pytest.mark.parametrize("family, host", [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")])
def test_a_connection_is_one_open_and_one_close_event(family, host):
    try:
        server, client, accepted = tcp_pair(family, host)
    except OSError:
        pytest.skip(f"no {host} here")
    port = server.getsockname()[1]
    tracker = NetTracker(pids=lambda: [os.getpid()])
    mine = lambda events: [e for e in events if e.dport == port and e.sport == client.getsockname()[1]]
    first = mine(tracker.poll(now=100.0))
    assert len(first) == 1
    opened = first[0]
    assert opened.pid == os.getpid() and opened.proto == "tcp" and opened.dst == host
    assert opened.direction == "internal" and opened.extra["phase"] == "open" and opened.duration_s is None
    assert mine(tracker.poll(now=101.0)) == [] and mine(tracker.poll(now=160.0)) == []  # long-lived: no new events
    client.close()
    accepted.close()
    server.close()
    closed = [e for e in tracker.poll(now=161.0) if e.dport == port and e.extra["phase"] == "close"]
    assert len(closed) == 1 and closed[0].duration_s == 60.0 and closed[0].extra["open_event"] == opened.id
    assert closed[0].id != opened.id


def test_other_processes_sockets_are_not_selected_and_finish_reports_open_ones():
    server, client, accepted = tcp_pair(socket.AF_INET, "127.0.0.1")
    try:
        port = server.getsockname()[1]
        assert not [e for e in NetTracker(pids=lambda: [1]).poll() if port in (e.sport, e.dport)]
        tracker = NetTracker(pids=lambda: None)  # the whole host
        assert [e for e in tracker.poll(now=1.0) if e.dport == port]
        left = [e for e in tracker.finish() if e.dport == port]
        assert left and left[0].extra["phase"] == "open_at_stop"
    finally:
        for s in (client, accepted, server):
            s.close()


def test_capacity_is_bounded():
    server, client, accepted = tcp_pair(socket.AF_INET, "127.0.0.1")
    try:
        tracker = NetTracker(pids=lambda: None, max_conns=1)
        tracker.poll()
        assert len(tracker.conns) <= 1
    finally:
        for s in (client, accepted, server):
            s.close()
