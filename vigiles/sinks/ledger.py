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


class ServiceLedger:
    """The service's ledger: what the analysis thread stores is also appended to the log, and the
    dashboard and incidents API read its state and per-incident inclusion proofs from here.

    Implements `vigiles.service.ledger_hook.LedgerHook` (state, evidence_bundle) plus `record`, which
    the service's analysis thread calls after each batch it stores.
    """

    def __init__(self, path: str | Path, store_path: str | Path) -> None:
        import threading

        from .store import Store
        self.path = Path(path)
        self.store = Store(store_path)
        self.sink = LedgerSink.open(path, self.store)
        self.lock = threading.Lock()
        self._verified: tuple[int, bool, str] | None = None

    def record(self, events=(), findings=(), incidents=(), decisions=()) -> None:
        with self.lock:
            self.sink.add_events(list(events))
            self.sink.add_findings(list(findings))
            if incidents:
                self.sink.add_incidents(list(incidents))
            for decision in decisions:
                self.sink.add_record("guard_decision", decision, decision.get("id", ""))

    def state(self) -> dict[str, Any]:
        from ..ledger import verify_log
        with self.lock:
            self.sink.log.maybe_checkpoint()
            info = self.sink.log.checkpoint_info
        import base64
        size = info.size
        if self._verified is None or self._verified[0] != size:
            report = verify_log(self.path, self.sink.log.vkey)
            detail = "every entry, tile and checkpoint verified" if report.ok else "; ".join(report.problems[:3])
            self._verified = (size, report.ok, detail)
        return {"latest_checkpoint": {"size": size, "root": base64.b64encode(info.root).decode(),
                                      "origin": info.origin},
                "verified": self._verified[1], "detail": self._verified[2], "vkey": self.sink.log.vkey}

    def evidence_bundle(self, incident: dict, findings: list[dict], events: list[dict]) -> dict[str, Any] | None:
        refs = [("finding", f["id"]) for f in findings] + [("event", e["id"]) for e in events if "id" in e]
        with self.lock:
            self.sink.log.checkpoint()
            entries, missing = [], []
            for kind, ident in refs:
                index = self.store.ledger_ref(kind, ident)
                if index is None:
                    missing.append(f"{kind} {ident}")
                    continue
                entries.append({"kind": kind, "id": ident, "index": index,
                                "proof": self.sink.log.tlog_proof(index).decode()})
            checkpoint = self.sink.log.latest_checkpoint().decode()
        return {"checkpoint": checkpoint, "vkey": self.sink.log.vkey, "entries": entries, "missing": missing,
                "offline": f"vigiles export bundle {incident.get('id')} -o DIR --ledger {self.path}"}

    def close(self) -> None:
        with self.lock:
            self.sink.close()
            self.store.close()
