#!/usr/bin/env python3
"""Per-event latency in streaming mode, on one core: events fed one at a time, as a live sensor does.

    python bench/bench_latency.py [--events 50000] [--repeat 2] [--quick]

Each event of the replay (bench/common.py; built-in pack) is decoded from its JSON line
(`vigiles.events.decode_line`) and handed to `Analyzer.analyze` (what the service and the sensors
call); the time of those two calls is measured for each event with time.perf_counter_ns. The
first 2,000 events warm the engine and are not counted. Two streams: the replay as agent actions,
and the same commands as process events (argv, exe; bench/common.py `process_events`).
Reports p50, p90, p99, p99.9 and max in microseconds; the run with the lowest p99 of --repeat is kept.
"""
from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, load_average, percentile, pin_one_core, process_events, replay, save  # noqa: E402

sys.path.insert(0, str(ROOT))
from vigiles.analysis.rules import load  # noqa: E402
from vigiles.events import decode_line  # noqa: E402
from vigiles.pipeline import Analyzer  # noqa: E402

WARMUP = 2_000


def stream(lines: list[bytes], ruleset) -> dict:
    analyzer = Analyzer(ruleset)
    for line in lines[:WARMUP]:
        analyzer.analyze(decode_line(line))
    times = []
    clock = time.perf_counter_ns
    gc.collect()
    for line in lines[WARMUP:]:
        started = clock()
        analyzer.analyze(decode_line(line))
        times.append(clock() - started)
    times.sort()
    us = [t / 1000 for t in times]
    return {"events": len(us), "p50_us": round(percentile(us, 50), 1), "p90_us": round(percentile(us, 90), 1),
            "p99_us": round(percentile(us, 99), 1), "p999_us": round(percentile(us, 99.9), 1),
            "max_us": round(us[-1], 1), "mean_us": round(sum(us) / len(us), 1),
            "over_1ms": sum(1 for t in us if t > 1000)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="10,000 events, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.events, args.repeat = 10_000, 1
    cpu = pin_one_core()
    load_start = load_average()
    ruleset = load()
    n = args.events + WARMUP
    actions = [json.dumps(e).encode() for e in replay(n)]
    processes = [json.dumps({k: v for k, v in e.items() if k != "command_line"}).encode() for e in process_events(n)]
    doc = {"command": "python bench/bench_latency.py" + (" --quick" if args.quick else ""), "pinned_cpu": cpu,
           "load_average_at_start": load_start, "repeat": args.repeat, "rules": len(ruleset.rules),
           "warmup_events": WARMUP, "target_p99_us": 1000.0,
           "timed": "decode_line(json bytes) + Analyzer.analyze(event), one event at a time, perf_counter_ns"}
    for name, lines in (("actions", actions), ("processes", processes)):
        runs = [stream(lines, ruleset) for _ in range(args.repeat)]
        doc[name] = min(runs, key=lambda r: r["p99_us"])
        doc[name]["p99_us_each_run"] = [r["p99_us"] for r in runs]
        r = doc[name]
        print(f"{name}: {r['events']} events one at a time: p50 {r['p50_us']} us, p99 {r['p99_us']} us, "
              f"max {r['max_us']} us, {r['over_1ms']} over 1 ms")
    out = save("latency", doc)
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
