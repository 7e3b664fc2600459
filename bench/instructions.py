#!/usr/bin/env python3
"""Instructions per event of `vigiles.pipeline.scan`, counted by valgrind: a figure that repeats
exactly, where wall-clock timings on a shared virtual machine vary by tens of per cent.

    python bench/instructions.py [--events 100000]

Writes the replay of bench/common.py (`replay(n)`) to a temporary file, then runs this script
twice under `valgrind --tool=callgrind`: once loading the built-in pack only, once loading it and
scanning the replay; the difference is the scan's cost. It does so for the package as installed
(with the modules of vigiles/_compiled.py compiled, where they were) and again as pure Python
(VIGILES_PURE_PYTHON=1). Slow (about ten minutes for 100k events).
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, machine, replay, save, write_jsonl  # noqa: E402


def child(path: str | None) -> None:
    sys.path.insert(0, str(ROOT))
    from vigiles.analysis.rules import load
    from vigiles.pipeline import scan
    ruleset = load()
    if path:
        scan([path], ruleset)


def count(args: list[str], pure: bool) -> subprocess.Popen:
    """A valgrind run of the child, started (its count is read by `collected`)."""
    env = dict(os.environ, VIGILES_PURE_PYTHON="1") if pure else {k: v for k, v in os.environ.items()
                                                                 if k != "VIGILES_PURE_PYTHON"}
    return subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                             __file__, "--child", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)


def collected(proc: subprocess.Popen) -> int:
    _, err = proc.communicate()
    if proc.returncode:
        raise SystemExit(err[-2000:])
    return int(re.search(r"Collected : (\d+)", err).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child[0] if args.child else None)
        return 0
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = write_jsonl(replay(args.events), Path(tmp) / "replay.jsonl")
        for pure in (False, True):  # the two runs of a build side by side, one per core
            setup, scanned = count([], pure), count([str(path)], pure)
            figures[pure] = (collected(setup), collected(scanned))
    doc = {"command": "python bench/instructions.py", "events": args.events}
    for pure, key in ((False, "instructions_per_event"), (True, "pure_python_instructions_per_event")):
        setup, total = figures[pure]
        doc[key] = round((total - setup) / args.events)
    out = save("instructions", doc)
    print(f"{args.events} events: {doc['instructions_per_event']:,} instructions per event as installed "
          f"({machine()['compiled_modules']} modules compiled), {doc['pure_python_instructions_per_event']:,} "
          f"as pure Python -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
