"""Authentication dependencies and the headers every response carries."""
from __future__ import annotations

import time

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .auth import Principal

COOKIE = "vigiles_session"
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]

_bearer = HTTPBearer(auto_error=False, description="a token from `vigiles tokens add NAME --role ingest|viewer`")


def _principal(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    service = request.app.state.service
    token = credentials.credentials if credentials is not None else None
    principal = service.tokens.verify(token)
    if principal is None:
        raise HTTPException(401, "missing or invalid bearer token", headers={"WWW-Authenticate": "Bearer"})
    return principal


async def reader(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    """Any valid token (viewer or ingest)."""
    return _principal(request, credentials)


async def writer(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    """A token with the `ingest` role."""
    principal = _principal(request, credentials)
    if not principal.may_write():
        raise HTTPException(403, "this token's role may not write (needs role 'ingest')")
    return principal


def cookie_principal(request: Request) -> Principal | None:
    return request.app.state.service.tokens.verify(request.cookies.get(COOKIE))


def _endpoint(path: str) -> str:
    for prefix, name in (("/v1/events", "events"), ("/v1/guard", "guard"), ("/v1/incidents", "incidents"),
                         ("/v1/findings", "findings"), ("/v1/", "api_other"), ("/metrics", "metrics"),
                         ("/healthz", "healthz"), ("/rock/", "gateway"), ("/static/", "static")):
        if path.startswith(prefix):
            return name
    return "dashboard"


class SecurityHeaders:
    """Pure ASGI middleware: security headers on every response, and the latency histogram."""

    def __init__(self, app, metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        path = scope.get("path", "")
        static = path.startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for key, value in HEADERS:
                    if key not in present:
                        headers.append((key, value))
                if not static and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                self.metrics.latency.observe(time.perf_counter() - started, _endpoint(path))
            await send(message)

        await self.app(scope, receive, send_with_headers)
