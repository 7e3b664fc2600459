"""Shared by the benchmarks: the machine description and the replay built from ../shared/corpora."""
from __future__ import annotations

import json
import os
import platform
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform()}


def ordinary_commands() -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from eval_corpora import tldr_command
    lines = [l for l in (SHARED / "corpora" / "nl2bash" / "all.cm.head8000").read_text(errors="replace").splitlines() if l.strip()]
    for line in (SHARED / "corpora" / "tldr" / "commands.tsv").read_text(errors="replace").splitlines():
        if "\t" in line:
            lines.append(tldr_command(line.split("\t", 1)[1]))
    return lines


def attack_commands() -> list[str]:
    sys.path.insert(0, str(ROOT / "bench"))
    from eval_corpora import atomic_positives
    return [p["command"] for p in atomic_positives(SHARED)[0]]


def replay(n: int, attack_share: float = 0.03, seed: int = 7) -> list[dict]:
    """`n` action events: ordinary commands with `attack_share` of attack commands mixed in."""
    rng = random.Random(seed)
    ordinary, attacks = ordinary_commands(), attack_commands()
    events = []
    for i in range(n):
        pool = attacks if rng.random() < attack_share else ordinary
        events.append({"kind": "action", "ts": 1_764_547_200 + i * 0.01, "tool": "bash", "input": rng.choice(pool),
                       "sandbox": f"sbx-{i % 500}", "run": f"run-{i % 500}", "episode": f"ep-{i % 2000}", "step": i // 2000})
    return events


def write_jsonl(events: list[dict], path: Path) -> Path:
    with open(path, "w") as f:
        for event in events:
            f.write(json.dumps(event) + "\n")
    return path


def save(name: str, doc: dict) -> Path:
    out = ROOT / "bench" / "results" / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"machine": machine(), **doc}, indent=2) + "\n")
    return out
