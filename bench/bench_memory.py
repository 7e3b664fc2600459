#!/usr/bin/env python3
"""Peak memory of a scan of the replay (default 200,000 events), with the built-in pack.

    python bench/bench_memory.py [--events 200000] [--quick]

The replay is written to a JSON Lines file first; then two fresh child processes, pinned to one
core, each import vigiles, load the pack and run `vigiles.pipeline.scan` on that file (no store):
  - one reports ru_maxrss (peak resident set of the whole process: interpreter, libraries,
    rules, the scan and the findings it returns), and the RSS before the scan started;
  - one runs the scan under tracemalloc and reports its peak (Python allocations made during the
    scan only; tracemalloc slows the scan, so its time is not a throughput figure).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, load_average, replay, save, write_jsonl  # noqa: E402


def child(path: str, traced: bool) -> None:
    import resource
    import time
    import tracemalloc

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import pin_one_core
    sys.path.insert(0, str(ROOT))
    from vigiles.analysis.rules import load
    from vigiles.pipeline import scan

    pin_one_core()
    ruleset = load()
    before = _rss_kib()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    result = scan([path], ruleset)
    elapsed = time.perf_counter() - started
    out = {"events": result.stats["events"], "findings": len(result.findings), "seconds": round(elapsed, 2),
           "rss_before_scan_mib": round(before / 1024, 1),
           "ru_maxrss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if traced:
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        out["tracemalloc_peak_mib"] = round(peak / 2**20, 1)
        out["tracemalloc_after_scan_mib"] = round(current / 2**20, 1)
    print(json.dumps(out))


def _rss_kib() -> int:
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20,000 events")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1] == "traced")
        return 0
    if args.quick:
        args.events = 20_000
    load_start = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(replay(args.events), Path(tmp) / "replay.jsonl")
        size = path.stat().st_size
        runs = {}
        for mode in ("plain", "traced"):
            proc = subprocess.run([sys.executable, __file__, "--child", str(path), mode], capture_output=True,
                                  text=True, check=True)
            runs[mode] = json.loads(proc.stdout.strip().splitlines()[-1])
    doc = {"command": "python bench/bench_memory.py" + (" --quick" if args.quick else ""),
           "load_average_at_start": load_start, "events": args.events, "input_mib": round(size / 2**20, 1),
           "ru_maxrss_mib": runs["plain"]["ru_maxrss_mib"], "rss_before_scan_mib": runs["plain"]["rss_before_scan_mib"],
           "tracemalloc_peak_mib": runs["traced"]["tracemalloc_peak_mib"],
           "findings": runs["plain"]["findings"], "runs": runs}
    out = save("memory", doc)
    print(f"{args.events} events ({doc['input_mib']} MiB of JSON Lines): ru_maxrss {doc['ru_maxrss_mib']} MiB "
          f"({doc['rss_before_scan_mib']} MiB before the scan), tracemalloc peak {doc['tracemalloc_peak_mib']} MiB, "
          f"{doc['findings']} findings -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
