"""`network`: a connection or flow."""
from __future__ import annotations

from dataclasses import dataclass

from .base import Event, EventError, opt_float, opt_int, opt_str

DIRECTIONS = frozenset({"outbound", "inbound", "internal", "unknown"})


@dataclass(slots=True)
class Network(Event):
    proto: str | None = None
    src: str | None = None
    sport: int | None = None
    dst: str | None = None
    dport: int | None = None
    direction: str | None = None
    bytes_out: int | None = None
    bytes_in: int | None = None
    duration_s: float | None = None
    dns_query: str | None = None


def build(common: dict, raw: dict) -> Network:
    direction = opt_str(raw, "direction")
    if direction is not None and direction not in DIRECTIONS:
        raise EventError(f"direction must be one of {sorted(DIRECTIONS)}")
    event = Network(**common, proto=opt_str(raw, "proto"), src=opt_str(raw, "src"),
                    sport=opt_int(raw, "sport"), dst=opt_str(raw, "dst"), dport=opt_int(raw, "dport"),
                    direction=direction, bytes_out=opt_int(raw, "bytes_out"),
                    bytes_in=opt_int(raw, "bytes_in"), duration_s=opt_float(raw, "duration_s"),
                    dns_query=opt_str(raw, "dns_query"))
    if event.dst is None and event.dns_query is None:
        raise EventError("network needs 'dst' or 'dns_query'")
    return event


FIELDS = ("proto", "src", "sport", "dst", "dport", "direction", "bytes_out", "bytes_in",
          "duration_s", "dns_query")
