"""`network`: a connection or flow."""
from __future__ import annotations

from typing import ClassVar

from .base import Event, EventError

DIRECTIONS = frozenset({"outbound", "inbound", "internal", "unknown"})


class Network(Event, tag="network", kw_only=True):
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

    kind: ClassVar[str] = "network"

    def check(self) -> None:
        if self.direction is not None and self.direction not in DIRECTIONS:
            raise EventError(f"direction must be one of {sorted(DIRECTIONS)}")
        if self.dst is None and self.dns_query is None:
            raise EventError("network needs 'dst' or 'dns_query'")
