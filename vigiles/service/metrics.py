"""Counters and histograms in the Prometheus text exposition format (0.0.4), with no dependency.

Updates happen on the event loop and on the analysis thread; each metric takes a lock only to
add, which costs well under a microsecond.
"""
from __future__ import annotations

import threading

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _labels(names: tuple[str, ...], values: tuple[str, ...]) -> str:
    if not names:
        return ""
    inner = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values))
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Counter:
    def __init__(self, name: str, help: str, labels: tuple[str, ...] = ()) -> None:
        self.name, self.help, self.label_names = name, help, labels
        self.values: dict[tuple[str, ...], float] = {}
        self.lock = threading.Lock()

    def inc(self, amount: float = 1.0, *labels: str) -> None:
        with self.lock:
            self.values[labels] = self.values.get(labels, 0.0) + amount

    def get(self, *labels: str) -> float:
        return self.values.get(labels, 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self.lock:
            items = sorted(self.values.items())
        if not items and not self.label_names:
            items = [((), 0.0)]
        for labels, value in items:
            lines.append(f"{self.name}{_labels(self.label_names, labels)} {_num(value)}")
        return lines


class Gauge(Counter):
    def set(self, value: float, *labels: str) -> None:
        with self.lock:
            self.values[labels] = value

    def render(self) -> list[str]:
        lines = super().render()
        lines[1] = f"# TYPE {self.name} gauge"
        return lines


class Histogram:
    def __init__(self, name: str, help: str, labels: tuple[str, ...] = (), buckets=LATENCY_BUCKETS) -> None:
        self.name, self.help, self.label_names, self.buckets = name, help, labels, tuple(buckets)
        self.series: dict[tuple[str, ...], list] = {}
        self.lock = threading.Lock()

    def observe(self, value: float, *labels: str) -> None:
        with self.lock:
            series = self.series.get(labels)
            if series is None:
                series = self.series[labels] = [[0] * len(self.buckets), 0.0, 0]
            counts = series[0]
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    counts[i] += 1
                    break
            series[1] += value
            series[2] += 1

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self.lock:
            items = sorted((k, [list(v[0]), v[1], v[2]]) for k, v in self.series.items())
        for labels, (counts, total, n) in items:
            running = 0
            for bound, count in zip(self.buckets, counts):
                running += count
                lines.append(f"{self.name}_bucket{_labels(self.label_names + ('le',), labels + (_num(bound),))} {running}")
            lines.append(f"{self.name}_bucket{_labels(self.label_names + ('le',), labels + ('+Inf',))} {n}")
            lines.append(f"{self.name}_sum{_labels(self.label_names, labels)} {_num(total)}")
            lines.append(f"{self.name}_count{_labels(self.label_names, labels)} {n}")
        return lines


def _num(value: float) -> str:
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


class Metrics:
    def __init__(self) -> None:
        self.events_ingested = Counter("vigiles_events_ingested_total", "Events stored (new, durable) by POST /v1/events.")
        self.events_duplicate = Counter("vigiles_events_duplicate_total", "Events received again (same id); not stored twice.")
        self.events_rejected = Counter("vigiles_events_rejected_total", "Batch items rejected as invalid.")
        self.ingest_throttled = Counter("vigiles_ingest_throttled_total", "Ingest requests answered 429.")
        self.guard_decisions = Counter("vigiles_guard_decisions_total", "Guard decisions by outcome.", ("decision",))
        self.findings = Counter("vigiles_findings_total", "Findings produced, by severity.", ("severity",))
        self.analysis_errors = Counter("vigiles_analysis_errors_total", "Batches the analysis thread failed on.")
        self.queue_events = Gauge("vigiles_analysis_queue_events", "Events stored and waiting for analysis.")
        self.latency = Histogram("vigiles_request_duration_seconds", "Request latency by endpoint.", ("endpoint",))
        self.guard_latency = Histogram("vigiles_guard_decision_seconds", "Time to decide one proposed action.")

    def render(self) -> str:
        lines: list[str] = []
        for metric in (self.events_ingested, self.events_duplicate, self.events_rejected, self.ingest_throttled,
                       self.guard_decisions, self.findings, self.analysis_errors, self.queue_events, self.latency,
                       self.guard_latency):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
