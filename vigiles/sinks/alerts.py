"""Real-time alerts: JSON lines, webhooks (generic JSON or Slack), syslog (RFC 5424), OCSF.

Each sink has its own worker thread and a bounded queue: `Dispatcher.publish` never blocks, a
slow or dead sink only fills its own queue, and what cannot be queued is dropped and counted.
Deliveries are retried with exponential backoff; every outcome can be recorded in the store.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import IO, Any, Protocol

from ..analysis.findings import Finding
from ..analysis.rules import SEVERITY_RANK

log = logging.getLogger("vigiles.alerts")

OCSF_VERSION = "1.3.0"
_OCSF_SEVERITY = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
_SYSLOG_SEVERITY = {"info": 6, "low": 5, "medium": 4, "high": 3, "critical": 2}


def alert_document(finding: Finding) -> dict[str, Any]:
    doc = finding.to_dict()
    doc["alert"] = SEVERITY_RANK[finding.severity] >= SEVERITY_RANK["medium"]
    return doc


def ocsf_detection_finding(finding: Finding) -> dict[str, Any]:
    """The finding as an OCSF Detection Finding (class 2004, activity Create)."""
    evidence = finding.evidence or {}
    return {
        "class_uid": 2004, "class_name": "Detection Finding", "category_uid": 2, "category_name": "Findings",
        "activity_id": 1, "activity_name": "Create", "type_uid": 200401, "type_name": "Detection Finding: Create",
        "time": int(finding.ts * 1000), "severity_id": _OCSF_SEVERITY[finding.severity],
        "severity": finding.severity.capitalize() if finding.severity != "info" else "Informational",
        "status_id": 1, "status": "New", "is_alert": SEVERITY_RANK[finding.severity] >= SEVERITY_RANK["medium"],
        "message": finding.title,
        "metadata": {"version": OCSF_VERSION, "product": {"name": "vigiles", "vendor_name": "vigiles"},
                     "uid": finding.id},
        "finding_info": {
            "uid": finding.id, "title": finding.title, "desc": finding.description,
            "types": [finding.category],
            "analytic": {"uid": finding.rule, "name": finding.rule, "type_id": 1, "type": "Rule"},
            "attacks": [{"technique": {"uid": t}, "version": "16"} for t in finding.attack],
            "related_events": [{"uid": e} for e in finding.event_ids],
        },
        "device": {"hostname": finding.host} if finding.host else None,
        "unmapped": {"sandbox": finding.sandbox, "run": finding.run, "episode": finding.episode, "step": finding.step,
                     "command": evidence.get("command"), "source": evidence.get("source"), "via": evidence.get("via")},
    }


class Sink(Protocol):
    name: str

    def send(self, finding: Finding) -> None:
        """Deliver one alert; raise on failure so the dispatcher retries."""


class JsonLinesSink:
    name = "stdout"

    def __init__(self, stream: IO[str] | None = None, ocsf: bool = False) -> None:
        self.stream = stream or sys.stdout
        self.ocsf = ocsf
        self.lock = threading.Lock()

    def send(self, finding: Finding) -> None:
        doc = ocsf_detection_finding(finding) if self.ocsf else alert_document(finding)
        line = json.dumps(doc, ensure_ascii=False) + "\n"
        with self.lock:
            self.stream.write(line)
            self.stream.flush()


class WebhookSink:
    """POSTs JSON: the alert document, its OCSF form, or a Slack-compatible message."""

    def __init__(self, url: str, style: str = "json", timeout: float = 5.0, headers: dict | None = None) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError("webhook URL must be http:// or https://")
        if style not in ("json", "slack", "ocsf"):
            raise ValueError("webhook style is json, slack or ocsf")
        self.url, self.style, self.timeout = url, style, timeout
        self.headers = {"Content-Type": "application/json", "User-Agent": "vigiles", **(headers or {})}
        self.name = f"webhook:{style}"

    def body(self, finding: Finding) -> bytes:
        if self.style == "slack":
            doc = slack_message(finding)
        elif self.style == "ocsf":
            doc = ocsf_detection_finding(finding)
        else:
            doc = alert_document(finding)
        return json.dumps(doc, ensure_ascii=False).encode("utf-8")

    def send(self, finding: Finding) -> None:
        request = urllib.request.Request(self.url, data=self.body(finding), headers=self.headers, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 (scheme checked)
            if response.status >= 300:
                raise OSError(f"webhook answered {response.status}")


def _slack_escape(text: Any) -> str:
    return str(text if text is not None else "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(finding: Finding) -> dict[str, Any]:
    where = " / ".join(str(p) for p in (finding.sandbox, finding.run, finding.episode) if p)
    command = finding.evidence.get("command") or finding.evidence.get("snippet") or ""
    step = f" step {finding.step}" if finding.step is not None else ""
    text = (f"*{_slack_escape(finding.severity.upper())}* {_slack_escape(finding.title)} "
            f"({_slack_escape(finding.category)}, rule `{_slack_escape(finding.rule)}`)\n"
            f"{_slack_escape(where)}{step}\n```{_slack_escape(str(command)[:500]).replace('```', 'ˋˋˋ')}```")
    return {"text": text, "mrkdwn": True}


def _sd_escape(value: Any) -> str:
    return str(value if value is not None else "").replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def syslog_message(finding: Finding, facility: int = 16, hostname: str | None = None) -> bytes:
    """An RFC 5424 message: header, one structured-data element, the alert as JSON."""
    pri = facility * 8 + _SYSLOG_SEVERITY[finding.severity]
    stamp = datetime.fromtimestamp(finding.ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    host = "".join(ch for ch in (hostname or socket.gethostname()) if 33 <= ord(ch) <= 126)[:255] or "-"
    sd = (f'[vigiles@32473 rule="{_sd_escape(finding.rule)}" category="{_sd_escape(finding.category)}" '
          f'severity="{_sd_escape(finding.severity)}" finding="{_sd_escape(finding.id)}"]')
    msg = json.dumps(alert_document(finding), ensure_ascii=False)
    return f"<{pri}>1 {stamp} {host} vigiles {os.getpid()} finding {sd} ".encode() + b"\xef\xbb\xbf" + msg.encode()


class SyslogSink:
    def __init__(self, host: str, port: int = 514, proto: str = "udp", facility: int = 16, timeout: float = 5.0) -> None:
        if proto not in ("udp", "tcp"):
            raise ValueError("syslog protocol is udp or tcp")
        self.address, self.proto, self.facility, self.timeout = (host, port), proto, facility, timeout
        self.name = f"syslog:{proto}"
        self.sock: socket.socket | None = None

    def send(self, finding: Finding) -> None:
        data = syslog_message(finding, self.facility)
        if self.proto == "udp":
            with socket.socket(socket.AF_INET6 if ":" in self.address[0] else socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.sendto(data[:65000], self.address)
            return
        if self.sock is None:
            self.sock = socket.create_connection(self.address, timeout=self.timeout)
        try:
            self.sock.sendall(str(len(data)).encode() + b" " + data)  # RFC 6587 octet counting
        except OSError:
            self.sock.close()
            self.sock = None
            raise


class Dispatcher:
    """Delivers alerts to sinks without ever blocking the caller."""

    def __init__(self, sinks: list[Sink], *, min_severity: str = "medium", queue_size: int = 1000,
                 retries: int = 4, backoff_s: float = 0.2, store=None) -> None:
        self.min_rank = SEVERITY_RANK[min_severity]
        self.retries, self.backoff_s, self.store = retries, backoff_s, store
        self.stats = {sink.name: {"sent": 0, "failed": 0, "dropped": 0, "retries": 0} for sink in sinks}
        self.latencies: list[float] = []
        self._queues: list[tuple[Sink, queue.Queue]] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._record_lock = threading.Lock()
        for sink in sinks:
            q: queue.Queue = queue.Queue(maxsize=queue_size)
            thread = threading.Thread(target=self._work, args=(sink, q), name=f"alerts-{sink.name}", daemon=True)
            self._queues.append((sink, q))
            self._threads.append(thread)
            thread.start()

    def publish(self, finding: Finding) -> None:
        if SEVERITY_RANK[finding.severity] < self.min_rank:
            return
        queued_at = time.monotonic()
        for sink, q in self._queues:
            try:
                q.put_nowait((finding, queued_at))
            except queue.Full:
                self.stats[sink.name]["dropped"] += 1
                self._record(finding, sink, "dropped", 0)

    def _work(self, sink: Sink, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            finding, queued_at = item
            attempt = 0
            while True:
                try:
                    sink.send(finding)
                except (OSError, ValueError, urllib.error.URLError) as exc:
                    attempt += 1
                    if attempt > self.retries or self._stop.is_set():
                        self.stats[sink.name]["failed"] += 1
                        log.warning("alert %s to %s failed after %d tries: %s", finding.id, sink.name, attempt, exc)
                        self._record(finding, sink, "failed", attempt)
                        break
                    self.stats[sink.name]["retries"] += 1
                    self._stop.wait(min(self.backoff_s * (2 ** (attempt - 1)), 10.0))
                    continue
                self.stats[sink.name]["sent"] += 1
                self.latencies.append(time.monotonic() - queued_at)
                if len(self.latencies) > 100_000:
                    del self.latencies[:50_000]
                self._record(finding, sink, "sent", attempt + 1)
                break

    def _record(self, finding: Finding, sink: Sink, status: str, attempts: int) -> None:
        if self.store is not None:
            with self._record_lock:
                self.store.record_alert(finding.id, sink.name, status, attempts)

    def close(self, timeout: float = 5.0) -> None:
        """Deliver what is queued (within `timeout`), then stop the workers."""
        deadline = time.monotonic() + timeout
        for _, q in self._queues:
            try:
                q.put(None, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                pass
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stop.set()


def sink_from_spec(spec: str) -> Sink:
    """A sink from a command-line spec: `stdout`, `ocsf`, `webhook:URL`, `slack:URL`, `ocsf-webhook:URL`,
    `syslog:HOST:PORT` or `syslog+tcp:HOST:PORT`."""
    if spec == "stdout":
        return JsonLinesSink()
    if spec == "ocsf":
        return JsonLinesSink(ocsf=True)
    kind, _, rest = spec.partition(":")
    if kind == "webhook":
        return WebhookSink(rest, "json")
    if kind == "slack":
        return WebhookSink(rest, "slack")
    if kind == "ocsf-webhook":
        return WebhookSink(rest, "ocsf")
    if kind in ("syslog", "syslog+tcp", "syslog+udp"):
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"syslog sink needs HOST:PORT, not {rest!r}")
        return SyslogSink(host.strip("[]"), int(port), "tcp" if kind == "syslog+tcp" else "udp")
    raise ValueError(f"unknown alert sink {spec!r}")
