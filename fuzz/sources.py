#!/usr/bin/env python3
"""Type-confusion fuzzing of every source reader: nothing may escape read_file but events and ReadErrors.

    python fuzz/sources.py [--seed N] [--runs 2000]

Takes the transcripts and logs of tests/sources/data and examples/rome, replaces values at random by
other JSON types (None, huge numbers and strings, deep lists, lone surrogates, bad dates), drops and
duplicates keys and items, truncates lines and inserts garbage, re-zips Inspect archives with mutated
members, then reads each file with the format detected and with every other format forced, and
analyses every event it yields. An exception raised out of a reader or the engine is a bug: the file
is kept under fuzz-bugs/ and the traceback printed. A read taking over 20 s is one too.
"""
from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import traceback
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vigiles.analysis.engine import Engine  # noqa: E402
from vigiles.analysis.rules import load  # noqa: E402
from vigiles.events import Event  # noqa: E402
from vigiles.sources import FORMATS, read_file  # noqa: E402

GARBAGE = ["\x00\xff garbage\n", "[" * 5000 + "]" * 5000 + "\n",  # (deeper than JSON decoders go)
           '{"kind": "action", "ts": 1, "tool": "t", "args": {"a": ' + "[" * 5000 + "]" * 5000 + "}}\n"]
KEYS = ["type", "role", "content", "tool_calls", "arguments", "input", "name", "id", "kind", "ts", "args", "argv", "pid"]


class Mutator:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def odd(self) -> object:
        return self.rng.choice([None, True, False, 0, -1, 2 ** 70, 1.5e308, 1e-320, "", "x" * self.rng.choice([1, 100, 70000]),
                                [], {}, [None], {"": None}, "\ud800", "\x00", "2025-13-45T99:99:99Z", "-1e999",
                                [[[[[[[[[[[[]]]]]]]]]]]], {"type": "tool_use", "input": None}, {"content": [{"type": None}]}])

    def value(self, v: object) -> object:
        rng = self.rng
        if rng.random() < 0.08:
            return self.odd()
        if isinstance(v, dict):
            out = {k: self.value(x) for k, x in v.items() if rng.random() > 0.03}
            if rng.random() < 0.03:
                out[rng.choice(KEYS)] = self.odd()
            return out
        if isinstance(v, list):
            out = [self.value(x) for x in v if rng.random() > 0.03]
            if out and rng.random() < 0.05:
                out.append(rng.choice(out))
            return out
        if isinstance(v, str) and v[:1] in "{[" and rng.random() < 0.5:
            try:
                return json.dumps(self.value(json.loads(v)))
            except ValueError:
                pass
        return v

    def lines(self, text: str) -> str:
        out = []
        for line in text.splitlines(True):
            try:
                out.append(json.dumps(self.value(json.loads(line))) + "\n")
            except ValueError:
                out.append(line if self.rng.random() > 0.05 else line[: self.rng.randrange(len(line) + 1)])
        if self.rng.random() < 0.05:
            out.insert(self.rng.randrange(len(out) + 1), self.rng.choice(GARBAGE))
        return "".join(out)

    def document(self, text: str) -> str:
        try:
            return json.dumps(self.value(json.loads(text)))
        except ValueError:
            return self.lines(text)

    def file(self, src: Path, dst: Path) -> None:
        if src.suffix == ".eval":
            with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
                for info in zin.infolist():
                    data = zin.read(info)
                    if info.filename.endswith(".json") and self.rng.random() < 0.7:
                        data = self.document(data.decode()).encode("utf-8", "surrogatepass")
                    if self.rng.random() < 0.02:
                        data = data[: len(data) // 2]
                    zout.writestr(info.filename, data)
            return
        text = src.read_text()
        mutated = self.document(text) if src.suffix in (".json", ".traj") else self.lines(text)
        dst.write_bytes(mutated.encode("utf-8", "surrogatepass"))


def _slow(*_):
    raise TimeoutError("read for over 20 s")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=2000)
    args = parser.parse_args()
    seeds = sorted((ROOT / "tests" / "sources" / "data").iterdir()) + sorted((ROOT / "examples" / "rome").glob("*.jsonl"))
    mutator, engine = Mutator(random.Random(args.seed)), Engine(load())
    signal.signal(signal.SIGALRM, _slow)
    bugs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            src = mutator.rng.choice(seeds)
            dst = Path(tmp) / f"f{run}{src.suffix}"
            mutator.file(src, dst)
            try:
                signal.alarm(20)
                readers = [lambda: read_file(dst)] + [lambda fmt=fmt: fmt.read(dst, str(dst)) for fmt in FORMATS]
                for reader in readers:
                    try:
                        for item in reader():
                            if isinstance(item, Event):
                                engine.analyze(item)
                    except OSError:
                        pass  # (a forced reader may refuse a file outright)
            except Exception as exc:  # noqa: BLE001 (anything at all is the finding)
                bugs += 1
                kept = Path("fuzz-bugs") / f"{run}_{src.name}"
                kept.parent.mkdir(exist_ok=True)
                kept.write_bytes(dst.read_bytes())
                print(f"BUG {src.name} -> {kept}: {type(exc).__name__}: {str(exc)[:200]}")
                print("".join(traceback.format_exception(exc)[-3:])[:800])
            finally:
                signal.alarm(0)
            dst.unlink()
    print(f"{args.runs} mutated files, {bugs} bugs")
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
