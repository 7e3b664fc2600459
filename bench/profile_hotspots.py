#!/usr/bin/env python3
"""Where the engine's time goes: cProfile of three workloads, one core; writes bench/results/hotspots.json.

    python bench/profile_hotspots.py [--quick]

  replay_builtin: 20,000 replay actions (bench/common.py), built-in pack, Engine.analyze
  sigma_process:  10,000 process events of the same replay, the translated SigmaHQ rules
  long_command:   3 actions of ~20 KB (replay commands joined by newlines), built-in pack
Each reports the engine's prefilter counts and the 12 functions with the most own time (tottime),
as a share of the profiled total. cProfile slows Python code down, so shares matter, not seconds.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SHARED, pin_one_core, process_events, replay, save  # noqa: E402

sys.path.insert(0, str(ROOT))
from vigiles.analysis.engine import Engine  # noqa: E402
from vigiles.analysis.rules import RuleSet, load  # noqa: E402
from vigiles.analysis.sigma import load_sigma  # noqa: E402
from vigiles.events import from_dict  # noqa: E402


def profile(rules: list, events: list) -> dict:
    engine = Engine(RuleSet(rules=rules))
    prof = cProfile.Profile()
    prof.enable()
    for event in events:
        engine.analyze(event)
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]
    top = [{"function": f"{Path(f).name}:{line}({name})", "calls": nc, "tottime_s": round(tt, 3),
            "share": round(tt / total, 3), "cumtime_s": round(ct, 3)}
           for (f, line, name), (cc, nc, tt, ct, _) in rows]
    return {"events": len(events), "profiled_seconds": round(total, 3), **engine.stats, "top_by_own_time": top}


def prefilter_report(rules: list) -> dict:
    """Which rules send the corpus's distinct ordinary commands to the parser: the engine's own
    decision (needles, then each rule's other literals, obfuscation signs), one fresh engine."""
    from collections import Counter

    from common import ordinary_commands
    from vigiles.analysis.engine import _builds_words, _lower
    engine = Engine(RuleSet(rules=rules))
    commands = sorted(set(ordinary_commands()))
    sole, candidates = Counter(), Counter()
    for index, text in enumerate(commands):
        event = from_dict({"kind": "action", "ts": 1_764_547_200 + index, "tool": "bash", "input": text,
                           "sandbox": f"s{index}"})
        before = engine.parsed
        engine.analyze(event)
        if engine.parsed == before:
            continue
        lowered = _lower(text)
        found, marked = engine.candidates(lowered)
        if found and not _builds_words(lowered):
            engine.narrow(found, lowered)
        candidates.update(engine.rules[i].id for i in found)
        if len(found) == 1:
            sole[engine.rules[next(iter(found))].id] += 1
        elif not found:
            sole["(obfuscation sign or variables)" if marked or not _builds_words(lowered) else "(no rule)"] += 1
    return {"distinct_ordinary_commands": len(commands), "passed": engine.parsed,
            "passed_share": round(engine.parsed / len(commands), 3),
            "top_sole_reasons": sole.most_common(10), "top_candidate_rules": candidates.most_common(10)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a quarter of the events")
    args = parser.parse_args()
    scale = 4 if args.quick else 1
    pin_one_core()
    builtin = load().rules
    sigma, _ = load_sigma([SHARED / "corpora" / "sigma-linux" / "process_creation"])
    doc = {"command": "python bench/profile_hotspots.py" + (" --quick" if args.quick else "")}
    doc["replay_builtin"] = profile(builtin, [from_dict(d) for d in replay(20_000 // scale)])
    procs = [{k: v for k, v in d.items() if k != "command_line"} for d in process_events(10_000 // scale)]
    doc["sigma_process"] = profile(sigma, [from_dict(d) for d in procs])
    commands = [e["input"] for e in replay(5_000, seed=9)]
    rng = random.Random(1)
    longs = []
    for i in range(3):
        parts = []
        while sum(len(p) + 1 for p in parts) < 20_000:
            parts.append(commands[rng.randrange(len(commands))])
        longs.append(from_dict({"kind": "action", "ts": 1_764_547_200 + i, "tool": "bash", "input": "\n".join(parts)}))
    doc["long_command"] = profile(builtin, longs)
    doc["prefilter_on_ordinary_commands"] = prefilter_report(builtin)
    out = save("hotspots", doc)
    for name in ("replay_builtin", "sigma_process", "long_command"):
        r = doc[name]
        print(f"{name}: {r['events']} events, parsed {r['parsed']}, skipped {r['skipped_by_prefilter']}, "
              f"reused {r['reused']}")
        for row in r["top_by_own_time"][:6]:
            print(f"   {row['share'] * 100:5.1f}%  {row['function']}  ({row['calls']} calls)")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
