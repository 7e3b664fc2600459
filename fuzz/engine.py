#!/usr/bin/env python3
"""Coverage-guided fuzzing of the analysis with hostile command text (atheris, libFuzzer).

    pip install -e '.[fuzz]'
    python fuzz/engine.py CORPUS_DIR [-max_total_time=1800] [libFuzzer options]

Every input is one event for `Engine.analyze`, chosen by its first byte: a bash action, a python
action, a shell script or a crontab written with a write tool, a process's argv, or two bash actions
of one run (what the first sets or writes, the second uses). Any exception is a crash (libFuzzer
keeps the input); an input read for longer than SLOW seconds (default 0.5, instrumented) is appended
to slow.txt in the working directory. Seeds: `--seed` writes 1,500 ordinary commands and the Atomic
Red Team commands from ../shared/corpora into CORPUS_DIR. The modules run as Python (instrumented),
not compiled.
"""
from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path

os.environ["VIGILES_PURE_PYTHON"] = "1"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SLOW = float(os.environ.get("SLOW", "0.5"))
_runs = itertools.count()


def event_of(mode: int, text: str, run: int) -> dict:
    base = {"ts": 1.0, "run": f"r{run}", "episode": "e", "step": 1}
    if mode == 1:
        return {"kind": "action", "tool": "python", "input": text, **base}
    if mode == 2:
        return {"kind": "action", "tool": "write_file", "args": {"path": "/tmp/x.sh", "content": text}, **base}
    if mode == 3:
        return {"kind": "action", "tool": "write_file", "args": {"path": "/etc/cron.d/x", "content": text}, **base}
    if mode == 4:
        return {"kind": "process", "pid": 5, "ppid": 1, "exe": "/bin/sh", "argv": text.split(" ")[:64], **base}
    return {"kind": "action", "tool": "bash", "input": text, **base}


def seed(directory: Path) -> None:
    import hashlib
    import random
    sys.path.insert(0, str(ROOT / "bench"))
    from common import attack_commands, ordinary_commands
    rng = random.Random(1)
    directory.mkdir(parents=True, exist_ok=True)
    for command in rng.sample(ordinary_commands(), 1500) + attack_commands():
        data = bytes([rng.choice([0, 0, 0, 1, 2, 3, 4, 5])]) + command.encode()
        (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main() -> None:
    if "--seed" in sys.argv:
        seed(Path(sys.argv[sys.argv.index("--seed") + 1]))
        return
    import atheris
    with atheris.instrument_imports(include=["vigiles"]):
        from vigiles.analysis.engine import Engine
        from vigiles.analysis.rules import load
        from vigiles.events import from_dict
    engine = Engine(load())

    def one(data: bytes) -> None:
        if not data:
            return
        mode, text, run = data[0] % 6, data[1:].decode("utf-8", "replace"), next(_runs)
        started = time.perf_counter()
        if mode == 5:
            half = len(text) // 2
            engine.analyze(from_dict(event_of(0, text[:half], run)))
            engine.analyze(from_dict(event_of(0, text[half:], run)))
        else:
            engine.analyze(from_dict(event_of(mode, text, run)))
        took = time.perf_counter() - started
        if took > SLOW:
            with open("slow.txt", "a") as out:
                out.write(f"{took:.2f}s mode={mode} len={len(text)} {text!r}\n")

    atheris.Setup(sys.argv, one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
