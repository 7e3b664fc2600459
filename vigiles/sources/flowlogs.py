"""AWS VPC flow logs: space-separated records, the default format (version 2) or a custom one.

A file that starts with a header line naming the fields (as S3 delivery writes it) is read with
those fields; a file without one must be in the default format:
`version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status`.
Each record becomes one `network` event: `srcaddr`/`srcport` → `src`/`sport`, `dstaddr`/`dstport` →
`dst`/`dport`, protocol number → name, `bytes` → `bytes_out` (a flow record counts one direction),
`start` → `ts`, `end - start` → `duration_s`; `action` (ACCEPT/REJECT), `packets`, `interface-id`,
`account-id` are kept. Direction from `flow-direction` (v5) when present, else by address ranges.
NODATA and SKIPDATA records carry no flow: they are skipped and counted (`SKIPPED`), not errors.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from ..events import Event, EventError
from .base import ReadError, data_lines
from .sensorutil import build, clip, direction_of, to_int

NAME = "flowlogs"

DEFAULT = ("version", "account-id", "interface-id", "srcaddr", "dstaddr", "srcport", "dstport", "protocol",
           "packets", "bytes", "start", "end", "action", "log-status")
KNOWN = frozenset(DEFAULT) | {
    "vpc-id", "subnet-id", "instance-id", "tcp-flags", "type", "pkt-srcaddr", "pkt-dstaddr", "region", "az-id",
    "sublocation-type", "sublocation-id", "pkt-src-aws-service", "pkt-dst-aws-service", "flow-direction",
    "traffic-path", "ecs-cluster-arn", "ecs-cluster-name", "ecs-container-instance-arn", "ecs-container-instance-id",
    "ecs-container-id", "ecs-second-container-id", "ecs-service-name", "ecs-task-definition-arn", "ecs-task-arn",
    "ecs-task-id", "reject-reason", "resource-id", "encryption-status"}
PROTOCOLS = {"1": "icmp", "6": "tcp", "17": "udp", "58": "icmpv6", "47": "gre", "50": "esp", "51": "ah", "132": "sctp"}
STATUSES = frozenset({"OK", "NODATA", "SKIPDATA"})
MAX_COLUMNS = 64

SKIPPED: Counter = Counter()
"""NODATA / SKIPDATA records skipped, over every file read in this process."""


def _is_header(tokens: list[bytes] | list[str]) -> bool:
    names = [t.decode("latin-1") if isinstance(t, bytes) else t for t in tokens]
    return 2 <= len(names) <= MAX_COLUMNS and "srcaddr" in names and "dstaddr" in names \
        and all(n in KNOWN for n in names)


def _is_default(tokens: list[bytes]) -> bool:
    return (len(tokens) == len(DEFAULT) and tokens[0].isdigit() and tokens[13] in (b"OK", b"NODATA", b"SKIPDATA")
            and tokens[12] in (b"ACCEPT", b"REJECT", b"-") and tokens[10].isdigit() and tokens[11].isdigit())


def sniff(head: bytes) -> bool:
    line = head.split(b"\n", 1)[0].strip()
    if not line or line[:1] in (b"{", b"[", b"#"):
        return False
    tokens = line.split()
    return _is_header(tokens) or _is_default(tokens)


def read(path: Path, name: str, counts: Counter | None = None) -> Iterator[Event | ReadError]:
    with open(path, "rb") as stream:
        yield from read_stream(stream, name, counts)


def read_stream(stream, name: str, counts: Counter | None = None) -> Iterator[Event | ReadError]:
    """Events and errors; NODATA/SKIPDATA records are counted in `counts` (and `SKIPPED`) by status."""
    columns: tuple[str, ...] | None = None
    for item in data_lines(stream, name):
        if isinstance(item, ReadError):
            yield item
            continue
        number, raw = item
        tokens = raw.decode("utf-8", "replace").split()
        if not tokens:
            continue
        if columns is None:
            columns = tuple(tokens) if _is_header(tokens) else DEFAULT
            if columns is not DEFAULT:
                continue
        elif tokens[0] == columns[0] and _is_header(tokens):
            continue  # a header repeated (files concatenated)
        if len(tokens) != len(columns):
            yield ReadError(name, number, f"flow log record has {len(tokens)} fields, the format names {len(columns)}")
            continue
        record = dict(zip(columns, tokens))
        status = record.get("log-status")
        if status in ("NODATA", "SKIPDATA"):
            SKIPPED[status] += 1
            if counts is not None:
                counts[status] += 1
            continue
        try:
            yield _event(record, name, number, raw.strip())
        except (EventError, ValueError) as exc:
            yield ReadError(name, number, f"flow log record: {exc}")


def _v(record: dict, key: str) -> str | None:
    value = record.get(key)
    return None if value in (None, "-") else value


def _event(record: dict[str, str], name: str, number: int, line: bytes) -> Event:
    start = to_int(_v(record, "start"))
    if start is None:
        raise ValueError("'start' is not epoch seconds")
    dst = clip(_v(record, "dstaddr"), 64)
    if dst is None:
        raise ValueError("no 'dstaddr'")
    src = clip(_v(record, "srcaddr"), 64)
    end = to_int(_v(record, "end"))
    flow = _v(record, "flow-direction")
    direction = {"egress": "outbound", "ingress": "inbound"}.get(flow or "") or direction_of(src, dst)
    if direction in ("outbound", "inbound") and direction_of(src, dst) == "internal":
        direction = "internal"
    protocol = _v(record, "protocol")
    for key in ("srcport", "dstport", "packets", "bytes"):
        if _v(record, key) is not None and to_int(record[key]) is None:
            raise ValueError(f"{key!r} is not a number: {record[key][:20]!r}")
    raw: dict[str, Any] = {
        "kind": "network", "ts": start, "host": clip(_v(record, "instance-id"), 128),
        "proto": PROTOCOLS.get(protocol or "", protocol), "src": src, "sport": to_int(_v(record, "srcport")),
        "dst": dst, "dport": to_int(_v(record, "dstport")), "direction": direction,
        "bytes_out": to_int(_v(record, "bytes")),
        "duration_s": float(end - start) if end is not None and end >= start else None,
        "action": _v(record, "action"), "packets": to_int(_v(record, "packets")),
        "interface_id": clip(_v(record, "interface-id"), 64), "account_id": clip(_v(record, "account-id"), 32),
        "vpc_id": clip(_v(record, "vpc-id"), 64), "flow_direction": flow, "tcp_flags": to_int(_v(record, "tcp-flags")),
        "pkt_srcaddr": clip(_v(record, "pkt-srcaddr"), 64), "pkt_dstaddr": clip(_v(record, "pkt-dstaddr"), 64),
    }
    return build(raw, name, number, line)
