#!/usr/bin/env python3
"""How the engine's cost grows with the number of rules and with the length of a command, on one core.

    python bench/bench_scaling.py [--events 4000] [--repeat 2] [--quick]

Rules (10 to 1,000). The pool is the built-in pack (every rule) and the translated SigmaHQ Linux
process_creation rules, in one seeded shuffle; beyond those, rules are synthesised from the Sigma
rules by varying their literals: variant k of a Sigma rule is its YAML with a new id and title and
every word (a run of 2+ letters/digits starting with a letter) of every string value in its
detection replaced by a word drawn (seeded) from the 300 most common words of the ordinary
corpus (nl2bash + tldr), so `Image|endswith: '/curl'` may become `'/find'`. Values under `|re`
and field names are kept. Such rules are nonsense, but their literals are as common as the
corpus's own words, which makes the prefilter pass more events as rules are added: the
unfavourable case for the engine. The first n rules of that order are taken for each n; each
count runs the same replay events (actions; `Engine.analyze` on events already built, a fresh
engine per run) and the best of --repeat is kept.

Command length (100 B to 100 KB). For each length L, events whose input is commands of the replay
(ordinary, with its few % of attacks) joined by newlines until at least L bytes, as a script
an agent pastes would be; distinct commands per event, so the reading cache does not help. The
built-in pack; time per event (one run: every event is a measurement). Enough events per length
to total about 600 KB (3 at least; 150 KB and 2 with --quick).

The growth is summarised by the exponent b of a least-squares fit of log(time) = a + b log(x):
b <= 1 is at most linear. Writes bench/results/scaling.json and docs/img/scaling.png.
"""
from __future__ import annotations

import argparse
import copy
import math
import random
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, SHARED, load_average, machine, ordinary_commands, pin_one_core, replay, save  # noqa: E402

sys.path.insert(0, str(ROOT))
from vigiles.analysis.engine import Engine  # noqa: E402
from vigiles.analysis.rules import RuleSet, load  # noqa: E402
from vigiles.analysis.sigma import load_sigma  # noqa: E402
from vigiles.events import from_dict  # noqa: E402

SIGMA = SHARED / "corpora" / "sigma-linux" / "process_creation"
RULE_COUNTS = (10, 30, 100, 300, 1000)
LENGTHS = (100, 300, 1_000, 3_000, 10_000, 30_000, 100_000)
WORD = re.compile(r"[A-Za-z][A-Za-z0-9_]+")


def vocabulary(size: int = 300) -> list[str]:
    counts = Counter(w.lower() for line in ordinary_commands() for w in WORD.findall(line) if len(w) >= 3)
    return [w for w, _ in counts.most_common(size)]


def _vary(value, rng: random.Random, vocab: list[str]):
    if isinstance(value, str):
        return WORD.sub(lambda m: rng.choice(vocab), value)
    if isinstance(value, list):
        return [_vary(v, rng, vocab) for v in value]
    if isinstance(value, dict):
        return {k: (v if "|re" in str(k) else _vary(v, rng, vocab)) for k, v in value.items()}
    return value


def synthesise(count: int, seed: int = 11) -> list:
    """`count` rules made from the Sigma corpus's rules with their literals varied (see the module doc)."""
    rng = random.Random(seed)
    vocab = vocabulary()
    sources = [yaml.safe_load(p.read_text()) for p in sorted(SIGMA.rglob("*.yml"))]
    sources = [d for d in sources if isinstance(d, dict) and "detection" in d]
    rules: list = []
    with tempfile.TemporaryDirectory() as tmp:
        k = 0
        while len(rules) < count:
            batch = []
            for source in sources:
                doc = copy.deepcopy(source)
                doc["id"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vigiles-bench/{doc.get('id')}/{k}"))
                doc["title"] = f"{doc.get('title', 'rule')} (variant {k})"
                doc["detection"] = {key: (value if key == "condition" else _vary(value, rng, vocab))
                                    for key, value in doc["detection"].items()}
                path = Path(tmp) / f"v{k}_{len(batch)}.yml"
                path.write_text(yaml.safe_dump(doc, sort_keys=False))
                batch.append(path)
            translated, _ = load_sigma(batch)
            rules.extend(translated)
            k += 1
    return rules[:count]


def rule_pool(maximum: int) -> tuple[list, dict]:
    builtin = load().rules
    sigma, _ = load_sigma([SIGMA])
    base = builtin + sigma
    random.Random(5).shuffle(base)
    extra = synthesise(max(0, maximum - len(base)))
    return base + extra, {"builtin": len(builtin), "sigma": len(sigma), "synthesised": len(extra)}


def fit(xs: list[float], ys: list[float]) -> dict:
    """Least squares of log y = a + b log x, and of y = c + d x."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    n = len(xs)
    mx, my = sum(lx) / n, sum(ly) / n
    b = sum((x - mx) * (y - my) for x, y in zip(lx, ly)) / sum((x - mx) ** 2 for x in lx)
    mX, mY = sum(xs) / n, sum(ys) / n
    d = sum((x - mX) * (y - mY) for x, y in zip(xs, ys)) / sum((x - mX) ** 2 for x in xs)
    return {"exponent": round(b, 3), "log_intercept": round(my - b * mx, 4),
            "linear_slope": d, "linear_intercept": mY - d * mX}


def time_events(rules: list, events: list, repeat: int) -> tuple[float, int]:
    best, findings = float("inf"), 0
    for _ in range(repeat):
        engine = Engine(RuleSet(rules=rules))
        started = time.perf_counter()
        findings = sum(len(engine.analyze(e)) for e in events)
        best = min(best, time.perf_counter() - started)
    return best, findings


def length_events(length: int, count: int, commands: list[str], rng: random.Random) -> list:
    events = []
    for i in range(count):
        parts, size = [], 0
        while size < length:
            c = commands[rng.randrange(len(commands))]
            parts.append(c)
            size += len(c.encode()) + 1
        events.append(from_dict({"kind": "action", "ts": 1_764_547_200 + i, "tool": "bash", "input": "\n".join(parts),
                                 "sandbox": f"sbx-{i}", "run": f"run-{i}", "episode": f"ep-{i}"}))
    return events


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4_000, help="events per rule count")
    parser.add_argument("--bytes", type=int, default=600_000, help="bytes of input per command length")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="1,000 events, 150 KB per length, 1 run")
    args = parser.parse_args()
    if args.quick:
        args.events, args.bytes, args.repeat = 1_000, 150_000, 1
    cpu = pin_one_core()
    load_start = load_average()

    pool, made_of = rule_pool(max(RULE_COUNTS))
    events = [from_dict(d) for d in replay(args.events, seed=3)]
    by_rules = []
    for n in RULE_COUNTS:
        seconds, findings = time_events(pool[:n], events, args.repeat)
        by_rules.append({"rules": n, "us_per_event": round(1e6 * seconds / len(events), 2),
                         "events_per_s": round(len(events) / seconds), "findings": findings})
        print(f"{n} rules: {by_rules[-1]['us_per_event']} us/event, {findings} findings")

    builtin = load().rules
    commands = [e["input"] for e in replay(20_000, seed=9)]
    rng = random.Random(1)
    by_length = []  # each length's events are distinct, one run (repeat would only re-time the same work)
    for length in LENGTHS:
        count = max(2 if args.quick else 3, min(2_000, args.bytes // length))
        evs = length_events(length, count, commands, rng)
        mean_bytes = sum(len(e.input.encode()) for e in evs) / len(evs)
        seconds, findings = time_events(builtin, evs, 1)
        by_length.append({"target_bytes": length, "mean_bytes": round(mean_bytes), "events": count,
                          "us_per_event": round(1e6 * seconds / count, 2),
                          "mb_per_s": round(mean_bytes * count / seconds / 1e6, 3), "findings": findings})
        print(f"{length} B: {by_length[-1]['us_per_event']} us/event ({by_length[-1]['mb_per_s']} MB/s)")

    rules_fit = fit([r["rules"] for r in by_rules], [r["us_per_event"] for r in by_rules])
    length_fit = fit([r["mean_bytes"] for r in by_length], [r["us_per_event"] for r in by_length])
    length_fit_1k = fit([r["mean_bytes"] for r in by_length if r["target_bytes"] >= 1_000],
                        [r["us_per_event"] for r in by_length if r["target_bytes"] >= 1_000])
    doc = {"command": "python bench/bench_scaling.py" + (" --quick" if args.quick else ""), "pinned_cpu": cpu,
           "load_average_at_start": load_start, "repeat": args.repeat, "rule_pool": made_of,
           "events_per_rule_count": len(events), "by_rules": by_rules, "rules_fit": rules_fit,
           "by_length": by_length, "length_fit": length_fit, "length_fit_from_1kb": length_fit_1k,
           "at_most_linear": {"rules": rules_fit["exponent"] <= 1.05, "length": length_fit["exponent"] <= 1.05}}
    out = save("scaling", doc)
    plot(doc, ROOT / "docs" / "img" / "scaling.png")
    print(f"exponent with rules {rules_fit['exponent']}, with length {length_fit['exponent']} "
          f"({length_fit_1k['exponent']} from 1 KB) -> {out}")
    return 0


def plot(doc: dict, path: Path) -> None:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed (pip install -e '.[bench]'): no plot", file=sys.stderr)
        return
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, rows, xkey, fitted, xlabel in (
            (left, doc["by_rules"], "rules", doc["rules_fit"], "rules"),
            (right, doc["by_length"], "mean_bytes", doc["length_fit"], "command length (bytes)")):
        xs = [r[xkey] for r in rows]
        ys = [r["us_per_event"] for r in rows]
        ax.loglog(xs, ys, "o-", label="measured")
        a, b = fitted["log_intercept"], fitted["exponent"]
        ax.loglog(xs, [math.exp(a) * x ** b for x in xs], "--", label=f"fit: exponent {b:.2f}")
        ax.loglog(xs, [ys[0] * x / xs[0] for x in xs], ":", color="grey", label="linear from the first point")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("µs per event")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    left.set_title("Cost per event vs number of rules")
    right.set_title("Cost per event vs command length (built-in pack)")
    m = machine()
    fig.suptitle(f"vigiles engine, one core of {m['cpu']} ({m['cores']} cores), Python {m['python']}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
