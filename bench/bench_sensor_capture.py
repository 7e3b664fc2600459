"""How many short-lived processes the root sensor captures with their argv.

A separate process spawns N programs that each live about 5 ms (`sleep 0.005`, no shell), either one
after another or W at a time; the sensor (process connector, whole host, the bench's own thread
draining its queue) must report each one's pid with argv ["sleep", "0.005"]. Needs root. Each
process sensor that opens here is measured: the eBPF exec program and the connector (--modes).

    python bench/bench_sensor_capture.py [--n 1000] [--workers 1 8] [--modes bpf netlink]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine  # noqa: E402

from vigiles.sensors.run import Sensor  # noqa: E402

SPAWNER = r"""
import json, subprocess, sys, threading
n, workers = int(sys.argv[1]), int(sys.argv[2])
pids, lock = [], threading.Lock()
def work(count):
    for _ in range(count):
        p = subprocess.Popen(["sleep", "0.005"])
        with lock:
            pids.append(p.pid)
        p.wait()
threads = [threading.Thread(target=work, args=(n // workers + (i < n % workers),)) for i in range(workers)]
[t.start() for t in threads]; [t.join() for t in threads]
print(json.dumps(pids))
"""


def run(n: int, workers: int, mode: str) -> dict:
    sensor = Sensor(mode=mode, net=False, gpu=False, queue_size=200_000)
    seen: dict[int, list[str]] = {}
    done = threading.Event()

    def consume() -> None:
        while not done.is_set() or sensor.queue:
            event = sensor.get(timeout=0.1)
            if event is not None and event.kind == "process":
                seen[event.pid] = event.argv or []

    consumer = threading.Thread(target=consume, daemon=True)
    sensor.start()
    consumer.start()
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", SPAWNER, str(n), str(workers)], capture_output=True, text=True,
                         check=True)
    seconds = time.perf_counter() - started
    time.sleep(0.5)
    sensor.stop()
    done.set()
    consumer.join()
    pids = json.loads(out.stdout)
    captured = sum(1 for pid in pids if seen.get(pid) == ["sleep", "0.005"])
    stats = sensor.stats()
    return {"sensor": mode, "n": len(pids), "workers": workers, "captured_with_argv": captured,
            "capture_rate": round(captured / len(pids), 4), "execs_per_s": round(len(pids) / seconds, 1),
            "lost_exec_details_host": stats["lost_exec_details"], "overruns": stats.get("netlink_overruns"),
            "ring_dropped": stats.get("bpf_ring_dropped"),
            "queue_dropped": stats["queue_dropped"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--modes", nargs="+", default=["bpf", "netlink"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "sensor_capture.json")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (the process connector, the eBPF exec program)")
    runs = []
    for mode in args.modes:
        try:
            runs += [run(args.n, w, mode) for w in args.workers]
        except (OSError, ValueError) as exc:
            runs.append({"sensor": mode, "unavailable": str(exc).splitlines()[0]})
    doc = {"benchmark": "sensor_capture", "machine": machine(), "kernel": os.uname().release,
           "program": "sleep 0.005 (no shell)", "goal": ">= 0.99 captured with argv", "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
