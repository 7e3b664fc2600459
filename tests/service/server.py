"""Run the service on 127.0.0.1 (an ephemeral port) in a background thread, for tests and benches."""
from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import uvicorn

from vigiles.service.app import create_app
from vigiles.service.auth import create_token
from vigiles.service.config import ServiceConfig
from vigiles.service import tables

LOOPBACK = "127.0.0.1"


def make_token(db: Path, name: str, role: str) -> str:
    conn = sqlite3.connect(str(db), isolation_level=None)
    try:
        tables.ensure(conn)
        return create_token(conn, name, role)
    finally:
        conn.close()


class ThreadServer:
    def __init__(self, config: ServiceConfig, **uvicorn_options) -> None:
        self.config = config
        self.app = create_app(config)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=LOOPBACK, port=0, log_level="warning",
                                                   lifespan="on", **uvicorn_options))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ThreadServer":
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        sock = self.server.servers[0].sockets[0]
        host, self.port = sock.getsockname()[:2]
        assert host == LOOPBACK
        self.url = f"http://{LOOPBACK}:{self.port}"
        return self

    @property
    def service(self):
        return self.app.state.service

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(30)
