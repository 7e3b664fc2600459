#!/usr/bin/env python3
"""How much of a Sigma rule corpus vigiles translates (default: ../shared/corpora/sigma-linux/process_creation).

Prints the number of files and of rules translated, the translated rules that have no prefilter
needle (they run on every process and action event), every rule left out with its reason, and the
reasons summarised.

    python bench/sigma_coverage.py [PATH ...] [--quiet]
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vigiles.analysis.sigma import load_sigma  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "corpora" / "sigma-linux" / "process_creation"


def reason_kind(reason: str) -> str:
    """A problem's reason without the rule-specific details, for the summary."""
    kinds = []
    for part in reason.split("; "):
        part = re.sub(r"^[A-Za-z]+: (?=regex)", "", part)
        part = re.sub(r"regex not supported by RE2: .*", "regex not supported by RE2", part)
        part = re.sub(r"invalid Sigma: .*", "invalid Sigma", part)
        part = re.sub(r"condition: .*", "condition error", part)
        kinds.append(part)
    return "; ".join(kinds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT])
    parser.add_argument("--quiet", action="store_true", help="only the figures and the summary")
    args = parser.parse_args()
    files = sorted({p for path in args.paths for p in ([path] if path.is_file() else
                                                        [*path.rglob("*.yml"), *path.rglob("*.yaml")])})
    started = time.perf_counter()
    rules, problems = load_sigma(args.paths)
    elapsed = time.perf_counter() - started
    no_needles = [r for r in rules if r.needles is None]
    print(f"files: {len(files)}")
    print(f"translated: {len(rules)} rules ({elapsed:.2f} s)")
    print(f"untranslated: {len(problems)}")
    print(f"translated without prefilter needles: {len(no_needles)}")
    if not args.quiet:
        for rule in no_needles:
            print(f"  {rule.title}  [{Path(rule.source).name}]: {rule.condition}")
    print("categories:", ", ".join(f"{k} {v}" for k, v in Counter(r.category for r in rules).most_common()))
    if problems:
        print("\nuntranslated rules:")
        for problem in problems:
            print(f"  {problem}")
        print("\nreasons:")
        summary = Counter(reason_kind(p.split(": ", 2)[-1]) for p in problems)
        for reason, count in summary.most_common():
            print(f"  {count:4d}  {reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
