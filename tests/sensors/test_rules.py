"""supervision_evasion_vigiles.yaml: killing or stopping the watcher."""
import pytest

from vigiles.analysis.engine import Engine
from vigiles.analysis.rules import Loader, builtin_paths, load
from vigiles.events import from_dict


def engine_with_pid(pid):
    loader = Loader()
    for path in builtin_paths():
        loader.add_file(path)
    loader.add_text(f"- list: vigiles_pids\n  items: ['{pid}']\n  append: true\n", "runtime")
    return Engine(loader.build())


ENGINE = engine_with_pid(4242)
MINE = ("vigiles_kill_attempt", "vigiles_service_stopped")  # other packs may also flag these commands


def rules(command, kind="action"):
    raw = ({"kind": "action", "ts": 0, "tool": "bash", "input": command} if kind == "action"
           else {"kind": "process", "ts": 0, "pid": 7, "argv": command.split()})
    return {f.rule for f in ENGINE.analyze(from_dict(raw)) if f.rule in MINE}


def test_loads_cleanly_with_prefilters():
    ruleset = load()
    assert ruleset.problems == []
    mine = [r for r in ruleset.rules if r.id in ("vigiles_kill_attempt", "vigiles_service_stopped")]
    assert len(mine) == 2 and all(r.needles is not None for r in mine)


@pytest.mark.parametrize("command, rule", [
    ("pkill vigiles", "vigiles_kill_attempt"),
    ("pkill -9 -f 'vigiles sensor'", "vigiles_kill_attempt"),
    ("killall vigiles", "vigiles_kill_attempt"),
    ("kill -9 4242", "vigiles_kill_attempt"),
    ("kill $(pgrep -f vigiles)", "vigiles_kill_attempt"),
    ("pgrep vigiles | xargs kill -9", "vigiles_kill_attempt"),
    ("systemctl stop vigiles", "vigiles_service_stopped"),
    ("sudo systemctl disable --now vigiles.service", "vigiles_service_stopped"),
    ("service vigiles stop", "vigiles_service_stopped"),
])
def test_detected(command, rule):
    assert rule in rules(command)


@pytest.mark.parametrize("command", ["kill 42", "pkill python", "systemctl status vigiles", "systemctl stop nginx",
                                     "pip install vigiles", "pgrep vigiles"])
def test_not_detected(command):
    assert rules(command) == set()


def test_process_events_too():
    assert rules("/usr/bin/kill -TERM 4242", kind="process") == {"vigiles_kill_attempt"}
    assert rules("systemctl stop vigiles", kind="process") == {"vigiles_service_stopped"}
