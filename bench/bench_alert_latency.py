#!/usr/bin/env python3
"""Alert latency from exec to webhook delivery, on loopback.

`vigiles watch --alert webhook:URL -- python3 spawner` runs a spawner that, N times, notes the time
and execs a program named like a miner (a copy of /bin/sleep called `xmrig`, run for 30 ms, its
sequence number carried in its arguments as a vanishing extra delay, `<i>e-9` seconds). A webhook server on 127.0.0.1 notes when each alert arrives. The latency of
one alert is arrival time minus the moment before its exec; the script reports p50, p99 and max.

    python bench/bench_alert_latency.py [--count 100] [--rate 10] [--host]

With --host, `vigiles sensor` (the whole host: the eBPF exec sensor where it loads, as root) runs
beside the spawner instead of `watch` around it; results go to alert_latency_host.json.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, save  # noqa: E402

HOST_CLI = "from vigiles.cli.main import app; from vigiles.cli.live import register; register(app); app()"
SPAWNER = r"""
import json, subprocess, sys, time
program, count, rate, log = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
times = {}
for i in range(count):
    times[i] = time.time()
    subprocess.run([program, "0.03", f"{i}e-9"], check=False)
    time.sleep(1.0 / rate)
json.dump(times, open(log, "w"))
time.sleep(1.0)
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--host", action="store_true", help="measure `vigiles sensor` instead of `watch`")
    args = parser.parse_args()
    arrivals: dict[int, float] = {}

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            arrived = time.time()
            command = (body.get("evidence") or {}).get("command") or ""
            words = command.split()
            if body.get("rule") == "miner_program" and len(words) >= 3 and words[2].endswith("e-9"):
                arrivals.setdefault(int(words[2][:-3]), arrived)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/alerts"
    with tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "xmrig"
        shutil.copy("/bin/sleep", program)
        spawner = Path(tmp) / "spawner.py"
        spawner.write_text(SPAWNER)
        log = Path(tmp) / "times.json"
        env = dict(os.environ, VIGILES_DB=str(Path(tmp) / "v.db"))
        spawn = [sys.executable, str(spawner), str(program), str(args.count), str(args.rate), str(log)]
        if args.host:
            host = subprocess.Popen([sys.executable, "-c", HOST_CLI, "sensor", "--no-gpu", "--no-alerts", "--json",
                                     "--alert", f"webhook:{url}", "--db", f"{tmp}/v.db", "--state-dir", f"{tmp}/state"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
            time.sleep(4.0)  # imports, rules, the exec program loaded
            subprocess.run(spawn, check=False, timeout=600)
            host.terminate()
            out, err = host.communicate(timeout=30)
            sensor = json.loads(out).get("process_sensor") if out.strip() else None
            proc = subprocess.CompletedProcess(host.args, host.returncode, out, err)
        else:
            proc = subprocess.run([sys.executable, "-m", "vigiles.cli.main", "watch", "--no-store", "--no-gpu",
                                   "--no-alerts", "--alert", f"webhook:{url}", "--format", "json", "--", *spawn],
                                  capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
            try:
                sensor = json.loads(proc.stdout)["stats"].get("process_sensor")
            except (ValueError, KeyError, TypeError):
                sensor = None
        spawned = {int(k): v for k, v in json.loads(log.read_text()).items()}
    server.shutdown()
    latencies = sorted((arrivals[i] - spawned[i]) * 1000 for i in spawned if i in arrivals)
    if not latencies:
        print(proc.stderr[-2000:])
        return 1

    def pct(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))]
    doc = {"count": args.count, "rate_per_s": args.rate, "delivered": len(latencies),
           "p50_ms": round(pct(0.50), 2), "p99_ms": round(pct(0.99), 2), "max_ms": round(latencies[-1], 2),
           "goal_p99_ms": 100, "pass": pct(0.99) <= 100, "sensor": sensor,
           "command": "vigiles sensor" if args.host else "vigiles watch",
           "load_average": os.getloadavg()}
    out = save("alert_latency_host" if args.host else "alert_latency", doc)
    print(f"{len(latencies)}/{args.count} alerts delivered; exec -> webhook p50 {doc['p50_ms']} ms, "
          f"p99 {doc['p99_ms']} ms, max {doc['max_ms']} ms -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
