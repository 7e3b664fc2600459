"""`vigiles watch -- COMMAND...` and `vigiles sensor`: the live sensors on the command line.

`register(app)` adds both commands to the main `vigiles` app (vigiles/cli/main.py calls it).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .main import (JOB_CGROUP_OPTION, JOB_COMMAND_OPTION, JOB_PID_OPTION, JOBS_OPTION, Format, Severity, _db_path,
                   _jobs, _printable, err, exit_for, out, print_report)

class ProcessSensor(str, Enum):
    auto = "auto"
    bpf = "bpf"
    netlink = "netlink"
    poll = "poll"


PROCESS_SENSOR_OPTION = typer.Option(
    ProcessSensor.auto, "--process-sensor",
    help="auto (the eBPF exec program where it loads, else the connector, else polling), bpf, netlink or poll.")
ALERT_MIN = "medium"
STORE_EVERY_S = 1.0
COMPUTE_EVERY_S = 5.0
COALESCE_S = 0.05
DRAIN_MAX = 4096


def _start(sensor) -> None:
    """Start the sensors; a process sensor asked for by name that cannot be opened here is a usage
    error (exit 2), said in one line."""
    try:
        sensor.start()
    except OSError as exc:
        err.print(f"vigiles: {str(exc).splitlines()[0]}")
        raise typer.Exit(2)


def _pump(live, consumer, timeout: float) -> bool:
    """Handle what the sensors queued: wait for one event, take all queued with it, then pause
    COALESCE_S so that the next wake finds a batch. A wake of this thread (and the hand-over of the
    interpreter lock with the sensor threads) costs more than handling an event (measured: about
    200 µs of CPU a wake on a virtual machine); the pause bounds wakes to 20 a second at the price
    of at most 50 ms of added alert latency under load (the goal is p99 <= 100 ms). Where every
    source already hands over batches (the eBPF exec sensor: `Sensor.batched`), there is no pause:
    the consumer wakes once per batch, and adds no latency of its own."""
    event = live.get(timeout=timeout)
    if event is None:
        return False
    consumer.handle(event)
    for event in live.drain(DRAIN_MAX):
        consumer.handle(event)
    if not getattr(live, "batched", False):
        time.sleep(COALESCE_S)
    return True
MAX_FINDINGS_KEPT = 100_000


def _ruleset(rules: List[Path]):
    """The built-in pack, the user's files, and this process's pid in the list `vigiles_pids`
    (so `kill <this pid>` is recognised by supervision_evasion_vigiles.yaml)."""
    from ..analysis.rules import load
    for path in rules:
        if not path.exists():
            err.print(f"rules path not found: {path}")
            raise typer.Exit(2)
    fd, name = tempfile.mkstemp(prefix="vigiles-pids-", suffix=".yaml")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(f"- list: vigiles_pids\n  items: ['{os.getpid()}']\n  append: true\n")
        ruleset = load([*rules, Path(name)])
    finally:
        os.unlink(name)
    for problem in ruleset.problems:
        sys.stderr.write(f"rule problem: {_printable(problem)}\n")
    return ruleset


def _responders(alert_specs, contain: Optional[Path], enforce: bool, store, log):
    """Alert sinks (--alert) and containment (--contain POLICY, dry run unless --enforce)."""
    dispatcher = responder = None
    if alert_specs:
        from ..sinks.alerts import Dispatcher, sink_from_spec
        try:
            dispatcher = Dispatcher([sink_from_spec(spec) for spec in alert_specs], store=store)
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(2)
    if contain is not None:
        from ..sinks.containment import Containment, load_policy
        try:
            responder = Containment(load_policy(contain), dry_run=not enforce, store=store, ledger=log)
        except (OSError, ValueError) as exc:
            err.print(f"cannot read containment policy: {exc}")
            raise typer.Exit(2)
    return dispatcher, responder


def _events_file(path: Optional[Path]):
    if path is None:
        return None
    try:
        return open(path, "w", encoding="utf-8", buffering=1 << 16)
    except OSError as exc:
        err.print(f"cannot write events to {path}: {exc.strerror or exc}")
        raise typer.Exit(2)


def _consumer(ruleset, store, log, alerts: bool, alert_specs, contain, enforce: bool, jobs, events_path):
    """What watch and sensor feed their events to: rules, correlation, alerts, responders, the
    store, the ledger and the --events recording."""
    dispatcher, responder = _responders(alert_specs, contain, enforce, store, log)
    return _Consumer(ruleset, store, log, sys.stderr if alerts else None, dispatcher, responder,
                     jobs=jobs, events_out=_events_file(events_path))


def _close(*sinks) -> None:
    """Close the ledger, the --events file and the store, those there are, in that order."""
    for sink in sinks:
        if sink is not None:
            sink.close()


def _open_ledger(ledger: Optional[Path]):
    if ledger is None:
        return None
    try:
        from ..sinks.ledger import LedgerSink
    except ImportError:
        err.print("the ledger sink is not available in this build (vigiles.sinks.ledger)")
        raise typer.Exit(2)
    try:
        return LedgerSink.open(ledger)
    except (OSError, ValueError) as exc:
        err.print(f"cannot open ledger {ledger}: {exc}")
        raise typer.Exit(2)


class _Consumer:
    """Rules, correlation, alerts and storage for the events a sensor produces."""

    def __init__(self, ruleset, store, ledger, alert_stream, dispatcher=None, responder=None,
                 jobs=None, events_out=None) -> None:
        from ..analysis.rules import SEVERITY_RANK
        self.dispatcher, self.responder = dispatcher, responder
        from ..pipeline import Analyzer, Correlator
        self.analyzer = Analyzer(ruleset)
        self.correlator = Correlator(jobs)
        self.events_out = events_out
        self.derived: dict[str, int] = {}
        """Compute findings already reported, by id → their index in `findings`."""
        self.last_compute = time.monotonic()
        self.store, self.ledger = store, ledger
        self.alert_stream = alert_stream
        self.alert_rank = SEVERITY_RANK[ALERT_MIN]
        self.rank = SEVERITY_RANK
        self.findings: list = []
        self.new_findings: list = []
        self.batch: list = []
        self.events = 0
        self.findings_dropped = 0
        self.last_flush = time.monotonic()

    def handle(self, event) -> None:
        self.events += 1
        if self.events_out is not None:
            self.events_out.write(json.dumps(event.to_dict(), ensure_ascii=False, default=str) + "\n")
        found = self.analyzer.analyze(event)
        self.correlator.observe(event, found)
        for finding in found:
            self.correlator.attribute(finding, event)
        self.add_findings(found)
        if self.store is not None or self.ledger is not None:
            self.batch.append(event)
        if time.monotonic() - self.last_flush >= STORE_EVERY_S or len(self.batch) >= 5000:
            self.flush()
        if event.kind == "gpu" and time.monotonic() - self.last_compute >= COMPUTE_EVERY_S:
            self.check_compute()

    def check_compute(self) -> None:
        """GPU use outside every sanctioned job, alerted while the sensor runs rather than at its end."""
        self.last_compute = time.monotonic()
        self.add_derived(self.correlator.compute_so_far(self.findings))

    def add_derived(self, found) -> None:
        """Derived findings are recomputed as evidence grows: a known one is updated in place (and in
        the store) without a second alert; a new one is alerted."""
        fresh = []
        for finding in found:
            index = self.derived.get(finding.id)
            if index is None:
                fresh.append(finding)
                continue
            self.findings[index] = finding
            self.new_findings.append(finding)
        for finding in fresh:
            if len(self.findings) < MAX_FINDINGS_KEPT:
                self.derived[finding.id] = len(self.findings)
        self.add_findings(fresh)

    def add_findings(self, found) -> None:
        from ..sinks.report import finding_json
        for finding in found:
            if len(self.findings) < MAX_FINDINGS_KEPT:
                self.findings.append(finding)
            else:
                self.findings_dropped += 1
            self.new_findings.append(finding)
            if self.rank[finding.severity] >= self.alert_rank and self.alert_stream is not None:
                self.alert_stream.write(json.dumps({"alert": finding_json(finding)}, ensure_ascii=False) + "\n")
                self.alert_stream.flush()
            if self.dispatcher is not None:
                self.dispatcher.publish(finding)
            if self.responder is not None:
                for record in self.responder.respond(finding):
                    sys.stderr.write(json.dumps({"response": record}, ensure_ascii=False, default=str) + "\n")

    def flush(self, incidents: bool = True) -> None:
        from ..analysis.incidents import group
        self.last_flush = time.monotonic()
        if self.store is not None:
            if self.batch:
                self.store.add_events(self.batch)
            if self.new_findings:
                self.store.add_findings(self.new_findings)
                if incidents:
                    self.store.put_incidents(group(self.findings))
        if self.ledger is not None:
            if self.batch:
                self.ledger.add_events(self.batch)
            if self.new_findings:
                self.ledger.add_findings(self.new_findings)
        self.batch.clear()
        self.new_findings.clear()

    def finish(self, stats: dict):
        from ..analysis.incidents import group
        from ..pipeline import ScanResult
        derived, compute = self.correlator.finish(self.findings)
        self.add_derived(derived)
        self.flush(incidents=False)
        result = ScanResult(findings=self.findings, compute=compute)
        result.incidents = group(result.findings)
        if self.store is not None:
            self.store.put_incidents(result.incidents)
        if self.ledger is not None:
            self.ledger.add_incidents(result.incidents)
        result.stats = {"events": self.events, "bad_lines": 0, "bad_files": 0, "files": 0,
                        "findings": len(result.findings), "incidents": len(result.incidents),
                        "findings_dropped": self.findings_dropped, "parsed": self.analyzer.engine.stats.get("parsed"),
                        **stats}
        return result





def watch(
    command: List[str] = typer.Argument(..., metavar="-- COMMAND...", help="The command to run and watch."),
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    fail_on: Optional[Severity] = typer.Option(None, "--fail-on", help="Exit 1 when a finding at or above this severity exists."),
    db: Optional[Path] = typer.Option(None, "--db", help="SQLite store (default $VIGILES_DB or ~/.local/share/vigiles/vigiles.db)."),
    no_store: bool = typer.Option(False, "--no-store", help="Keep nothing on disk."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="Append every event and decision to this transparency log."),
    rules: List[Path] = typer.Option([], "--rules", help="Rule file or folder; repeatable."),
    interval: float = typer.Option(0.1, "--interval", help="Seconds between process polls (without root, or with --poll)."),
    net_interval: float = typer.Option(0.5, "--net-interval", help="Seconds between connection polls (each reads /proc/net/tcp*, ~10 ms)."),
    poll: bool = typer.Option(False, "--poll", help="Poll for processes even when the connector is available."),
    process_sensor: ProcessSensor = PROCESS_SENSOR_OPTION,
    no_gpu: bool = typer.Option(False, "--no-gpu", help="Do not sample GPUs."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    alerts: bool = typer.Option(True, "--alerts/--no-alerts", help="Stream alerts as JSON lines on stderr."),
    alert: List[str] = typer.Option([], "--alert", help="Also send alerts to: stdout, ocsf, webhook:URL, slack:URL, syslog:HOST:PORT."),
    contain: Optional[Path] = typer.Option(None, "--contain", help="Containment policy (YAML); dry run unless --enforce."),
    enforce: bool = typer.Option(False, "--enforce", help="Carry out containment (kill, freeze, block egress) instead of planning it."),
    jobs_policy: Optional[Path] = JOBS_OPTION,
    job_command: List[str] = JOB_COMMAND_OPTION,
    job_pid: List[int] = JOB_PID_OPTION,
    job_cgroup: List[str] = JOB_CGROUP_OPTION,
    events_path: Optional[Path] = typer.Option(None, "--events", help="Also record every event here as JSON lines (replay with `vigiles scan`)."),
) -> None:
    """Run COMMAND (no shell) and watch its process tree and connections; report like `vigiles scan`."""
    from ..sensors.run import Sensor

    if interval <= 0 or net_interval <= 0:
        err.print("--interval and --net-interval must be positive")
        raise typer.Exit(2)
    ruleset = _ruleset(rules)
    store = None
    if not no_store:
        from ..sinks.store import Store
        store = Store(_db_path(db))
    log = _open_ledger(ledger)
    consumer = _consumer(ruleset, store, log, alerts, alert, contain, enforce,
                         _jobs(jobs_policy, job_command, job_pid, job_cgroup), events_path)
    dispatcher, events_out = consumer.dispatcher, consumer.events_out
    sensor = Sensor(mode="poll" if poll else process_sensor.value, watch_children=True, interval=interval,
                    net_interval=net_interval, gpu=not no_gpu)
    started = time.perf_counter()
    child = None
    previous = {}
    try:
        _start(sensor)
        try:
            child = subprocess.Popen(command)
        except OSError as exc:
            err.print(f"cannot run {_printable(command[0])}: {exc.strerror or exc}")
            raise typer.Exit(2)

        def forward(signum, _frame):
            if child is not None and child.poll() is None:
                child.send_signal(signum)
        for signum in (signal.SIGTERM, signal.SIGHUP):
            previous[signum] = signal.signal(signum, forward)
        while True:
            try:
                _pump(sensor, consumer, 0.05)
            except KeyboardInterrupt:
                continue  # the terminal sent SIGINT to the command too; report when it ends
            if child.poll() is not None:
                break
        # the command ended: let the sources catch up (one poll, the connector's queue), then stop
        linger_until = time.monotonic() + max(0.2, interval * 2, min(net_interval, 2.0))
        while time.monotonic() < linger_until:
            event = sensor.get(timeout=0.02)
            if event is not None:
                consumer.handle(event)
        sensor.stop()
        for event in sensor.drain():
            consumer.handle(event)
        stats = sensor.stats()
        stats["command_exit"] = child.returncode
        stats["seconds"] = round(time.perf_counter() - started, 3)
        result = consumer.finish(stats)
        if dispatcher is not None:
            dispatcher.close(timeout=10)
    finally:
        sensor.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _close(log, events_out, store)
    if stats.get("lost_exec_details"):
        sys.stderr.write(f"vigiles: {stats['lost_exec_details']} programs exited before their details could be read\n")
    if stats.get("queue_dropped"):
        sys.stderr.write(f"vigiles: {stats['queue_dropped']} events dropped (the analysis fell behind)\n")
    print_report(result, format, output)
    exit_for(result, fail_on)


def sensor(
    db: Optional[Path] = typer.Option(None, "--db", help="SQLite store (default $VIGILES_DB or ~/.local/share/vigiles/vigiles.db)."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="Append every event and decision to this transparency log."),
    rules: List[Path] = typer.Option([], "--rules", help="Rule file or folder; repeatable."),
    interval: float = typer.Option(0.5, "--interval", help="Seconds between process polls (without root, or with --poll)."),
    net_interval: float = typer.Option(2.0, "--net-interval", help="Seconds between connection polls (each reads /proc/net/tcp*, ~10 ms)."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds (default: until interrupted)."),
    state_dir: Optional[Path] = typer.Option(None, "--state-dir", help="Heartbeat folder (default $VIGILES_STATE_DIR or ~/.local/state/vigiles)."),
    heartbeat: float = typer.Option(5.0, "--heartbeat", help="Seconds between heartbeats."),
    poll: bool = typer.Option(False, "--poll", help="Poll for processes even when the connector is available."),
    process_sensor: ProcessSensor = PROCESS_SENSOR_OPTION,
    no_gpu: bool = typer.Option(False, "--no-gpu", help="Do not sample GPUs."),
    gpu_interval: float = typer.Option(1.0, "--gpu-interval", help="Seconds between GPU samples."),
    alerts: bool = typer.Option(True, "--alerts/--no-alerts", help="Print alerts as JSON lines on stderr."),
    alert: List[str] = typer.Option([], "--alert", help="Also send alerts to: stdout, ocsf, webhook:URL, slack:URL, syslog:HOST:PORT."),
    contain: Optional[Path] = typer.Option(None, "--contain", help="Containment policy (YAML); dry run unless --enforce."),
    enforce: bool = typer.Option(False, "--enforce", help="Carry out containment (kill, freeze, block egress) instead of planning it."),
    json_out: bool = typer.Option(False, "--json", help="Print the final statistics as JSON."),
    jobs_policy: Optional[Path] = JOBS_OPTION,
    job_command: List[str] = JOB_COMMAND_OPTION,
    job_pid: List[int] = JOB_PID_OPTION,
    job_cgroup: List[str] = JOB_CGROUP_OPTION,
    events_path: Optional[Path] = typer.Option(None, "--events", help="Also record every event here as JSON lines (replay with `vigiles scan`)."),
) -> None:
    """Watch the whole host until interrupted (or for --duration seconds), storing findings and incidents."""
    from ..sensors.heartbeat import BlindSpots, Heartbeat, ledger_hook
    from ..sensors.run import Sensor
    from ..sinks.store import Store

    if interval <= 0 or net_interval <= 0 or heartbeat <= 0:
        err.print("--interval, --net-interval and --heartbeat must be positive")
        raise typer.Exit(2)
    ruleset = _ruleset(rules)
    store = Store(_db_path(db))
    log = _open_ledger(ledger)
    consumer = _consumer(ruleset, store, log, alerts, alert, contain, enforce,
                         _jobs(jobs_policy, job_command, job_pid, job_cgroup), events_path)
    dispatcher, events_out = consumer.dispatcher, consumer.events_out
    beat = Heartbeat(state_dir, heartbeat)
    blind = BlindSpots()
    gap = beat.check_previous()
    consumer.add_findings(gap)
    ledger_hook(log, gap)
    consumer.new_findings and store.add_findings(consumer.new_findings)
    consumer.new_findings.clear()
    live = Sensor(mode="poll" if poll else process_sensor.value, interval=interval, net_interval=net_interval, gpu=not no_gpu,
                  gpu_interval=gpu_interval)
    reason = {"why": "interrupted"}

    def on_signal(signum, _frame):
        reason["why"] = f"signal {signal.Signals(signum).name}"
        raise KeyboardInterrupt
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGHUP)}
    started = time.perf_counter()
    deadline = time.monotonic() + duration if duration is not None else None
    try:
        _start(live)
        beat.start()
        try:
            while deadline is None or time.monotonic() < deadline:
                if not _pump(live, consumer, STORE_EVERY_S / 2) and time.monotonic() - consumer.last_flush >= STORE_EVERY_S:
                    consumer.flush()
                if time.monotonic() - blind.checked >= 1.0:  # under a flood too, when _pump never idles
                    consumer.add_findings(blind.check(live.stats()))
            reason["why"] = "duration elapsed"
        except KeyboardInterrupt:
            if reason["why"] == "interrupted":
                reason["why"] = "signal SIGINT"
        live.stop()
        for event in live.drain():
            consumer.handle(event)
        stats = live.stats()
        blind.every_s = 0  # what was lost since the last report, before the end
        consumer.add_findings(blind.check(stats))
        stats["seconds"] = round(time.perf_counter() - started, 3)
        stats["stop_reason"] = reason["why"]
        result = consumer.finish(stats)
        if dispatcher is not None:
            dispatcher.close(timeout=10)
    finally:
        live.stop()
        beat.stop(reason["why"])
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _close(log, events_out, store)
    if json_out:
        sys.stdout.write(json.dumps(result.stats, indent=2) + "\n")
    else:
        out.print(f"{result.stats['events']} events, {result.stats['findings']} findings, "
                  f"{result.stats['incidents']} incidents in {result.stats['seconds']} s "
                  f"({live.mode}; lost exec details {result.stats.get('lost_exec_details', 0)}, "
                  f"dropped {result.stats.get('queue_dropped', 0)}; stopped: {reason['why']})")


def register(app: typer.Typer) -> None:
    """Add `watch` and `sensor` to the `vigiles` command line."""
    app.command("watch", context_settings={"allow_interspersed_args": False})(watch)
    app.command("sensor")(sensor)
