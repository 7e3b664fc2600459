"""vigiles serve --ledger: what the service stores is also in the transparency log; the dashboard shows
the log's state and the incidents API gives each record's inclusion proof."""
import time

import pytest

httpx = pytest.importorskip("httpx")

from vigiles.ledger import Log, verify_log  # noqa: E402
from vigiles.service.config import ServiceConfig  # noqa: E402
from vigiles.sinks.ledger import ServiceLedger  # noqa: E402

from .conftest import SCENARIO  # noqa: E402
from .server import ThreadServer, make_token  # noqa: E402


def test_service_writes_the_ledger_and_serves_proofs(tmp_path):
    db, ledger_dir = tmp_path / "v.db", tmp_path / "ledger"
    Log.init(ledger_dir, "test.example/service").close()
    token = make_token(db, "sensor", "ingest")
    viewer = make_token(db, "oncall", "viewer")
    hook = ServiceLedger(ledger_dir, db)
    with ThreadServer(ServiceConfig(db=db, ledger=hook)) as server:
        ingest = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        read = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {viewer}"}, timeout=30)
        assert ingest.post("/v1/events", json=SCENARIO).status_code == 202
        deadline = time.time() + 30
        incidents = []
        while time.time() < deadline and not incidents:
            incidents = read.get("/v1/incidents").json()
            time.sleep(0.2)
        assert incidents
        detail = read.get(f"/v1/incidents/{incidents[0]['id']}").json()
        evidence = detail["evidence"]
        assert evidence["vkey"].startswith("test.example/service+")
        kinds = {e["kind"] for e in evidence["entries"]}
        assert kinds == {"finding", "event"} and evidence["missing"] == []
        assert all(e["proof"].startswith("c2sp.org/tlog-proof@v1") for e in evidence["entries"])
        ingest.close()
        read.close()
        from vigiles.service.ledger_hook import panel
        state = panel(hook)  # what the dashboard's ledger panel shows
    hook.close()
    assert state["configured"] and state["verified"] is True and state["latest_checkpoint"]["size"] >= len(SCENARIO)
    assert verify_log(ledger_dir).ok
