"""create_app(): the FastAPI application (API, metrics, dashboard, optional ROCK gateway) over one Service."""
from __future__ import annotations

import contextlib
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from .. import __version__
from .config import ServiceConfig
from .runtime import Service
from .security import SecurityHeaders

log = logging.getLogger("vigiles.service")

DESCRIPTION = """An independent watcher for AI agents, as a service.

- `POST /v1/events`: batches of events (JSON array or JSON Lines), durable before `202`
- `POST /v1/guard`: may this action run? `allow`, `deny` or `review`
- `GET /v1/incidents`, `/v1/incidents/{id}`, `/v1/findings`, `/v1/decisions`, `/v1/compute`
- `GET /metrics` (Prometheus), `GET /healthz`

Authenticate with `Authorization: Bearer <token>`; tokens come from `vigiles tokens add NAME --role ROLE`
(`ingest`: write and read; `viewer`: read only).
"""


def create_app(config: ServiceConfig, service: Service | None = None) -> FastAPI:
    service = service or Service(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        gateway = getattr(app.state, "gateway", None)
        try:
            yield
        finally:
            if gateway is not None:
                await gateway.aclose()
            service.close()

    app = FastAPI(title="vigiles", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.service = service
    app.state.inflight = 0

    from . import api, dashboard
    app.include_router(api.router)
    app.include_router(dashboard.router)
    if config.rock_upstream:
        from .gateway import RockGateway
        gateway = RockGateway(service, config.rock_upstream)
        app.state.gateway = gateway
        app.include_router(gateway.router())

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")} for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)

    app.add_middleware(SecurityHeaders, metrics=service.metrics)
    return app
