"""Zeek `conn.log` and `dns.log`, in Zeek's TSV form (`#separator`, `#fields`, `#types` headers) or as
JSON Lines (`LogAscii::use_json=T`). Each record becomes one `network` event.

conn: originator → `src`/`sport`, responder → `dst`/`dport`, `proto`, `duration` → `duration_s`,
`orig_bytes` → `bytes_out` (what the originator sent), `resp_bytes` → `bytes_in`; `uid`,
`conn_state`, `service`, `history` are kept (`zeek_uid`, ...). dns: the same 4-tuple, `query` →
`dns_query`, answers, qtype and rcode kept. Direction: from `local_orig`/`local_resp` when the log
has them; otherwise by address ranges (docs/events.md).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import msgspec

from ..events import Event, EventError
from .base import TOO_DEEP, ReadError, data_lines
from .sensorutil import build, clip, direction_of, to_float, to_int

NAME = "zeek"
MAX_ANSWERS = 64
MAX_FIELDS = 512

_decoder = msgspec.json.Decoder()


def _key(record: dict, name: str) -> Any:
    value = record.get(name)
    if value is None and "." in name:
        value = record.get(name.replace(".", "_"))
    return value


def sniff(head: bytes, first: object) -> bool:
    if head.startswith(b"#separator "):
        lines = head.split(b"\n", 12)[:12]
        sep = _separator(lines[0].decode("latin-1"))
        for line in lines[1:]:
            if line.startswith(b"#path"):
                return line.decode("latin-1")[5:].strip(sep + " \r") in ("conn", "dns")
        return False
    if isinstance(first, dict) and "kind" not in first:
        return ("id.orig_h" in first or "id_orig_h" in first) and "uid" in first and "ts" in first \
            and ("proto" in first or "query" in first)
    return False


def _separator(line: str) -> str:
    value = line[len("#separator "):].strip("\r\n")
    return _unescape(value) if value else "\t"


def _unescape(text: str) -> str:
    """Zeek writes non-printable bytes and separators as \\xHH."""
    if "\\x" not in text:
        return text
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("\\x", i) and i + 4 <= n:
            try:
                out.append(chr(int(text[i + 2:i + 4], 16)))
                i += 4
                continue
            except ValueError:
                pass
        out.append(text[i])
        i += 1
    return "".join(out)


def read(path: Path, name: str) -> Iterator[Event | ReadError]:
    with open(path, "rb") as stream:
        yield from read_stream(stream, name)


def read_stream(stream, name: str) -> Iterator[Event | ReadError]:
    sep, set_sep, empty, unset = "\t", ",", "(empty)", "-"
    log_path: str | None = None
    fields: list[str] | None = None
    for item in data_lines(stream, name):
        if isinstance(item, ReadError):
            yield item
            continue
        number, raw = item
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if not line.strip():
            continue
        if line.startswith("#"):
            if line.startswith("#separator "):
                sep = _separator(line)
                continue
            directive, _, value = line.partition(sep)
            if directive == "#set_separator":
                set_sep = _unescape(value) or ","
            elif directive == "#empty_field":
                empty = value
            elif directive == "#unset_field":
                unset = value
            elif directive == "#path":
                log_path = value.strip()
            elif directive == "#fields":
                fields = value.split(sep)[:MAX_FIELDS]
            continue
        if line.lstrip().startswith("{"):
            try:
                record = _decoder.decode(line)
            except msgspec.DecodeError as exc:
                yield ReadError(name, number, f"not valid JSON: {exc}")
                continue
            except RecursionError:
                yield ReadError(name, number, TOO_DEEP)
                continue
            if type(record) is not dict:
                yield ReadError(name, number, "a Zeek JSON record is an object")
                continue
            which = "dns" if ("query" in record or "qtype" in record or "rcode" in record) else "conn"
        else:
            if fields is None:
                yield ReadError(name, number, "Zeek TSV record before any '#fields' header")
                continue
            values = line.split(sep)
            if len(values) != len(fields):
                yield ReadError(name, number, f"Zeek record has {len(values)} columns, '#fields' names {len(fields)}")
                continue
            record = {}
            for key, value in zip(fields, values):
                if value == unset:
                    continue
                if value == empty:
                    record[key] = ""
                elif key in ("answers", "TTLs", "tunnel_parents"):
                    record[key] = [_unescape(v) for v in value.split(set_sep)[:MAX_ANSWERS]]
                else:
                    record[key] = _unescape(value)
            which = log_path if log_path in ("conn", "dns") else ("dns" if "query" in record else "conn")
        try:
            yield _event(record, which, name, number, raw.strip())
        except (EventError, ValueError, TypeError) as exc:
            yield ReadError(name, number, f"Zeek {which} record: {exc}")


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("T", "true"):
        return True
    if value in ("F", "false"):
        return False
    return None


def _event(record: dict, which: str, name: str, number: int, line: bytes) -> Event:
    if "ts" not in record:
        raise ValueError("no 'ts'")
    src, dst = clip(_key(record, "id.orig_h"), 64), clip(_key(record, "id.resp_h"), 64)
    if not dst:
        raise ValueError("no 'id.resp_h'")
    lo, lr = _bool(record.get("local_orig")), _bool(record.get("local_resp"))
    if lo is not None and lr is not None:
        direction = {(True, True): "internal", (True, False): "outbound", (False, True): "inbound",
                     (False, False): "unknown"}[(lo, lr)]
    else:
        direction = direction_of(src, dst)
    raw: dict[str, Any] = {
        "kind": "network", "ts": record["ts"], "host": clip(record.get("_node_name") or record.get("peer"), 256),
        "proto": clip(record.get("proto"), 16), "src": src, "sport": to_int(_key(record, "id.orig_p")),
        "dst": dst, "dport": to_int(_key(record, "id.resp_p")), "direction": direction,
        "zeek_uid": clip(record.get("uid"), 64), "zeek_log": which,
    }
    if which == "dns":
        answers = record.get("answers")
        raw.update({"dns_query": clip(record.get("query"), 1024) or None,
                    "dns_answers": [clip(a, 1024) for a in answers[:MAX_ANSWERS]] if isinstance(answers, list) else None,
                    "dns_qtype": clip(record.get("qtype_name"), 32), "dns_rcode": clip(record.get("rcode_name"), 32)})
    else:
        raw.update({"duration_s": to_float(record.get("duration")), "bytes_out": to_int(record.get("orig_bytes")),
                    "bytes_in": to_int(record.get("resp_bytes")), "conn_state": clip(record.get("conn_state"), 16),
                    "service": clip(record.get("service"), 128), "history": clip(record.get("history"), 64)})
    return build(raw, name, number, line)
