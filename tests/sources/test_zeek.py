"""Zeek conn.log and dns.log, TSV and JSON → network events."""
import json

from vigiles.events import Network
from vigiles.sources import ReadError, detect, read_paths

T = "\t"
CONN_FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto service duration orig_bytes resp_bytes "
               "conn_state local_orig local_resp missed_bytes history orig_pkts orig_ip_bytes resp_pkts "
               "resp_ip_bytes tunnel_parents").split()
CONN_TYPES = ("time string addr port addr port enum string interval count count string bool bool count string "
              "count count count count set[string]").split()


def header(path, fields, types):
    return ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", f"#path\t{path}",
            "#open\t2025-12-01-02-00-00", "#fields\t" + T.join(fields), "#types\t" + T.join(types)]


CONN_TSV = header("conn", CONN_FIELDS, CONN_TYPES) + [
    T.join("1764554497.900000 CHhAvVGS1DHFjwGM9 10.42.17.9 51544 185.220.101.47 443 tcp ssl 95.000000 5120 8812 SF "
           "T F 0 ShADadFf 40 7200 38 10800 (empty)".split()),
    T.join("1764554500.100000 C4J4Th3PJpwUYZZ6gc 198.51.100.23 40022 10.42.17.9 22 tcp - - - - S0 "
           "F T 0 S 1 60 0 0 (empty)".split()),
    "#close\t2025-12-01-03-00-00",
]
DNS_FIELDS = ("ts uid id.orig_h id.orig_p id.resp_h id.resp_p proto trans_id rtt query qclass qclass_name qtype "
              "qtype_name rcode rcode_name AA TC RD RA Z answers TTLs rejected").split()
DNS_TYPES = ("time string addr port addr port enum count interval string count string count string count string "
             "bool bool bool bool count vector[string] vector[interval] bool").split()
DNS_TSV = header("dns", DNS_FIELDS, DNS_TYPES) + [
    T.join("1764554496.500000 CpcOfq2bWmDRN6VA4 10.42.17.9 53211 10.42.0.10 53 udp 4471 0.001200 "
           "pool.supportxmr.com 1 C_INTERNET 1 A 0 NOERROR F F T T 0 141.94.96.71,141.94.96.144 60.000000,60.000000 F"
           .split()),
]
CONN_JSON = {"ts": 1764554497.9, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_h": "10.42.17.9", "id.orig_p": 51544,
             "id.resp_h": "185.220.101.47", "id.resp_p": 443, "proto": "tcp", "service": "ssl", "duration": 95.0,
             "orig_bytes": 5120, "resp_bytes": 8812, "conn_state": "SF", "missed_bytes": 0, "history": "ShADadFf",
             "orig_pkts": 40, "orig_ip_bytes": 7200, "resp_pkts": 38, "resp_ip_bytes": 10800}
DNS_JSON = {"ts": "2025-12-01T02:01:36.500000Z", "uid": "CpcOfq2bWmDRN6VA4", "id.orig_h": "10.42.17.9",
            "id.orig_p": 53211, "id.resp_h": "10.42.0.10", "id.resp_p": 53, "proto": "udp", "trans_id": 4471,
            "query": "pool.supportxmr.com", "qtype_name": "A", "rcode_name": "NOERROR",
            "answers": ["141.94.96.71"], "TTLs": [60.0], "rejected": False}


def _read(tmp_path, lines, name="log"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path, list(read_paths([path]))


def test_detected_by_content(tmp_path):
    for i, lines in enumerate((CONN_TSV, DNS_TSV, [json.dumps(CONN_JSON)], [json.dumps(DNS_JSON)])):
        path, _ = _read(tmp_path, lines, f"f{i}")
        assert detect(path).name == "zeek"
    path, _ = _read(tmp_path, header("http", ["ts", "uid"], ["time", "string"]), "http")
    assert detect(path) is None or detect(path).name != "zeek"


def test_conn_tsv_mapping_and_local_flags(tmp_path):
    _, (out, inbound) = _read(tmp_path, CONN_TSV)
    assert isinstance(out, Network)
    assert (out.ts, out.src, out.sport, out.dst, out.dport, out.proto) == (
        1764554497.9, "10.42.17.9", 51544, "185.220.101.47", 443, "tcp")
    assert (out.duration_s, out.bytes_out, out.bytes_in, out.direction) == (95.0, 5120, 8812, "outbound")
    assert out.extra["zeek_uid"] == "CHhAvVGS1DHFjwGM9" and out.extra["conn_state"] == "SF"
    assert inbound.direction == "inbound" and inbound.duration_s is None and inbound.bytes_out is None
    assert "service" not in inbound.extra  # "-" is unset


def test_dns_tsv_and_json(tmp_path):
    _, (tsv,) = _read(tmp_path, DNS_TSV, "dns.log")
    assert tsv.dns_query == "pool.supportxmr.com" and (tsv.dst, tsv.dport, tsv.proto) == ("10.42.0.10", 53, "udp")
    assert tsv.extra["dns_answers"] == ["141.94.96.71", "141.94.96.144"] and tsv.direction == "internal"
    _, (js,) = _read(tmp_path, [json.dumps(DNS_JSON)], "dns.json")
    assert js.dns_query == "pool.supportxmr.com" and js.extra["dns_answers"] == ["141.94.96.71"]
    assert abs(js.ts - 1764554496.5) < 1e-6


def test_conn_json_direction_by_address_when_no_local_flags(tmp_path):
    inbound = {**CONN_JSON, "id.orig_h": "203.0.113.5", "id.resp_h": "10.42.17.9"}
    transit = {**CONN_JSON, "id.orig_h": "203.0.113.5", "id.resp_h": "198.51.100.1"}
    flagged = {**CONN_JSON, "local_orig": True, "local_resp": True}
    _, items = _read(tmp_path, [json.dumps(x) for x in (CONN_JSON, inbound, transit, flagged)])
    assert [i.direction for i in items] == ["outbound", "inbound", "unknown", "internal"]
    assert items[0].bytes_out == 5120 and items[0].duration_s == 95.0


def test_malformed_lines_are_reported_and_neighbours_read(tmp_path):
    lines = CONN_TSV[:-1] + ["1764554501.0\tCshort\t10.0.0.1", CONN_TSV[-2].replace("1764554500.100000", "soon")]
    lines += [CONN_TSV[-3]]
    _, items = _read(tmp_path, lines)
    errors = [(i.line, i.message) for i in items if isinstance(i, ReadError)]
    assert [line for line, _ in errors] == [11, 12]
    assert "3 columns" in errors[0][1] and "ts" in errors[1][1]
    assert len([i for i in items if isinstance(i, Network)]) == 3
    bad_json = [json.dumps(CONN_JSON), "{\"ts\": 1, ", json.dumps({**CONN_JSON, "id.resp_h": None}), json.dumps(CONN_JSON)]
    _, items = _read(tmp_path, bad_json, "j")
    assert [(i.line, "JSON" in i.message or "resp_h" in i.message) for i in items if isinstance(i, ReadError)] == [
        (2, True), (3, True)]
    assert len([i for i in items if isinstance(i, Network)]) == 2
