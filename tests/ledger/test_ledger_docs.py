"""The `$` lines of docs/ledger.md run, in order, and succeed."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from vigiles.cli.ledger import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "ledger.md"


def commands():
    blocks = re.findall(r"```console\n(.*?)```", DOC.read_text(), flags=re.S)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def test_console_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIGILES_LEDGER_KEY", raising=False)
    runner = CliRunner()
    lines = commands()
    assert len(lines) >= 8
    outputs = []
    for line in lines:
        stdin = None
        m = re.fullmatch(r"echo '(.*)' \| (.*)", line)
        if m:
            stdin, line = m.group(1) + "\n", m.group(2)
        target = None
        m = re.fullmatch(r"(.*) > (\S+)", line)
        if m:
            line, target = m.group(1), m.group(2)
        args = shlex.split(line)
        if args[:2] == ["vigiles", "ledger"]:
            result = runner.invoke(app, args[2:], input=stdin)
            code, out = result.exit_code, result.stdout
        elif args[0] == "python3":
            done = subprocess.run([sys.executable, *args[1:]], capture_output=True, text=True, input=stdin)
            code, out = done.returncode, done.stdout + done.stderr
        else:
            raise AssertionError(f"no runner for {line!r}")
        assert code == 0, (line, out)
        if target:
            (tmp_path / target).write_text(out)
        outputs.append(out)
    assert "\n2\n3JltF3OM81NP/Cq3hp1MyTkHkO9G66yMrSnEwhUCEIE=\n\n" in outputs[lines.index("vigiles ledger checkpoint demo")]
    assert outputs[lines.index("vigiles ledger consistency demo --from 1")] == "lhihLxyg7Y3dCoDvBe7idWEjxuqreUeeZZScnJLPbKs=\n"
    assert outputs[lines.index("vigiles ledger verify demo --vkey demo.vkey")] == \
        "OK: 2 entries and 4 signed checkpoints verified (size 2)\n"
    assert outputs[-1].startswith("OK: 2 entries of example.org/vigiles-demo in the checkpoint of size 2")


def test_python_example_runs(tmp_path):
    (block,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    (tmp_path / "example.py").write_text(block)
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "bundle" / "verify.py").exists()
