"""Heartbeat gap detection: unclean stops, stops by signal, gaps, and a sensor still alive."""
import json
import os

from vigiles.sensors.common import BOOT_ID
from vigiles.sensors.heartbeat import Heartbeat, ledger_hook


def write(path, **fields):
    record = {"pid": 999_999, "boot_id": BOOT_ID, "started": 100.0, "ts": 1000.0, "interval": 5.0, "clean": False,
              "stop_reason": None, **fields}
    path.mkdir(parents=True, exist_ok=True)
    (path / "heartbeat.json").write_text(json.dumps(record))


def test_first_start_has_nothing(tmp_path):
    assert Heartbeat(tmp_path).check_previous() == []


def test_unclean_stop_is_a_high_finding(tmp_path):
    write(tmp_path)
    (finding,) = Heartbeat(tmp_path).check_previous(now=1300.0)
    assert (finding.rule, finding.severity, finding.category) == ("sensor_unclean_stop", "high", "supervision_evasion")
    assert finding.evidence["gap_s"] == 300.0 and finding.evidence["previous_pid"] == 999_999
    assert finding.event_ids == [] and not finding.evidence["rebooted"]


def test_stop_by_signal_and_gap(tmp_path):
    write(tmp_path, clean=True, stop_reason="signal SIGTERM")
    (finding,) = Heartbeat(tmp_path).check_previous(now=1001.0)
    assert finding.rule == "sensor_stopped_by_signal" and finding.severity == "medium"
    write(tmp_path, clean=True, stop_reason="duration elapsed")
    assert Heartbeat(tmp_path).check_previous(now=1008.0) == []          # within two intervals
    (gap,) = Heartbeat(tmp_path).check_previous(now=1100.0)
    assert gap.rule == "sensor_gap" and gap.severity == "info"


def test_reboot_and_garbage(tmp_path):
    write(tmp_path, boot_id="another-boot")
    (finding,) = Heartbeat(tmp_path).check_previous(now=2000.0)
    assert finding.evidence["rebooted"]
    (tmp_path / "heartbeat.json").write_text('{"pid": "x", "ts": "y"}')
    assert Heartbeat(tmp_path).check_previous()[0].rule == "sensor_unclean_stop"


def test_a_live_sensor_is_not_a_gap(tmp_path):
    beat = Heartbeat(tmp_path, interval=0.05)
    beat.start()
    try:
        other = Heartbeat(tmp_path)
        other.pid = os.getpid() + 1  # another sensor starting beside this one
        assert "vigiles" not in open(f"/proc/{os.getpid()}/cmdline").read() or other.check_previous() == []
    finally:
        beat.stop("duration elapsed")
    data = json.loads((tmp_path / "heartbeat.json").read_text())
    assert data["clean"] and data["stop_reason"] == "duration elapsed" and data["pid"] == os.getpid()
    assert beat.stats["beats"] >= 2


def test_beat_then_kill_is_detected(tmp_path):
    beat = Heartbeat(tmp_path, interval=1.0)
    beat.beat()  # running, then killed: no clean marker is ever written
    data = json.loads((tmp_path / "heartbeat.json").read_text())
    data["pid"] = 999_999
    (tmp_path / "heartbeat.json").write_text(json.dumps(data))
    (finding,) = Heartbeat(tmp_path).check_previous(now=data["ts"] + 30)
    assert finding.rule == "sensor_unclean_stop" and 29 < finding.evidence["gap_s"] < 31


def test_ledger_hook_uses_the_scan_calls():
    class Ledger:
        def __init__(self):
            self.findings, self.records = [], []

        def add_findings(self, findings):
            self.findings.extend(findings)

        def add_record(self, kind, record):
            self.records.append((kind, record))

    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as tmp:
        write(Path(tmp))
        found = Heartbeat(tmp).check_previous(now=2000.0)
    ledger = Ledger()
    ledger_hook(ledger, found)
    ledger_hook(None, found)
    assert ledger.findings == found and ledger.records[0][0] == "sensor_heartbeat"
