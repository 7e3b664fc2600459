#!/usr/bin/env python3
"""Rule-engine throughput over a replay of mostly ordinary commands, on one core.

    python bench/bench_scan.py [--events 200000] [--attack-share 0.03] [--repeat 2] [--quick]

Runs the library's own scan path (`vigiles.pipeline.scan`: read JSON Lines, build events, prefilter,
parse, evaluate the built-in pack, group incidents) with no store, pinned to one CPU, and reports
events per second (best of --repeat runs; wall and CPU time), plus the share of events the
prefilter let through to the parser. Timed: `scan()` of a JSON Lines file already written to a
temporary directory (reading and decoding included; writing the file is not).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, load_average, pin_one_core, replay, save, write_jsonl  # noqa: E402

sys.path.insert(0, str(ROOT))
from vigiles.analysis.rules import load  # noqa: E402
from vigiles.pipeline import scan  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--attack-share", type=float, default=0.03)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="20,000 events, 2 repeats")
    args = parser.parse_args()
    if args.quick:
        args.events, args.repeat = 20_000, 2
    cpu = pin_one_core()
    load_start = load_average()
    ruleset = load()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(replay(args.events, args.attack_share), Path(tmp) / "replay.jsonl")
        best = None
        best_cpu = float("inf")
        for _ in range(args.repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            result = scan([path], ruleset)
            elapsed = time.perf_counter() - started
            best_cpu = min(best_cpu, time.process_time() - cpu_started)
            if best is None or elapsed < best[0]:
                best = (elapsed, result)
    elapsed, result = best
    rate = result.stats["events"] / elapsed
    doc = {"command": "python bench/bench_scan.py" + (" --quick" if args.quick else ""), "pinned_cpu": cpu,
           "load_average_at_start": load_start, "repeat": args.repeat,
           "events": result.stats["events"], "seconds": round(elapsed, 3), "events_per_s": round(rate),
           "cpu_seconds": round(best_cpu, 3), "events_per_s_cpu": round(result.stats["events"] / best_cpu),
           "target_events_per_s": 200_000,
           "parsed": result.stats["parsed"], "parsed_share": round(result.stats["parsed"] / result.stats["events"], 4),
           "findings": len(result.findings), "incidents": len(result.incidents), "rules": len(ruleset.rules),
           "attack_share": args.attack_share}
    out = save("scan", doc)
    print(f"{doc['events']} events in {elapsed:.2f} s on one core: {rate:,.0f} events/s; "
          f"{doc['parsed_share'] * 100:.1f}% parsed; {doc['findings']} findings; {len(ruleset.rules)} rules -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
