"""AWS VPC flow logs, default (v2) and custom formats → network events."""
from collections import Counter

from vigiles.events import Network
from vigiles.sources import ReadError, detect, flowlogs, read_paths

HEADER = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
ACCEPT = "2 123456789010 eni-0a1b2c3d4e5f60718 10.42.17.9 185.220.101.47 51544 443 6 40 5120 1764554497 1764554592 ACCEPT OK"
REJECT = "2 123456789010 eni-0a1b2c3d4e5f60718 198.51.100.23 10.42.17.9 40022 3389 6 1 40 1764554500 1764554560 REJECT OK"
UDP = "2 123456789010 eni-0a1b2c3d4e5f60718 10.42.17.9 10.42.0.2 53211 53 17 1 73 1764554496 1764554500 ACCEPT OK"
NODATA = "2 123456789010 eni-0a1b2c3d4e5f60718 - - - - - - - 1764554000 1764554060 - NODATA"
SKIPDATA = "2 123456789010 eni-0a1b2c3d4e5f60718 - - - - - - - 1764554060 1764554120 - SKIPDATA"
CUSTOM_HEADER = "version vpc-id instance-id srcaddr dstaddr srcport dstport protocol bytes start end action flow-direction log-status"
CUSTOM = "5 vpc-0c1d2e3f i-0123456789abcdef0 10.42.17.9 140.82.112.3 40100 22 6 9000 1764554600 1764554660 ACCEPT egress OK"


def _read(tmp_path, lines, name="flows"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path, list(read_paths([path]))


def test_detected_by_content_with_or_without_header(tmp_path):
    for i, lines in enumerate(([HEADER, ACCEPT], [ACCEPT], [NODATA, ACCEPT], [CUSTOM_HEADER, CUSTOM])):
        path, _ = _read(tmp_path, lines, f"f{i}")
        assert detect(path).name == "flowlogs"
    path, _ = _read(tmp_path, ["2 hello world"], "other")
    assert detect(path) is None


def test_default_format_mapping(tmp_path):
    _, (out, rej, udp) = _read(tmp_path, [HEADER, ACCEPT, REJECT, UDP])
    assert isinstance(out, Network)
    assert (out.ts, out.src, out.sport, out.dst, out.dport, out.proto) == (
        1764554497.0, "10.42.17.9", 51544, "185.220.101.47", 443, "tcp")
    assert (out.bytes_out, out.duration_s, out.direction) == (5120, 95.0, "outbound")
    assert out.extra["action"] == "ACCEPT" and out.extra["packets"] == 40
    assert out.extra["interface_id"] == "eni-0a1b2c3d4e5f60718" and out.extra["account_id"] == "123456789010"
    assert rej.extra["action"] == "REJECT" and rej.direction == "inbound" and rej.dport == 3389
    assert udp.proto == "udp" and udp.direction == "internal"


def test_custom_format_from_header(tmp_path):
    _, (flow,) = _read(tmp_path, [CUSTOM_HEADER, CUSTOM])
    assert (flow.dst, flow.dport, flow.bytes_out, flow.direction, flow.host) == (
        "140.82.112.3", 22, 9000, "outbound", "i-0123456789abcdef0")
    assert flow.extra["vpc_id"] == "vpc-0c1d2e3f" and flow.extra["flow_direction"] == "egress"


def test_nodata_and_skipdata_are_skipped_and_counted(tmp_path):
    path, items = _read(tmp_path, [HEADER, NODATA, ACCEPT, SKIPDATA, NODATA])
    assert len(items) == 1 and isinstance(items[0], Network)
    counts = Counter()
    assert len(list(flowlogs.read(path, str(path), counts))) == 1
    assert counts == Counter({"NODATA": 2, "SKIPDATA": 1})
    assert flowlogs.SKIPPED["NODATA"] >= 2


def test_malformed_lines_are_reported_and_neighbours_read(tmp_path):
    short = "2 123456789010 eni-0a1b2c3d4e5f60718 10.42.17.9"
    bad_start = ACCEPT.replace("1764554497", "yesterday")
    bad_port = ACCEPT.replace(" 443 ", " https ")
    _, items = _read(tmp_path, [HEADER, ACCEPT, short, bad_start, bad_port, UDP])
    errors = [(i.line, i.message) for i in items if isinstance(i, ReadError)]
    assert [line for line, _ in errors] == [3, 4, 5]
    assert "4 fields" in errors[0][1] and "start" in errors[1][1] and "dstport" in errors[2][1]
    assert len([i for i in items if isinstance(i, Network)]) == 2
