"""Helpers the sensor and log adapters share (falco, tetragon, auditd, zeek, flowlogs).

Everything here is bounded: strings are cut, argument lists capped, addresses parsed by the
standard library (no regular expressions over untrusted text beyond linear-time `re2`).
"""
from __future__ import annotations

import ipaddress
import shlex
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import msgspec

from ..events import Event, EventError, Location, from_dict
from .base import TOO_DEEP, ReadError, data_lines

MAX_ARGS = 4096
"""Most arguments kept for one process; the rest are dropped (and `argv_truncated` is set)."""
MAX_TEXT = 64 * 1024
"""Longest single string kept from a sensor record."""

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ash", "ksh", "mksh", "busybox"})

_LOCAL = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "0.0.0.0/8",
    "::1/128", "fc00::/7", "fe80::/10", "::/128"))
"""Site-local ranges (RFC 1918, CGNAT, loopback, link-local, ULA). Documentation ranges count as public."""
_decoder = msgspec.json.Decoder()


class Skip(Exception):
    """A record that is understood but deliberately not turned into an event."""


def clip(value: Any, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[:limit]


def to_int(value: Any) -> int | None:
    """An integer from an int or a decimal string; None for anything else (no exceptions)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if 0 < len(text) <= 20 and (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
            return int(text)
    return None


def to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and 0 < len(value) <= 40:
        try:
            return float(value)
        except ValueError:
            return None
    return None


def ip_of(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    try:
        return ipaddress.ip_address(value.split("%", 1)[0])
    except ValueError:
        return None


def is_local(value: Any) -> bool | None:
    """Whether an address is private to a site (RFC 1918, ULA, loopback, link-local, CGNAT); None if not an IP."""
    ip = ip_of(value)
    if ip is None:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in net for net in _LOCAL if net.version == ip.version)


def direction_of(src: Any, dst: Any) -> str:
    """Direction by address ranges: local→public outbound, public→local inbound, local→local internal."""
    s, d = is_local(src), is_local(dst)
    if s is None or d is None:
        return "unknown"
    if s and d:
        return "internal"
    if s:
        return "outbound"
    if d:
        return "inbound"
    return "unknown"


def split_args(text: str) -> list[str]:
    """Split a command line as a shell would (`shlex`), falling back to whitespace on a quoting error."""
    text = text[:MAX_TEXT]
    try:
        parts = shlex.split(text)
    except ValueError:
        parts = text.split()
    return parts[:MAX_ARGS]


def split_flat_cmdline(text: str) -> list[str]:
    """Split a command line that a sensor flattened with spaces and no quoting (Falco's proc.cmdline).

    Whitespace split, except that a shell's `-c` script is kept as the one argument it was, so that
    `bash -c curl x | sh` reads as the script `curl x | sh`.
    """
    text = text[:MAX_TEXT]
    parts = text.split()
    if parts and parts[0].rsplit("/", 1)[-1] in SHELLS:
        for i, part in enumerate(parts[1:4], start=1):
            if part.startswith("-") and not part.startswith("--") and "c" in part[1:]:
                rest = text.split(None, i + 1)
                if len(rest) == i + 2:
                    return parts[: i + 1] + [rest[-1]]
                break
    return parts[:MAX_ARGS]


def build(raw: dict, name: str, number: int, digest_of: bytes) -> Event:
    """The door into the model for every adapter: drop None values, then `from_dict`."""
    return from_dict({k: v for k, v in raw.items() if v is not None}, Location(name, number), digest_of=digest_of)


def json_lines(path: Path, name: str, convert: Callable[[dict, str, int, bytes], Iterable[Event]],
               what: str) -> Iterator[Event | ReadError]:
    """Read JSON Lines, calling `convert(obj, name, line, raw)` for each object; errors per line."""
    with open(path, "rb") as stream:
        for item in data_lines(stream, name):
            if isinstance(item, ReadError):
                yield item
                continue
            number, line = item
            line = line.strip()
            if not line:
                continue
            try:
                obj = _decoder.decode(line)
            except msgspec.DecodeError as exc:
                yield ReadError(name, number, f"not valid JSON: {exc}")
                continue
            except UnicodeDecodeError:
                yield ReadError(name, number, "not valid JSON: invalid UTF-8")
                continue
            except RecursionError:
                yield ReadError(name, number, TOO_DEEP)
                continue
            if type(obj) is not dict:
                yield ReadError(name, number, f"a {what} record is a JSON object, not {type(obj).__name__}")
                continue
            try:
                yield from convert(obj, name, number, line)
            except Skip:
                continue
            except (EventError, ValueError, TypeError, KeyError, AttributeError) as exc:
                yield ReadError(name, number, f"{what}: {exc}")
