"""A guarding gateway in front of a ROCK sandbox's rocklet action API (github.com/alibaba/ROCK).

Mounted at `/rock/...` when `vigiles serve --rock-upstream URL` is given. Each action request is
turned into a proposed `action`, guarded, and only then forwarded (real HTTP, httpx) to
`URL/<path>`; a denied one is answered `403` with the reason and never reaches the sandbox. The
request and the upstream response become events in the store (durable before forwarding, for the
request). Request shapes, from ROCK's rocklet models:

| path | body | read as |
|---|---|---|
| `POST /run_in_session` | `{"command", "session", "timeout", "check", "sandbox_id", ...}` (BashAction) | `run_in_session` shell command |
| `POST /execute` | `{"command": str or [argv], "cwd", "env", "timeout", "shell", "sandbox_id"}` (Command) | `execute` shell command |
| `POST /write_file` | `{"path", "content", "sandbox_id"}` | `write_file` (content read as the script it is) |
| `POST /upload` | multipart: `file`, `target_path`, `unzip` | `upload` (text content read like write_file) |
| `POST /read_file` | `{"path", "sandbox_id"}` | `read_file` |
| `GET /is_alive`, `POST /create_session`, `POST /close_session` | | forwarded, not guarded |

Context: `sandbox_id` from the body, else header `X-Vigiles-Sandbox`; `X-Vigiles-Run`,
`X-Vigiles-Episode`, `X-Vigiles-Step` give the rest. A `review` decision is refused (`403`) unless
the gateway was made with `on_review="allow"`: nobody stands at a proxy to review.
"""
from __future__ import annotations

import email.parser
import email.policy
import shlex
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from ..events import EventError, from_dict
from .auth import Principal
from .security import writer

GUARDED = {"run_in_session", "execute", "write_file", "upload", "read_file"}
PASSTHROUGH = {"is_alive", "create_session", "close_session"}
MAX_BODY = 64 * 1024 * 1024
MAX_TEXT = 1024 * 1024
MAX_OUTPUT = 64 * 1024
_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization",
        "proxy-authenticate", "host", "content-length", "authorization"}


class GatewayError(Exception):
    pass


def proposal_for(path: str, body: bytes, content_type: str, headers) -> dict[str, Any]:
    """The proposed action a rocklet request stands for."""
    context: dict[str, Any] = {}
    if path == "upload":
        fields = _multipart(body, content_type)
        target = fields.get("target_path")
        if not isinstance(target, str) or not target:
            raise GatewayError("upload needs a target_path field")
        data = fields.get("file")
        args: dict[str, Any] = {"path": target, "unzip": str(fields.get("unzip", "false")).lower() in ("true", "1")}
        if isinstance(data, bytes):
            args["size"] = len(data)
            if len(data) <= MAX_TEXT:
                try:
                    args["content"] = data.decode("utf-8")
                except UnicodeDecodeError:
                    pass
        proposal: dict[str, Any] = {"tool": "upload", "args": args}
    else:
        import json
        try:
            doc = json.loads(body or b"{}")
        except (ValueError, RecursionError):
            raise GatewayError("body is not JSON") from None
        if not isinstance(doc, dict):
            raise GatewayError("body must be a JSON object")
        context["sandbox"] = doc.get("sandbox_id") if isinstance(doc.get("sandbox_id"), str) else None
        if path in ("run_in_session", "execute"):
            command = doc.get("command")
            if isinstance(command, list) and all(isinstance(c, str) for c in command):
                command = shlex.join(command)
            if not isinstance(command, str):
                raise GatewayError("'command' must be a string or a list of strings")
            proposal = {"tool": path, "input": command, "language": "shell"}
            extra = {k: doc[k] for k in ("session", "cwd") if isinstance(doc.get(k), str)}
            if isinstance(doc.get("env"), dict):
                extra["env_keys"] = sorted(str(k) for k in doc["env"])  # values may be secrets: keys only
            if extra:
                proposal["extra"] = extra
        elif path == "write_file":
            if not isinstance(doc.get("path"), str) or not isinstance(doc.get("content"), str):
                raise GatewayError("write_file needs 'path' and 'content' strings")
            proposal = {"tool": "write_file", "args": {"path": doc["path"], "content": doc["content"]}}
        else:  # read_file
            if not isinstance(doc.get("path"), str):
                raise GatewayError("read_file needs a 'path' string")
            proposal = {"tool": "read_file", "args": {"path": doc["path"]}}
    context["sandbox"] = context.get("sandbox") or headers.get("x-vigiles-sandbox")
    context["run"] = headers.get("x-vigiles-run")
    context["episode"] = headers.get("x-vigiles-episode")
    step = headers.get("x-vigiles-step")
    if step is not None and step.isdigit() and len(step) < 12:
        context["step"] = int(step)
    proposal.update({k: v for k, v in context.items() if v is not None})
    return proposal


def _multipart(body: bytes, content_type: str) -> dict[str, Any]:
    if not content_type.lower().startswith("multipart/form-data"):
        raise GatewayError("upload must be multipart/form-data")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n" + body)
    if not message.is_multipart():
        raise GatewayError("upload body is not multipart")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        fields[name] = payload if name == "file" else payload.decode("utf-8", "replace")
    return fields


class RockGateway:
    def __init__(self, service, upstream: str, on_review: str = "deny", timeout: float | None = None) -> None:
        import httpx
        if on_review not in ("deny", "allow"):
            raise ValueError("on_review is 'deny' or 'allow'")
        self.service = service
        self.upstream = upstream.rstrip("/")
        self.on_review = on_review
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=10.0))

    async def aclose(self) -> None:
        await self.client.aclose()

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/rock", tags=["gateway"])

        @router.api_route("/{path}", methods=["GET", "POST"], include_in_schema=False)
        async def proxy(path: str, request: Request, principal: Principal = Depends(writer)):
            return await self.handle(path, request, principal)
        return router

    async def handle(self, path: str, request: Request, principal: Principal) -> Response:
        if path not in GUARDED and path not in PASSTHROUGH:
            return JSONResponse({"detail": f"/{path} is not forwarded by the gateway"}, status_code=404)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return JSONResponse({"detail": "body too large"}, status_code=413)
        content_type = request.headers.get("content-type", "")
        request_event = None
        if path in GUARDED:
            try:
                proposal = proposal_for(path, body, content_type, request.headers)
                decision = self.service.guard.decide(proposal)
            except (GatewayError, EventError) as exc:
                return JSONResponse({"detail": str(exc)}, status_code=422)
            self.service.metrics.guard_decisions.inc(1, decision.decision)
            self.service.metrics.guard_latency.observe(decision.latency_ms / 1000)
            self.service.record_decision(decision, principal.name)
            raw = {**decision.event, "gateway": {"path": f"/{path}", "decision": decision.decision,
                                                 "decision_id": decision.id, "client": principal.name}}
            if isinstance(proposal.get("extra"), dict):
                raw["gateway"]["request"] = proposal["extra"]
            request_event = from_dict(raw)
            await self._record([request_event])
            blocked = decision.decision == "deny" or (decision.decision == "review" and self.on_review == "deny")
            if blocked:
                return JSONResponse({"detail": f"blocked by vigiles: {decision.reason}", "decision": decision.decision,
                                     "decision_id": decision.id, "findings": [f["rule"] for f in decision.findings]},
                                    status_code=403)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP and not k.lower().startswith("x-vigiles-")}
        import httpx
        try:
            upstream = await self.client.request(request.method, f"{self.upstream}/{path}", content=body,
                                                 headers=headers, params=request.query_params)
        except httpx.HTTPError as exc:
            return JSONResponse({"detail": f"upstream unreachable: {type(exc).__name__}"}, status_code=502)
        if request_event is not None:
            await self._record([self._response_event(request_event, path, upstream)])
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP and k.lower() != "content-encoding"}
        return Response(upstream.content, status_code=upstream.status_code, headers=out_headers)

    def _response_event(self, request_event, path: str, upstream) -> Any:
        output, exit_code = None, None
        try:
            doc = upstream.json()
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            parts = [doc.get(k) for k in ("output", "stdout", "stderr") if isinstance(doc.get(k), str)]
            output = "\n".join(parts) if parts else None
            if isinstance(doc.get("exit_code"), int):
                exit_code = doc["exit_code"]
        elif upstream.content:
            output = upstream.content[:MAX_OUTPUT].decode("utf-8", "replace")
        raw = {"kind": "action", "ts": time.time(), "tool": "rock_response", "sandbox": request_event.sandbox,
               "run": request_event.run, "episode": request_event.episode, "step": request_event.step,
               "args": {"request": request_event.id, "path": f"/{path}", "status": upstream.status_code},
               "output": output[:MAX_OUTPUT] if output else None, "exit_code": exit_code}
        return from_dict({k: v for k, v in raw.items() if v is not None})

    async def _record(self, events: list) -> None:
        from anyio import to_thread
        stored, _, _ = await to_thread.run_sync(self.service.store_events, events)
        self.service.metrics.events_ingested.inc(len(stored))
