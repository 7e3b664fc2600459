"""The scan pass itself (vigiles/pipeline.py)."""
import gc
import json

from vigiles.analysis.rules import load
from vigiles.pipeline import GC_YOUNG_THRESHOLD, scan


def test_scan_collects_less_often_while_it_runs_and_puts_the_collector_back(tmp_path, monkeypatch):
    path = tmp_path / "run.jsonl"
    path.write_text("".join(json.dumps({"kind": "action", "ts": i, "tool": "bash", "input": f"ls /srv/{i}"}) + "\n"
                            for i in range(50)))
    seen = []
    import vigiles.pipeline as pipeline
    original = pipeline._scan

    def spy(*args):
        seen.append(gc.get_threshold())
        return original(*args)
    monkeypatch.setattr(pipeline, "_scan", spy)
    before = gc.get_threshold()
    result = scan([path], load())
    assert result.stats["events"] == 50
    assert seen[0][0] == max(before[0], GC_YOUNG_THRESHOLD) and seen[0][1:] == before[1:]
    assert gc.get_threshold() == before
