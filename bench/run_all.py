#!/usr/bin/env python3
"""The benchmark suite: every benchmark, then the tables of docs/performance.md.

    pip install -e '.[bench]'          # pySigma, the SQLite backend, matplotlib
    python bench/run_all.py [--quick] [--only scan,sigma,...] [--no-report]

Runs each benchmark in its own process, one after the other (so none disturbs another), each
writing bench/results/<name>.json with the machine's CPU, core count and Python version; then
bench/report.py rewrites docs/performance.md and docs/img/scaling.png from those files.
The corpora are read from ../shared/corpora (next to the checkout). About 2 minutes on a 2-core
machine (94 s measured on 2026-11-27); --quick passes --quick to each benchmark.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

BENCHMARKS = [
    ("scan", ["bench_scan.py"], ["--quick"]),
    ("latency", ["bench_latency.py"], ["--quick"]),
    ("memory", ["bench_memory.py"], ["--quick"]),
    ("sigma", ["bench_sigma_sqlite.py"], ["--quick"]),
    ("scaling", ["bench_scaling.py"], ["--quick"]),
    ("ledger", ["bench_ledger.py"], ["--entries", "50000", "--seconds", "1"]),
    ("hotspots", ["profile_hotspots.py"], ["--quick"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a check that everything runs")
    parser.add_argument("--only", default="", help="comma-separated names: " + ", ".join(b[0] for b in BENCHMARKS))
    parser.add_argument("--no-report", action="store_true", help="do not rewrite docs/performance.md")
    args = parser.parse_args()
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    failed = []
    started = time.perf_counter()
    for name, script, quick_args in BENCHMARKS:
        if only and name not in only:
            continue
        command = [sys.executable, str(HERE / script[0]), *script[1:], *(quick_args if args.quick else [])]
        print(f"== {name}: {' '.join(command[1:])}", flush=True)
        t = time.perf_counter()
        code = subprocess.call(command)
        print(f"== {name}: exit {code}, {time.perf_counter() - t:.0f} s", flush=True)
        if code:
            failed.append(name)
    if not args.no_report:
        subprocess.call([sys.executable, str(HERE / "report.py")])
    print(f"suite: {time.perf_counter() - started:.0f} s" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
