"""The real NVML path, on a machine with an NVIDIA GPU, its driver and a CUDA framework (PyTorch or
CuPy) to load it. Skipped where any is missing (CI has no GPU); run on a GPU lent to a session
(docs/sensors.md says when and on which card). `VIGILES_GPU_RECORD=DIR` keeps the events of the
end-to-end run, which tests/analysis/test_compute_recorded.py replays in CI.
"""
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pynvml = pytest.importorskip("pynvml")
try:
    pynvml.nvmlInit()
    pynvml.nvmlShutdown()
except Exception as exc:  # no driver, no device
    pytest.skip(f"no NVIDIA driver: {exc}", allow_module_level=True)

from vigiles.sensors.gpu import GpuSampler  # noqa: E402

CLI = "from vigiles.cli.main import app; from vigiles.cli.live import register; register(app); app()"


def _framework() -> str:
    for name in ("torch", "cupy"):
        probe = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True)
        if probe.returncode == 0:
            return name
    pytest.skip("neither torch nor cupy can load CUDA here")


def _busy_code(seconds: float, connect_port: int | None = None) -> str:
    """Python source that holds the GPU with matrix products for `seconds`. It carries this
    interpreter's import path: a process started as `exec -a NAME python3` loses its virtual
    environment, which Python finds through argv[0]."""
    path = f"import sys; sys.path[:0] = {json.dumps([p for p in sys.path if p])}\n"
    connect = ""
    if connect_port is not None:
        connect = (f"import socket; s = socket.create_connection(('127.0.0.1', {connect_port})); "
                   "s.sendall(b'{\"method\": \"login\"}\\n')\n")
    if _framework() == "torch":
        body = (path + "import torch, time\n" + connect +
                "a = torch.randn(4096, 4096, device='cuda')\n"
                f"end = time.time() + {seconds}\n"
                "while time.time() < end:\n    b = a @ a\n    torch.cuda.synchronize()\n")
    else:
        body = (path + "import cupy, time\n" + connect +
                "a = cupy.random.rand(4096, 4096, dtype=cupy.float32)\n"
                f"end = time.time() + {seconds}\n"
                "while time.time() < end:\n    b = a @ a\n    cupy.cuda.Device().synchronize()\n")
    return body


def test_device_samples_are_real():
    sampler = GpuSampler(stderr=sys.stderr)
    assert sampler.start()
    try:
        events = sampler.poll()
        devices = [e for e in events if e.extra["scope"] == "device"]
        assert len(devices) == pynvml.nvmlDeviceGetCount() >= 1
        for event in devices:
            assert 0.0 <= event.util <= 100.0
            assert event.extra["mem_total_mib"] > 1000
            assert event.mem_mib <= event.extra["mem_total_mib"]
            assert event.extra["power_w"] is None or event.extra["power_w"] > 0
    finally:
        sampler.stop()


def test_a_busy_process_is_seen_with_its_pid_memory_and_load():
    child = subprocess.Popen([sys.executable, "-c", _busy_code(8.0)])
    sampler = GpuSampler(stderr=sys.stderr)
    assert sampler.start()
    seen, device_util = [], []
    try:
        deadline = time.time() + 30
        while time.time() < deadline and child.poll() is None:
            for event in sampler.poll():
                if event.extra["scope"] == "device":
                    device_util.append(event.util)
                elif event.pid == child.pid:
                    seen.append(event)
            time.sleep(0.5)
        child.wait(timeout=30)
        after = sampler.poll()
    finally:
        if child.poll() is None:
            child.kill()
        sampler.stop()
    assert seen, "the GPU process was never listed by nvmlDeviceGetComputeRunningProcesses"
    assert max(e.mem_mib or 0 for e in seen) > 64  # a 4096² float32 matrix and its product
    assert max(device_util) >= 50
    assert any(e.util is not None and e.util > 0 for e in seen), "no per-process SM utilisation sample"
    if any(sampler.accounting.values()):
        assert any(e.pid == child.pid and e.extra["scope"] == "accounting" for e in after)
    else:
        assert not any(e.extra["scope"] == "accounting" for e in after)


@pytest.fixture
def pool():
    """A local stand-in for a mining pool's stratum port (3333), so the miner's connection is real."""
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        server.bind(("127.0.0.1", 3333))
    except OSError:
        pytest.skip("port 3333 is taken")
    server.listen(4)
    held = []

    def accept():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
    threading.Thread(target=accept, daemon=True).start()
    yield 3333
    server.close()
    for conn in held:
        conn.close()


def test_watch_accounts_the_job_and_flags_the_disguised_miner(tmp_path, pool):
    """ROME on a real GPU: a sanctioned training job and, beside it, a process named like a kernel
    thread that connects to a pool port and saturates the GPU."""
    (tmp_path / "train.py").write_text(_busy_code(14.0))
    (tmp_path / "miner.py").write_text(_busy_code(14.0, connect_port=pool))
    # a script file, so that no ancestor's command line names train.py except the job's own
    (tmp_path / "agent.sh").write_text(f"python3 {tmp_path}/train.py &\n"
                                       f"(exec -a '[kworker/3:1-events]' python3 {tmp_path}/miner.py) &\nwait\n")
    record = Path(os.environ.get("VIGILES_GPU_RECORD") or tmp_path)
    record.mkdir(parents=True, exist_ok=True)
    events = record / "watch-events.jsonl"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    run = subprocess.run([sys.executable, "-c", CLI, "watch", "--no-store", "--format", "json",
                          "--events", str(events), "--job-command", "*train.py*", "--net-interval", "0.5",
                          "--", "bash", str(tmp_path / "agent.sh")],
                         capture_output=True, text=True, timeout=120, env=env)
    (record / "watch-stderr.txt").write_text(run.stderr)
    (record / "watch-report.json").write_text(run.stdout)
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    outside = [f for f in report["findings"] if f["rule"] == "gpu_use_outside_job"]
    assert len(outside) == 1, [f["rule"] for f in report["findings"]]
    miner = outside[0]
    assert miner["evidence"]["argv"][0] == "[kworker/3:1-events]"
    assert miner["severity"] == "critical"
    signs = " ".join(miner["evidence"]["signs"])
    assert "kernel-thread name" in signs and "pool port" in signs
    alerts = [json.loads(line)["alert"] for line in run.stderr.splitlines() if line.startswith('{"alert"')]
    assert any(a["rule"] == "gpu_use_outside_job" for a in alerts), "no live alert for the miner"
    replay = subprocess.run([sys.executable, "-m", "vigiles", "compute", "report", "--json",
                             "--job-command", "*train.py*", str(events)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert replay.returncode == 0, replay.stderr[-2000:]
    accounting = json.loads(replay.stdout)
    (record / "compute-report.json").write_text(replay.stdout)
    assert accounting["jobs"]["cli-command-1"]["gpu_seconds"] > 5
    assert accounting["gpu_seconds_outside_jobs"] > 5
    assert [o["argv"][0] for o in accounting["outside_jobs"]] == ["[kworker/3:1-events]"]
