"""Shared by the benchmarks: the machine description and the replay built from ../shared/corpora."""
from __future__ import annotations

import json
import os
import platform
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("VIGILES_SHARED") or ROOT.parent / "shared")
"""The corpora (../shared beside the project; VIGILES_SHARED names another place, as on a lent machine)."""


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": sys.version.split()[0], "platform": platform.platform(),
            "compiled_modules": _compiled_modules()}


def _compiled_modules() -> int:
    """How many modules of vigiles/_compiled.py run compiled here (0: a pure-Python install)."""
    import importlib
    sys.path.insert(0, str(ROOT))
    from vigiles._compiled import NAMES, compiled
    for name in NAMES:
        importlib.import_module(name)
    return len(compiled())


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


# -- helpers for the suite (bench/run_all.py) --------------------------------------------------------
def pin_one_core() -> int | None:
    """Pin this process to one CPU (the lowest it may use); returns that CPU, or None where not supported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def best_of(repeat: int, fn):
    """Run `fn()` `repeat` times; return (best wall seconds, best CPU seconds, last result).

    The machine the figures come from is shared, so the best of a few runs is the figure least
    disturbed by other work; CPU time (time.process_time) is reported beside wall time.
    """
    import time
    best_wall = best_cpu = float("inf")
    result = None
    for _ in range(max(1, repeat)):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu, result


def percentile(sorted_values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, nearest-rank."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(q / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def argv_of(command: str) -> list[str]:
    """A command line as a process's argv: shlex rules, falling back to whitespace splitting."""
    import shlex
    try:
        argv = shlex.split(command)
    except ValueError:
        argv = command.split()
    return argv or command.split()


def image_of(argv0: str, cwd: str = "/workspace") -> str:
    """A plausible absolute executable path for argv[0]: kept when absolute, joined to `cwd` when
    relative with a slash (./x.sh), else /usr/bin/<name> (where most programs of the corpus live)."""
    import posixpath
    if argv0.startswith("/"):
        return argv0
    if "/" in argv0:
        return posixpath.normpath(posixpath.join(cwd, argv0))
    return "/usr/bin/" + argv0


def process_events(n: int, attack_share: float = 0.03, seed: int = 7) -> list[dict]:
    """`n` process events built from the same replay as `replay(n)`: argv split with shlex, exe = image_of(argv[0]).

    Each event's original command line is kept as `command_line` (an extra field the engine ignores),
    for engines that take a command-line string (Sigma's CommandLine).
    """
    events = []
    for i, action in enumerate(replay(n, attack_share, seed)):
        argv = argv_of(action["input"])
        if not argv:
            argv = ["true"]
        events.append({"kind": "process", "id": f"p{i}", "ts": action["ts"], "pid": 10_000 + i, "ppid": 9_999,
                       "exe": image_of(argv[0]), "argv": argv, "cwd": "/workspace", "user": "agent",
                       "parent_exe": "/usr/bin/bash", "parent_cmdline": "bash", "command_line": action["input"],
                       "sandbox": action["sandbox"], "run": action["run"], "episode": action["episode"]})
    return events
