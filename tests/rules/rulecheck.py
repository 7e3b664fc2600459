"""What the per-category rule tests share: one engine over the built-in pack, and its alerts."""
import itertools

from vigiles.analysis.engine import Engine
from vigiles.analysis.rules import SEVERITY_RANK, load
from vigiles.events import from_dict

ENGINE = Engine(load())
_RUNS = itertools.count()


def category_alerts(category: str):
    """A function giving the ids of the rules of `category` that alert (medium and above) on a command."""
    def alerts(command: str) -> set[str]:
        # each command its own run: what one leaves (a directory, variables, files) is not another's
        event = from_dict({"kind": "action", "ts": 0, "tool": "bash", "input": command, "sandbox": f"t{next(_RUNS)}"})
        return {f.rule for f in ENGINE.analyze(event)
                if f.category == category and SEVERITY_RANK[f.severity] >= SEVERITY_RANK["medium"]}
    return alerts


def check_category_loads(category: str, minimum: int = 1) -> None:
    ruleset = load()
    assert ruleset.problems == []
    mine = [r for r in ruleset.rules if r.category == category]
    assert len(mine) >= minimum
    assert all(r.attack for r in mine)
    assert not [r.id for r in mine if r.needles is None and r.per_command]
