#!/usr/bin/env python3
"""Rule-engine throughput over a replay of mostly ordinary commands, on one core.

    python bench/bench_scan.py [--events 100000] [--attack-share 0.03]

Runs the library's own scan path (`vigiles.pipeline.scan`: read JSON Lines, build events, prefilter,
parse, evaluate the built-in pack, group incidents) with no store, pinned to one CPU, and reports
events per second, plus the share of events the prefilter let through to the parser.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, replay, save, write_jsonl  # noqa: E402

sys.path.insert(0, str(ROOT))
from vigiles.analysis.rules import load  # noqa: E402
from vigiles.pipeline import scan  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--attack-share", type=float, default=0.03)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    ruleset = load()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(replay(args.events, args.attack_share), Path(tmp) / "replay.jsonl")
        best = None
        for _ in range(args.repeat):
            started = time.perf_counter()
            result = scan([path], ruleset)
            elapsed = time.perf_counter() - started
            if best is None or elapsed < best[0]:
                best = (elapsed, result)
    elapsed, result = best
    rate = result.stats["events"] / elapsed
    doc = {"events": result.stats["events"], "seconds": round(elapsed, 3), "events_per_s": round(rate),
           "parsed": result.stats["parsed"], "parsed_share": round(result.stats["parsed"] / result.stats["events"], 4),
           "findings": len(result.findings), "incidents": len(result.incidents), "rules": len(ruleset.rules),
           "attack_share": args.attack_share}
    out = save("scan", doc)
    print(f"{doc['events']} events in {elapsed:.2f} s on one core: {rate:,.0f} events/s; "
          f"{doc['parsed_share'] * 100:.1f}% parsed; {doc['findings']} findings; {len(ruleset.rules)} rules -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
