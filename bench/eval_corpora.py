#!/usr/bin/env python3
"""Detection quality on corpora nobody on the team wrote (../shared/corpora).

Positives: the Linux tests of the Atomic Red Team techniques in atomic-red-team.categories.tsv, with
input arguments replaced by their defaults. Negatives: nl2bash (all.cm.head8000) and tldr
(commands.tsv, each {{placeholder}} replaced by its text, and tldr's alternatives {{[-x|--long]}} and
{{a|b}} by their first choice, as a person running the command would write it), except the lines
labelled positive or ambiguous in
bench/corpus_labels.tsv, each with a reason.

A positive is detected when vigiles raises an alert (a finding of severity medium or above) on it;
a negative is a false positive when it raises an alert. Prints recall per category, false-positive
rates, evasion robustness, and every miss and false positive. Also: the mining pools Falco's sandbox
rules list (falco-rules/falco-sandbox_rules.yaml), each as a DNS query and as a command.

    python bench/eval_corpora.py [--shared ../shared] [--json bench/results/detection.json] [--quiet]
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vigiles.analysis.engine import Engine  # noqa: E402
from vigiles.analysis.evasion import variants  # noqa: E402
from vigiles.analysis.rules import SEVERITY_RANK, load  # noqa: E402
from vigiles.events import from_dict  # noqa: E402

ALERT = SEVERITY_RANK["medium"]


def atomic_positives(shared: Path) -> tuple[list[dict], list[str]]:
    table = shared / "corpora" / "atomic-red-team.categories.tsv"
    out, skipped = [], []
    for line in table.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        technique, category = line.split("\t")[:2]
        doc = yaml.safe_load((shared / "corpora" / "atomic-red-team" / "atomics" / technique /
                              f"{technique}.yaml").read_text())
        for number, test in enumerate(doc.get("atomic_tests", []), 1):
            if "linux" not in test.get("supported_platforms", []):
                continue
            executor = test.get("executor") or {}
            command = executor.get("command") or ""
            defaults = {k: str((v or {}).get("default", "")) for k, v in (test.get("input_arguments") or {}).items()}
            for key, value in defaults.items():
                command = command.replace("#{" + key + "}", value)
            name = f"{technique}-{number} {test.get('name', '')}"
            if not command.strip():
                skipped.append(f"{name} (executor {executor.get('name')}: no command to read)")
                continue
            out.append({"id": name, "technique": technique, "category": category, "command": command})
    return out, skipped


def negatives(shared: Path) -> dict[str, list[tuple[str, str]]]:
    nl2bash = shared / "corpora" / "nl2bash" / "all.cm.head8000"
    tldr = shared / "corpora" / "tldr" / "commands.tsv"
    out = {"nl2bash": [], "tldr": []}
    for number, line in enumerate(nl2bash.read_text(errors="replace").splitlines(), 1):
        if line.strip():
            out["nl2bash"].append((f"nl2bash:{number}", line))
    for number, line in enumerate(tldr.read_text(errors="replace").splitlines(), 1):
        if "\t" not in line:
            continue
        page, command = line.split("\t", 1)
        out["tldr"].append((f"tldr:{number}", tldr_command(command)))
    return out


_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")


def tldr_command(command: str) -> str:
    """A tldr example as a person would type it: `{{path/to/file}}` -> `path/to/file`, and tldr's
    alternatives `{{[-o|--output]}}` or `{{tcp|udp}}` -> the first one (`-o`, `tcp`)."""
    def fill(match: re.Match) -> str:
        inner = match.group(1)
        if inner.startswith("[") and inner.endswith("]") and "|" in inner:
            return inner[1:-1].split("|", 1)[0]
        if "|" in inner and " " not in inner:
            return inner.split("|", 1)[0]
        return inner
    return _PLACEHOLDER.sub(fill, command)


def labels(paths: list[Path]) -> dict[str, tuple[str, str]]:
    found = {}
    for path in paths:
        with open(path, newline="") as stream:
            for row in csv.reader(stream, delimiter="\t"):
                if row and not row[0].startswith("#") and len(row) >= 3:
                    if row[1] not in ("positive", "ambiguous"):
                        raise SystemExit(f"{path}: label for {row[0]} must be positive or ambiguous")
                    if not row[2].strip():
                        raise SystemExit(f"{path}: {row[0]} needs a reason")
                    found[row[0]] = (row[1], row[2])
    return found


def alerts(engine: Engine, command: str, sandbox: str) -> list:
    return event_alerts(engine, {"kind": "action", "ts": 0, "tool": "bash", "input": command, "sandbox": sandbox})


def event_alerts(engine: Engine, raw: dict) -> list:
    return [f for f in engine.analyze(from_dict(raw)) if SEVERITY_RANK[f.severity] >= ALERT]


FALCO_MINER_LISTS = ("miner_domains", "https_miner_domains", "http_miner_domains")


def falco_miner_domains(shared: Path) -> list[str]:
    """The mining pools Falco's sandbox rules name (falco-sandbox_rules.yaml), each list's items."""
    path = shared / "corpora" / "falco-rules" / "falco-sandbox_rules.yaml"
    if not path.exists():
        return []
    found = set()
    for item in yaml.safe_load(path.read_text()) or []:
        if isinstance(item, dict) and item.get("list") in FALCO_MINER_LISTS:
            found.update(str(d).strip() for d in item.get("items") or [])
    return sorted(d for d in found if d)


def pool_recall(engine: Engine, domains: list[str]) -> dict:
    """Each pool seen twice: a host sensor's DNS query for it (a network event) and an agent's command
    connecting to it (curl https://POOL/); detected on an alert."""
    missed = {"dns": [], "command": []}
    for domain in domains:
        dns = {"kind": "network", "ts": 0, "proto": "udp", "dst": "10.0.0.2", "dport": 53, "dns_query": domain,
               "sandbox": "falco"}
        if not event_alerts(engine, dns):
            missed["dns"].append(domain)
        if not alerts(engine, f"curl -s https://{domain}/", "falco"):
            missed["command"].append(domain)
    return {"domains": len(domains), "missed": missed}


def write_markdown(path, per_cat, fp_report, evasion, evasion_total, skipped, misses, label, elapsed,
                   pools=None) -> None:
    total = sum(s[0] for s in per_cat.values())
    detected = sum(s[1] for s in per_cat.values())
    right = sum(s[2] for s in per_cat.values())
    lines = [
        "# Detection quality",
        "",
        "Measured on corpora nobody on the team wrote, read from `../shared/corpora` by",
        "`python bench/eval_corpora.py --markdown docs/detection.md` (this file is its output).",
        "",
        "- **Positives**: the Linux tests of the Atomic Red Team techniques listed in",
        "  `atomic-red-team.categories.tsv`, input arguments replaced by their defaults, each run as one",
        "  `bash` action. A positive is **detected** when vigiles raises an alert (a finding of severity",
        "  medium or above); *right category* counts those where an alert has the test's category.",
        "- **Negatives**: every line of `nl2bash/all.cm.head8000` and `tldr/commands.tsv` (tldr's",
        "  `{{placeholders}}` replaced by their text and `{{[-x|--long]}}` alternatives by the first), except",
        "  the lines labelled positive or ambiguous, with",
        "  a reason each, in `bench/corpus_labels*.tsv`. A negative is a **false positive** when it raises",
        "  an alert.",
        "",
        "## Recall per category",
        "",
        "| category | tests | detected | recall | right category |",
        "|---|---|---|---|---|",
    ]
    for category in sorted(per_cat):
        t, d, r = per_cat[category]
        lines.append(f"| {category} | {t} | {d} | {d / t:.2f} | {r / t:.2f} |")
    lines.append(f"| **overall** | {total} | {detected} | **{detected / total:.2f}** | {right / total:.2f} |")
    lines += ["", f"{len(skipped)} Linux tests have no command to read (manual executors) and are left out:", ""]
    lines += [f"- {s}" for s in skipped]
    lines += ["", "## False positives (alerts)", "",
              "| corpus | lines | labelled, left out | false positives | rate | alerts on every line (labels ignored) |",
              "|---|---|---|---|---|---|"]
    for corpus, rep in fp_report.items():
        lines.append(f"| {corpus} | {rep['total']} | {rep['excluded']} | {rep['false_positives']} | {rep['rate'] * 100:.2f}% "
                     f"| {rep['alerts_on_all_lines']} ({rep['rate_on_all_lines'] * 100:.2f}%) |")
    lines += ["", "The last column counts alerts on every line, labelled or not: tldr documents offensive and",
              "tunnelling tools (nmap, hydra, ngrok, chisel, tor, ...), whose examples are the very behaviours",
              "vigiles exists to flag; the labels, each with its reason, say which lines those are."]
    counts = {}
    for ident, (lab, _) in label.items():
        key = (ident.split(":")[0], lab)
        counts[key] = counts.get(key, 0) + 1
    lines += ["", "Labelled lines: " + ", ".join(f"{c} {corpus} {lab}" for (corpus, lab), c in sorted(counts.items())) + "."]
    if evasion_total:
        ok, all_total = sum(evasion.values()), sum(evasion_total.values())
        lines += ["", "## Evasion", "",
                  "Each detected positive rewritten as an agent hiding it would (`vigiles/analysis/evasion.py`):",
                  "", "| variant | detected | of | rate |", "|---|---|---|---|"]
        for name in sorted(evasion_total):
            lines.append(f"| {name} | {evasion[name]} | {evasion_total[name]} | {evasion[name] / evasion_total[name]:.3f} |")
        lines.append(f"| **all** | {ok} | {all_total} | **{ok / all_total:.3f}** |")
    if pools and pools["domains"]:
        n = pools["domains"]
        lines += ["", "## Falco's mining pools", "",
                  f"The {n} pools of Falco's `miner_domains`, `https_miner_domains` and `http_miner_domains` lists",
                  "(`falco-rules/falco-sandbox_rules.yaml`), each as a DNS query a host sensor saw and as an agent's",
                  "`curl https://POOL/`:", "", "| seen as | detected | of | missed |", "|---|---|---|---|"]
        for kind in ("dns", "command"):
            missed = pools["missed"][kind]
            lines.append(f"| {kind} | {n - len(missed)} | {n} | {', '.join(missed) or 'none'} |")
    lines += ["", "## Misses", ""]
    lines += [f"- [{p['category']}] {p['id']}" for p in misses] or ["none"]
    lines += ["", f"(evaluation took {elapsed:.0f} s)", ""]
    path.write_text("\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--labels", type=Path, nargs="*",
                        default=sorted((ROOT / "bench").glob("corpus_labels*.tsv")))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--quiet", action="store_true", help="only the summary tables")
    parser.add_argument("--no-evasion", action="store_true")
    parser.add_argument("--markdown", type=Path, default=None, help="write the summary tables here (docs/detection.md)")
    args = parser.parse_args()

    ruleset = load()
    if ruleset.problems:
        print("rule problems:", *ruleset.problems, sep="\n  ")
    engine = Engine(ruleset)
    started = time.perf_counter()
    positives, skipped = atomic_positives(args.shared)
    per_cat = defaultdict(lambda: [0, 0, 0])  # total, detected, right category
    misses = []
    evasion = Counter()
    evasion_total = Counter()
    evasion_misses = []
    for index, pos in enumerate(positives):
        found = alerts(engine, pos["command"], f"pos{index}")
        stats = per_cat[pos["category"]]
        stats[0] += 1
        if found:
            stats[1] += 1
            stats[2] += any(f.category == pos["category"] for f in found)
            if not args.no_evasion:
                for name, variant in variants(pos["command"]).items():
                    evasion_total[name] += 1
                    if alerts(engine, variant, f"pos{index}-{name}"):
                        evasion[name] += 1
                    else:
                        evasion_misses.append(f"{pos['id']} [{name}]")
        else:
            misses.append(pos)
    label = labels(args.labels)
    fp_report = {}
    for corpus, lines in negatives(args.shared).items():
        fps, excluded, total, labelled_alerts = [], 0, 0, 0
        for ident, command in lines:
            found = alerts(engine, command, f"neg-{ident}")  # (each line its own run: they are unrelated)
            if ident in label:
                excluded += 1
                labelled_alerts += bool(found)
                continue
            total += 1
            if found:
                fps.append((ident, command, sorted({f.rule for f in found})))
        fp_report[corpus] = {"total": total, "excluded": excluded, "false_positives": len(fps),
                             "rate": len(fps) / total if total else 0.0, "lines": fps,
                             "alerts_on_all_lines": len(fps) + labelled_alerts,
                             "rate_on_all_lines": (len(fps) + labelled_alerts) / len(lines) if lines else 0.0}
    pools = pool_recall(engine, falco_miner_domains(args.shared))
    elapsed = time.perf_counter() - started

    total = sum(s[0] for s in per_cat.values())
    detected = sum(s[1] for s in per_cat.values())
    print(f"\nAtomic Red Team Linux tests: {total} read ({len(skipped)} without a command skipped)")
    print(f"{'category':24} {'tests':>5} {'detected':>8} {'recall':>7} {'right cat.':>10}")
    for category in sorted(per_cat):
        t, d, r = per_cat[category]
        print(f"{category:24} {t:5d} {d:8d} {d / t:7.2f} {r / t:10.2f}")
    print(f"{'overall':24} {total:5d} {detected:8d} {detected / total:7.2f}")
    print("\nFalse positives (alerts, medium and above):")
    for corpus, rep in fp_report.items():
        print(f"  {corpus:8} {rep['false_positives']:4d} / {rep['total']:5d} = {rep['rate'] * 100:.2f}%"
              f"  ({rep['excluded']} labelled lines excluded; alerts on every line, labels ignored: "
              f"{rep['alerts_on_all_lines']} = {rep['rate_on_all_lines'] * 100:.2f}%)")
    if evasion_total:
        all_ok, all_total = sum(evasion.values()), sum(evasion_total.values())
        print(f"\nEvasion variants of detected positives: {all_ok}/{all_total} = {all_ok / all_total:.3f}")
        for name in sorted(evasion_total):
            print(f"  {name:26} {evasion[name]:4d}/{evasion_total[name]:4d} = {evasion[name] / evasion_total[name]:.3f}")
    if pools["domains"]:
        print(f"\nFalco's mining pools ({pools['domains']}): " + "; ".join(
            f"{kind} {pools['domains'] - len(missed)}/{pools['domains']}" + (f" (missed: {', '.join(missed)})" if missed else "")
            for kind, missed in pools["missed"].items()))
    print(f"\n({elapsed:.1f} s)")
    if not args.quiet:
        print("\nMisses:")
        for pos in misses:
            print(f"  [{pos['category']}] {pos['id']}: {pos['command'][:300]!r}")
        print("\nSkipped (no command):", *skipped, sep="\n  ")
        for corpus, rep in fp_report.items():
            print(f"\nFalse positives in {corpus}:")
            for ident, command, rules in rep["lines"]:
                print(f"  {ident}: {command[:200]!r} -> {', '.join(rules)}")
        if evasion_misses:
            print("\nEvasion misses:", *evasion_misses, sep="\n  ")
    if args.markdown:
        write_markdown(args.markdown, per_cat, fp_report, evasion, evasion_total, skipped, misses, label, elapsed, pools)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({
            "recall": {c: {"tests": s[0], "detected": s[1], "right_category": s[2]} for c, s in per_cat.items()},
            "overall_recall": detected / total if total else 0,
            "false_positives": {c: {k: v for k, v in r.items() if k != "lines"} for c, r in fp_report.items()},
            "evasion": {n: {"detected": evasion[n], "total": evasion_total[n]} for n in evasion_total},
            "skipped": skipped, "misses": [p["id"] for p in misses],
            "falco_mining_pools": pools,
        }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
