"""The ledger as a sink: every ingested event, finding, incident state change and response goes
into the signed transparency log, and the store remembers where (kind, id → log index), so an
incident can later be exported as an offline-verifiable bundle."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from ..ledger import LedgerError, Log


class LedgerSink:
    def __init__(self, log: Log, store=None) -> None:
        self.log = log
        self.store = store
        self.refs: list[tuple[str, str, int]] = []

    @classmethod
    def open(cls, path: str | Path, store=None) -> "LedgerSink":
        try:
            return cls(Log.open(path), store)
        except LedgerError as exc:
            raise ValueError(f"{exc} (create one with `vigiles ledger init {path} --origin ORIGIN`)") from None

    def _append(self, items: list[tuple[str, str, dict]]) -> list[int]:
        if not items:
            return []
        indices = self.log.append_records([(kind, record) for kind, _, record in items])
        refs = [(kind, ident, index) for (kind, ident, _), index in zip(items, indices)]
        self.refs.extend(refs)
        if self.store is not None:
            self.store.add_ledger_refs(refs)
        return indices

    def add_events(self, events: Iterable[Any]) -> list[int]:
        return self._append([("event", e.id, e.to_dict()) for e in events])

    def add_findings(self, findings: Iterable[Any]) -> list[int]:
        return self._append([("finding", f.id, f.to_dict()) for f in findings])

    def add_incidents(self, incidents: Iterable[Any], state: str = "open") -> list[int]:
        return self._append([("incident", i.id, {**i.to_dict(), "state": state}) for i in incidents])

    def add_response(self, record: dict) -> int:
        return self._append([("response", f"{record.get('finding')}:{record.get('action')}", record)])[0]

    def add_record(self, kind: str, record: dict, ident: str = "") -> int:
        return self._append([(kind, ident or kind, record)])[0]

    def ref(self, kind: str, ident: str) -> int | None:
        for k, i, index in reversed(self.refs):
            if k == kind and i == ident:
                return index
        return None

    def checkpoint(self) -> bytes:
        return self.log.checkpoint()

    def close(self) -> None:
        self.log.checkpoint()
        self.log.close()

    def __enter__(self) -> "LedgerSink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
