#!/usr/bin/env python3
"""Instructions per event of `vigiles.pipeline.scan`, counted by valgrind: a figure that repeats
exactly, where wall-clock timings on a shared virtual machine vary by tens of per cent.

    python bench/instructions.py [--events 100000]

Writes the replay of bench/common.py (`replay(n)`) to a temporary file, then runs this script
twice under `valgrind --tool=callgrind`: once loading the built-in pack only, once loading it and
scanning the replay; the difference is the scan's cost. Slow (a few minutes for 100k events).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, replay, save, write_jsonl  # noqa: E402


def child(path: str | None) -> None:
    sys.path.insert(0, str(ROOT))
    from vigiles.analysis.rules import load
    from vigiles.pipeline import scan
    ruleset = load()
    if path:
        scan([path], ruleset)


def count(args: list[str]) -> int:
    proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                           __file__, "--child", *args], capture_output=True, text=True, check=True)
    return int(re.search(r"Collected : (\d+)", proc.stderr).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child[0] if args.child else None)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(replay(args.events), Path(tmp) / "replay.jsonl")
        setup, total = count([]), count([str(path)])
    per_event = (total - setup) / args.events
    out = save("instructions", {"command": "python bench/instructions.py", "events": args.events,
                                "setup_instructions": setup, "total_instructions": total,
                                "instructions_per_event": round(per_event)})
    print(f"{args.events} events: {per_event:,.0f} instructions per event -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
