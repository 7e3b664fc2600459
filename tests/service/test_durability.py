"""kill -9 during ingest loses no acknowledged event."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from .server import make_token

pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sigkill_mid_stream_keeps_every_acknowledged_event(tmp_path):
    db = tmp_path / "v.db"
    token = make_token(db, "sensor", "ingest")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vigiles.cli.service", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--db", str(db), "--log-level", "warning"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("server did not start: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.1)
        acked: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def sender(worker: int) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            n = 0
            while not stop.is_set():
                ids = [f"ev-w{worker}-b{n}-{i}" for i in range(200)]
                batch = [{"kind": "process", "id": ident, "ts": 1764554497 + n, "host": "h", "pid": 1000 + i,
                          "argv": ["python", "train.py", str(i)]} for i, ident in enumerate(ids)]
                try:
                    conn.request("POST", "/v1/events", body=json.dumps(batch),
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
                    response = conn.getresponse()
                except (OSError, http.client.HTTPException):
                    return  # killed before it answered: not acknowledged
                try:
                    response.read()
                    cut = False
                except (OSError, http.client.HTTPException):
                    cut = True  # killed while the body was sent: the status line had already acknowledged it
                if response.status == 202:
                    with lock:
                        acked.extend(ids)
                if cut:
                    return
                n += 1

        threads = [threading.Thread(target=sender, args=(w,)) for w in range(3)]
        for t in threads:
            t.start()
        while True:
            with lock:
                if len(acked) >= 6000:
                    break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # mid-stream: requests are in flight
        proc.wait(10)
        stop.set()
        for t in threads:
            t.join(15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(str(db))
    stored = {row[0] for row in conn.execute("SELECT id FROM events")}
    conn.close()
    missing = [i for i in acked if i not in stored]
    assert not missing, f"{len(missing)} acknowledged events lost, e.g. {missing[:3]}"
    assert len(acked) >= 6000
