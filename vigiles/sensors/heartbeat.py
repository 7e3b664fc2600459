"""The watcher watched: a heartbeat file, and what a missing one means.

While it runs, the sensor rewrites `<state dir>/heartbeat.json` every `interval` seconds (atomically:
a temporary file, then rename) with its pid, boot id, start time and the time of the beat. When it
stops cleanly it writes the file once more with `clean: true` and the reason (`duration elapsed`,
`signal SIGTERM`, ...) — the clean-shutdown marker.

On start, `check_previous()` reads what the last sensor left and turns anything suspicious into a
**finding without an event** (`event_ids` empty; category `supervision_evasion`), which goes to the
store, the report and the incidents like any other finding, and to the ledger through `ledger_hook`:

| previous heartbeat | rule | severity |
|---|---|---|
| no clean marker (killed with SIGKILL, crashed, machine lost power) | `sensor_unclean_stop` | high |
| clean, but stopped by a signal (kill, pkill, `systemctl stop`) | `sensor_stopped_by_signal` | medium |
| clean, stopped as asked (duration elapsed), then a gap longer than 2 intervals | `sensor_gap` | info |

Each carries the previous pid, its last beat, the gap in seconds (time nobody was watching) and
whether the machine rebooted in between. A sensor that is still alive (same boot, pid alive and a
vigiles process) is not a gap; it is reported in `stats["previous_alive"]`.
"""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from ..analysis.findings import Finding, finding_id
from .common import BOOT_ID, HOST

FILE = "heartbeat.json"
ATTACK = ["T1562.001", "T1489"]


def default_state_dir() -> Path:
    explicit = os.environ.get("VIGILES_STATE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    return Path(base) / "vigiles"


def ledger_hook(ledger: Any, findings: list[Finding]) -> None:
    """Append heartbeat findings to the transparency log, when one is configured.

    The ledger sink is written elsewhere (`vigiles.sinks.ledger.LedgerSink`); this calls only
    `add_findings(list)` and, when it exists, `add_record(kind, dict)`, the calls `vigiles scan` uses.
    """
    if ledger is None or not findings:
        return
    add_findings = getattr(ledger, "add_findings", None)
    if add_findings is not None:
        add_findings(findings)
    add_record = getattr(ledger, "add_record", None)
    if add_record is not None:
        for finding in findings:
            add_record("sensor_heartbeat", {"rule": finding.rule, "finding": finding.id, **finding.evidence})


def _alive_vigiles(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return b"vigiles" in fh.read(4096)
    except OSError:
        return False


class Heartbeat:
    def __init__(self, state_dir: str | os.PathLike | None = None, interval: float = 5.0) -> None:
        self.dir = Path(state_dir) if state_dir is not None else default_state_dir()
        self.path = self.dir / FILE
        self.interval = interval
        self.started = time.time()
        self.pid = os.getpid()
        self.seq = 0
        self.stats: dict[str, Any] = {"beats": 0, "previous_alive": False, "write_errors": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the previous run ------------------------------------------------------------------------
    def read_previous(self) -> dict | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def check_previous(self, now: float | None = None) -> list[Finding]:
        now = time.time() if now is None else now
        prev = self.read_previous()
        if prev is None:
            return []
        try:
            pid, last = int(prev.get("pid", 0)), float(prev.get("ts", 0.0))
            interval = float(prev.get("interval", self.interval))
        except (TypeError, ValueError):
            return [self._finding("sensor_unclean_stop", "high", "The previous sensor's heartbeat is unreadable",
                                  now, {"heartbeat": str(prev)[:500]})]
        rebooted = prev.get("boot_id") != BOOT_ID
        if not rebooted and pid != self.pid and _alive_vigiles(pid) and not prev.get("clean"):
            self.stats["previous_alive"] = True
            return []
        gap = round(max(0.0, now - last), 3)
        evidence = {"previous_pid": pid, "previous_started": prev.get("started"), "last_heartbeat": last,
                    "gap_s": gap, "interval_s": interval, "rebooted": rebooted, "clean": bool(prev.get("clean")),
                    "stop_reason": prev.get("stop_reason"), "heartbeat_file": str(self.path),
                    "command": f"vigiles sensor (pid {pid})"}
        if not prev.get("clean"):
            return [self._finding("sensor_unclean_stop", "high",
                                  "The watcher stopped without a clean shutdown (killed or crashed)", now, evidence)]
        reason = str(prev.get("stop_reason") or "")
        if reason.startswith("signal"):
            return [self._finding("sensor_stopped_by_signal", "medium",
                                  f"The watcher was stopped by a {reason[7:] or 'signal'}", now, evidence)]
        if gap > 2 * interval:
            return [self._finding("sensor_gap", "info", f"Nothing was watched for {gap:.0f} s", now, evidence)]
        return []

    def _finding(self, rule: str, severity: str, title: str, now: float, evidence: dict) -> Finding:
        evidence = {**evidence, "source": str(self.path)}
        key = f"{evidence.get('previous_pid')}:{evidence.get('last_heartbeat')}:{now:.3f}"
        return Finding(id=finding_id(rule, key), rule=rule, title=title, category="supervision_evasion",
                       severity=severity, attack=list(ATTACK), event_ids=[], ts=now, host=HOST, evidence=evidence,
                       description="The sensor's heartbeat shows a time when nobody was watching this host.")

    # -- this run ------------------------------------------------------------------------------
    def beat(self, clean: bool = False, reason: str | None = None) -> None:
        with self._lock:
            self.seq += 1
            record = {"pid": self.pid, "host": HOST, "boot_id": BOOT_ID, "started": self.started, "ts": time.time(),
                      "interval": self.interval, "seq": self.seq, "clean": clean, "stop_reason": reason}
            try:
                self.dir.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(f".{FILE}.{self.pid}.tmp")
                with open(tmp, "w", encoding="utf-8") as fh:
                    json.dump(record, fh)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.path)
                self.stats["beats"] += 1
            except OSError:
                self.stats["write_errors"] += 1

    def start(self) -> None:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="vigiles-heartbeat", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.beat()

    def stop(self, reason: str = "stopped") -> None:
        """The clean-shutdown marker."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.beat(clean=True, reason=reason)


LOSS_COUNTERS = ("bpf_ring_dropped", "netlink_overruns", "queue_dropped", "bpf_reader_errors")
"""Counters of Sensor.stats() that each mean the sensor was overwhelmed: execs the kernel could
not queue for it (the exec program's ring, the connector's socket), events its own queue refused,
records it could not read. (A program that exits before the connector reads its /proc entries is
counted in lost_exec_details but is no overload: sub-millisecond programs do it all day.)"""
LOSS_EVERY_S = 60.0


class BlindSpots:
    """Events lost while the sensor runs, as findings: an agent that starts thousands of programs
    at once can overflow the kernel's queue, the ring or ours and hide one exec among them. The
    first loss is reported at once, then at most one finding a minute, each with what was lost
    since the last (`sensor_events_lost`, supervision_evasion)."""

    def __init__(self, every_s: float = LOSS_EVERY_S) -> None:
        self.every_s = every_s
        self.seen: dict[str, int] = {}
        self.reported: dict[str, int] = {}
        self.last_report: float | None = None
        self.count = 0
        self.checked = time.monotonic()

    def check(self, stats: dict, now: float | None = None) -> list[Finding]:
        self.checked = time.monotonic()
        now = time.time() if now is None else now
        for name in LOSS_COUNTERS:
            value = stats.get(name)
            if isinstance(value, int):
                self.seen[name] = value
        lost = {name: value - self.reported.get(name, 0) for name, value in self.seen.items()
                if value > self.reported.get(name, 0)}
        if not lost or (self.last_report is not None and now - self.last_report < self.every_s):
            return []
        since = self.last_report
        self.last_report = now
        self.reported.update(self.seen)
        self.count += 1
        evidence = {"lost": lost, "totals": dict(self.seen), "since": since, "process_sensor": stats.get("process_sensor")}
        return [Finding(id=finding_id("sensor_events_lost", f"{HOST}:{BOOT_ID}:{os.getpid()}:{self.count}"),
                        rule="sensor_events_lost", title="The sensor lost events (a flood may hide one)",
                        category="supervision_evasion", severity="medium", attack=["T1562.006"], event_ids=[],
                        ts=now, host=HOST, evidence=evidence,
                        description="Execs or events came faster than the sensor could keep them; what was "
                                    "lost was not judged.")]
