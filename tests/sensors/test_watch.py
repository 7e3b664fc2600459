"""`vigiles watch -- COMMAND` end to end: a reverse-tunnel attempt to a loopback address (it fails
to connect, harmlessly) is a network_access finding naming the ssh process and its argv.

Uses the real process connector when root, and the polling fallback otherwise (then ssh is kept
alive for a second by a ProxyCommand that only sleeps, so a 0.1 s poll can see it).
"""
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from vigiles.sensors.run import Sensor

ROOT = os.geteuid() == 0
CLI = "from vigiles.cli.main import app; from vigiles.cli.live import register; register(app); app()"
SSH = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=2", "-fN", "-R", "2222:localhost:22", "nobody@127.0.0.1", "-p", "1"]
if not ROOT:
    SSH[1:1] = ["-o", "ProxyCommand=sleep 1"]


def vigiles(*args, env=None, timeout=60):
    return subprocess.run([sys.executable, "-c", CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.mark.skipif(shutil.which("ssh") is None, reason="needs an ssh client")
def test_watch_reports_the_reverse_tunnel(tmp_path):
    command = " ".join(a if " " not in a else f"'{a}'" for a in SSH)
    run = vigiles("watch", "--format", "json", "--fail-on", "high", "--db", str(tmp_path / "v.db"),
                  "--", "bash", "-c", command)
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    hits = [f for f in report["findings"] if f["category"] == "network_access" and f["rule"] == "ssh_reverse_tunnel"]
    ssh = [f for f in hits if f["evidence"]["command"].startswith("ssh ")]
    assert ssh, report
    assert "-R 2222:localhost:22 nobody@127.0.0.1" in ssh[0]["evidence"]["command"]
    assert ssh[0]["evidence"]["pid"] > 0
    assert report["incidents"] and report["stats"]["process_sensor"] in (("bpf", "netlink") if ROOT else ("poll",))
    assert report["stats"]["command_exit"] == 255
    alerts = [json.loads(line)["alert"] for line in run.stderr.splitlines() if line.startswith('{"alert"')]
    assert any(a["rule"] == "ssh_reverse_tunnel" for a in alerts)  # streamed while it ran


def test_watch_without_findings_and_a_missing_program(tmp_path):
    run = vigiles("watch", "--no-store", "--no-gpu", "--fail-on", "medium", "--", "true")
    assert run.returncode == 0, run.stderr
    assert "No findings." in run.stdout
    missing = vigiles("watch", "--no-store", "--no-gpu", "--", str(tmp_path / "no-such-program"))
    assert missing.returncode == 2


@pytest.mark.skipif(not ROOT, reason="the process connector needs root")
def test_pkill_vigiles_seen_by_the_watch(tmp_path):
    # harmless: signal 0 to processes matching a pattern nothing matches. pkill lives about a
    # millisecond; on a loaded machine its argv can be gone before /proc is read (counted as
    # lost_exec_details, docs/sensors.md), so the run is tried up to three times.
    for _ in range(3):
        run = vigiles("watch", "--format", "json", "--no-store", "--no-gpu", "--",
                      "bash", "-c", "pkill -0 -f no-such-vigiles-process-xyz; pkill -0 -P $PPID -f no-such-process-xyz; true")
        report = json.loads(run.stdout)
        kills = [f["evidence"]["command"] for f in report["findings"] if f["rule"] == "vigiles_kill_attempt"]
        if len(kills) >= 2:
            break
    assert any("no-such-vigiles" in c for c in kills), report           # aimed at vigiles by name
    assert any(c.startswith("pkill -0 -P ") and c.split()[3].isdigit() for c in kills), report  # at the watcher's pid


def test_sensor_command_records_a_previous_unclean_stop(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    from vigiles.sensors.common import BOOT_ID
    (state / "heartbeat.json").write_text(json.dumps({"pid": 999_999, "boot_id": BOOT_ID, "ts": time.time() - 60,
                                                      "interval": 5, "clean": False}))
    run = vigiles("sensor", "--duration", "1", "--no-gpu", "--json", "--db", str(tmp_path / "v.db"),
                  "--state-dir", str(state), "--heartbeat", "0.2")
    assert run.returncode == 0, run.stderr
    stats = json.loads(run.stdout)
    assert stats["stop_reason"] == "duration elapsed" and stats["findings"] >= 1
    assert "sensor_unclean_stop" in run.stderr
    beat = json.loads((state / "heartbeat.json").read_text())
    assert beat["clean"] and beat["stop_reason"] == "duration elapsed"
    from vigiles.sinks.store import Store
    with Store(tmp_path / "v.db") as store:
        assert any(f["rule"] == "sensor_unclean_stop" for f in store.findings())


def test_a_slow_consumer_drops_and_counts_without_stalling_the_reader():
    sensor = Sensor(mode="auto", watch_children=True, net=False, gpu=False, queue_size=5, interval=0.02)
    sensor.start()
    try:
        for _ in range(20):
            subprocess.run(["true"])
        time.sleep(0.5 if ROOT else 0.1)
    finally:
        sensor.stop()
    stats = sensor.stats()
    if ROOT:
        execs = stats[f"{stats['process_sensor']}_execs"]
        emitted = execs - stats["lost_exec_details"]
        assert execs == 20 and stats["queue_dropped"] == max(0, emitted - 5)  # nobody read the queue
    assert len(sensor.drain()) <= 5
