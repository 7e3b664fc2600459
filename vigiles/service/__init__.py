"""The vigiles service: ingest API, pre-execution guard, sandbox gateway and incident dashboard.

Small modules, each with one job:

- `config`     ServiceConfig: where the store is, which rules run, the guard policy, the limits
- `tables`     the service's own SQLite tables (tokens, guard decisions) beside the store's
- `auth`       per-client bearer tokens, stored salted and hashed, two roles (`ingest`, `viewer`)
- `guard`      Guard: a proposed action in, allow / deny / review out, with the findings and rules
- `worker`     the analysis thread: events → findings → attribution → incidents, in arrival order
- `ingest`     POST /v1/events: JSON array or JSON Lines, idempotent, durable before 202
- `api`        POST /v1/guard, GET /v1/incidents, /v1/findings, /healthz
- `metrics`    GET /metrics in the Prometheus text format
- `dashboard`  the HTML pages (Jinja2, autoescaped, strict CSP, no scripts)
- `gateway`    a guarding reverse proxy in front of a ROCK rocklet's action API
- `app`        create_app(): the FastAPI application that puts them together
- `client`     Client(url, token): send_events, guard, incidents
- `approver`   an approver for Inspect AI's tool-approval hook (inspect_ai is imported lazily)

Only `client`, `guard` and `approver` work without FastAPI installed (`pip install vigiles[service]`).
"""
