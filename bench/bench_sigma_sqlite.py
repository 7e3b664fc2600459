#!/usr/bin/env python3
"""SigmaHQ's Linux process_creation rules run by vigiles and by pySigma's SQLite backend, side by side.

    python bench/bench_sigma_sqlite.py [--events 20000] [--repeat 3] [--quick]

The SQLite side is the approach Zircolite takes: `sigma.backends.sqlite.sqliteBackend` turns each
rule into a `SELECT ... FROM logs WHERE ...` query; the events are rows of an in-memory table
`logs` (Image, CommandLine, ParentImage, ParentCommandLine, User, CurrentDirectory, LogonId,
ProcessId, ParentProcessId); `REGEXP` is a Python function (`re.search`, as Zircolite registers it).

Both sides get the same process events, built from the replay (bench/common.py `process_events`):
argv = the command split with shlex (whitespace split when shlex fails), exe/Image =
`image_of(argv[0])` (absolute kept, ./x joined to /workspace, a bare name as /usr/bin/<name>),
CommandLine (SQLite) = the command line string as written, parent /usr/bin/bash ("bash"),
user "agent", cwd /workspace. vigiles's own CommandLine for a process is argv joined by spaces
(docs/sigma.md); a control run of the SQLite queries with that joined string tells which
differences come from the two CommandLine texts alone.

Timed, best of --repeat, one core:
  vigiles: `from_dict` of every event dict + `Engine.analyze` of each (the engine built beforehand
           from the translated rules; a fresh engine per repeat, so its reading cache starts cold).
  SQLite:  building every row tuple from the same dicts, connecting to ':memory:', registering
           REGEXP, CREATE TABLE, executemany INSERT, then every rule's query run and fetched
           (the backend's query with `SELECT *` narrowed to `SELECT rowid`, which only helps SQLite).
Not timed on either side: loading and translating/converting the rules.
"""
from __future__ import annotations

import argparse
import re
import sqlite3
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SHARED, best_of, load_average, pin_one_core, process_events, save  # noqa: E402

sys.path.insert(0, str(ROOT))
from vigiles.analysis.engine import Engine  # noqa: E402
from vigiles.analysis.rules import RuleSet  # noqa: E402
from vigiles.analysis.sigma import load_sigma  # noqa: E402
from vigiles.events import from_dict  # noqa: E402

SIGMA = SHARED / "corpora" / "sigma-linux" / "process_creation"
COLUMNS = ("Image", "CommandLine", "ParentImage", "ParentCommandLine", "User", "CurrentDirectory", "LogonId",
           "ProcessId", "ParentProcessId")


def sqlite_queries(paths: list[Path]) -> dict[str, tuple[str, str]]:
    """Sigma id -> (file name, SQL) for every rule the SQLite backend converts."""
    from sigma.backends.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection
    backend = sqliteBackend()
    out = {}
    for path in paths:
        collection = SigmaCollection.from_yaml(path.read_text(), collect_errors=True)
        for rule in collection:
            try:
                queries = backend.convert_rule(rule)
            except Exception as exc:  # noqa: BLE001 - reported
                print(f"SQLite backend cannot convert {path.name}: {exc}", file=sys.stderr)
                continue
            sql = " UNION ".join(q.replace("SELECT * FROM", "SELECT rowid FROM", 1) for q in queries)
            out[str(rule.id)] = (path.name, sql)
    return out


def _regexp(pattern: str, value) -> int:
    """Zircolite's REGEXP: re.search(pattern, value), no flags; NULL never matches."""
    if value is None:
        return 0
    return 1 if re.search(pattern, value) else 0


def row_of(d: dict, joined: bool) -> tuple:
    line = " ".join(d["argv"]) if joined else d["command_line"]
    return (d["exe"], line, d["parent_exe"], d["parent_cmdline"], d["user"], d["cwd"], None, d["pid"], d["ppid"])


def run_sqlite(dicts: list[dict], queries: dict[str, tuple[str, str]], joined: bool = False) -> set[tuple[int, str]]:
    rows = [row_of(d, joined) for d in dicts]
    db = sqlite3.connect(":memory:")
    db.create_function("regexp", 2, _regexp, deterministic=True)
    db.execute(f"CREATE TABLE logs ({', '.join(COLUMNS)})")
    db.executemany(f"INSERT INTO logs VALUES ({', '.join('?' * len(COLUMNS))})", rows)
    pairs = set()
    for sigma_id, (_, sql) in queries.items():
        for (rowid,) in db.execute(sql).fetchall():
            pairs.add((rowid - 1, sigma_id))
    db.close()
    return pairs


def run_vigiles(dicts: list[dict], rules) -> set[tuple[int, str]]:
    engine = Engine(RuleSet(rules=rules))
    pairs = set()
    for d in dicts:
        event = from_dict(d)
        for finding in engine.analyze(event):
            pairs.add((int(event.id[1:]), finding.rule[len("sigma:"):]))
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3,000 events, 2 repeats")
    args = parser.parse_args()
    if args.quick:
        args.events, args.repeat = 3_000, 2
    cpu = pin_one_core()
    load_start = load_average()
    paths = sorted(p for p in SIGMA.rglob("*.yml"))
    rules, problems = load_sigma(paths)
    queries = sqlite_queries(paths)
    vigiles_ids = {r.id[len("sigma:"):] for r in rules}
    common_queries = {k: v for k, v in queries.items() if k in vigiles_ids}
    dicts = process_events(args.events)

    # Warm both (imports, caches of the regex module), then time.
    run_vigiles(dicts[:500], rules)
    run_sqlite(dicts[:500], common_queries)
    v_wall, v_cpu, v_pairs = best_of(args.repeat, lambda: run_vigiles(dicts, rules))
    # What bounds the ratio from the vigiles side: making the events alone (no rule runs).
    e_wall, _, _ = best_of(args.repeat, lambda: [from_dict(d) for d in dicts])
    s_wall, s_cpu, s_pairs = best_of(args.repeat, lambda: run_sqlite(dicts, common_queries))
    s_all_wall, s_all_cpu, s_all_pairs = best_of(1, lambda: run_sqlite(dicts, queries))
    joined_pairs = run_sqlite(dicts, common_queries, joined=True)

    n = len(dicts)
    files = {k: v[0] for k, v in queries.items()}
    only_v, only_s = sorted(v_pairs - s_pairs), sorted(s_pairs - v_pairs)
    differences = []
    for kind, pairs in (("vigiles only", only_v), ("sqlite only", only_s)):
        by_rule = defaultdict(list)
        for i, rid in pairs:
            by_rule[rid].append(i)
        for rid, idx in sorted(by_rule.items(), key=lambda kv: -len(kv[1])):
            joined_agrees = sum(((i, rid) in joined_pairs) == (kind == "vigiles only") for i in idx)
            differences.append({
                "side": kind, "rule": rid, "file": files.get(rid, "?"), "pairs": len(idx),
                "explained_by_commandline_joining": joined_agrees,
                "examples": [{"event": f"p{i}", "command_line": dicts[i]["command_line"][:300],
                              "exe": dicts[i]["exe"]} for i in idx[:5]],
            })
    doc = {
        "command": "python bench/bench_sigma_sqlite.py" + (" --quick" if args.quick else ""),
        "pinned_cpu": cpu, "load_average_at_start": load_start, "repeat": args.repeat,
        "events": n, "attack_share": 0.03,
        "rules_in_corpus_files": len(paths), "sqlite_rules_converted": len(queries),
        "vigiles_rules_translated": len(rules), "vigiles_problems": problems,
        "rules_compared": len(common_queries),
        "vigiles": {"seconds": round(v_wall, 3), "cpu_seconds": round(v_cpu, 3), "events_per_s": round(n / v_wall),
                    "events_per_s_cpu": round(n / v_cpu), "pairs": len(v_pairs)},
        "sqlite": {"seconds": round(s_wall, 3), "cpu_seconds": round(s_cpu, 3), "events_per_s": round(n / s_wall),
                   "events_per_s_cpu": round(n / s_cpu), "pairs": len(s_pairs)},
        "sqlite_all_rules": {"rules": len(queries), "seconds": round(s_all_wall, 3), "events_per_s": round(n / s_all_wall),
                             "pairs": len(s_all_pairs)},
        "events_only": {"seconds": round(e_wall, 3), "what": "from_dict of every event dict, no rule run",
                        "share_of_sqlite": round(e_wall / s_wall, 3),
                        "ratio_bound": round(s_wall / e_wall, 1)},
        "ratio_vigiles_over_sqlite": round(s_wall / v_wall, 2),
        "ratio_vigiles_over_sqlite_cpu": round(s_cpu / v_cpu, 2),
        "target_ratio": 10.0,
        "agreement": {"both": len(v_pairs & s_pairs), "vigiles_only": len(only_v), "sqlite_only": len(only_s),
                      "events_flagged_vigiles": len({i for i, _ in v_pairs}),
                      "events_flagged_sqlite": len({i for i, _ in s_pairs}),
                      "sqlite_with_joined_commandline_pairs": len(joined_pairs),
                      "vigiles_vs_joined_only_v": len(v_pairs - joined_pairs),
                      "vigiles_vs_joined_only_s": len(joined_pairs - v_pairs)},
        "rules_firing": {"vigiles": Counter(r for _, r in v_pairs).most_common(),
                         "sqlite": Counter(r for _, r in s_pairs).most_common()},
        "differences": differences,
        "timed": {"vigiles": "from_dict + Engine.analyze per event (engine built beforehand, cold cache per repeat)",
                  "sqlite": "row tuples + :memory: connect + CREATE TABLE + executemany INSERT + every rule's query "
                            "(SELECT rowid) executed and fetched"},
    }
    out = save("sigma_sqlite", doc)
    print(f"{n} process events, {len(common_queries)} rules on both sides, one core (best of {args.repeat}):")
    print(f"  vigiles {n / v_wall:,.0f} events/s ({v_wall:.2f} s; CPU {n / v_cpu:,.0f}/s)")
    print(f"  SQLite  {n / s_wall:,.0f} events/s ({s_wall:.2f} s; CPU {n / s_cpu:,.0f}/s)")
    print(f"  ratio {s_wall / v_wall:.2f}x (CPU {s_cpu / v_cpu:.2f}x); pairs: both {len(v_pairs & s_pairs)}, "
          f"vigiles only {len(only_v)}, SQLite only {len(only_s)} -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
