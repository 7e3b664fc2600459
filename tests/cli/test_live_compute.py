"""A live sensor alerts on GPU use outside every job while it runs, once, and keeps one finding."""
import io
import json
from pathlib import Path

from vigiles.analysis.compute import JobSpec
from vigiles.analysis.rules import load
from vigiles.cli import live
from vigiles.events import decode_line

RECORDED = Path(__file__).parents[1] / "analysis" / "data" / "h100-watch-events.jsonl"


def test_gpu_use_outside_job_is_alerted_once_before_the_end(monkeypatch):
    monkeypatch.setattr(live, "COMPUTE_EVERY_S", 0.0)  # check at every GPU event
    alerts = io.StringIO()
    consumer = live._Consumer(load(), None, None, alerts, jobs=[JobSpec(id="train", command="*train.py*")])
    for line in RECORDED.read_bytes().splitlines():
        consumer.handle(decode_line(line))
    before_end = [json.loads(a)["alert"] for a in alerts.getvalue().splitlines()]
    assert [a["rule"] for a in before_end].count("gpu_use_outside_job") == 1
    result = consumer.finish({})
    after = [json.loads(a)["alert"] for a in alerts.getvalue().splitlines()]
    assert len(after) == len(before_end)  # finish found the same one, updated in place
    outside = [f for f in result.findings if f.rule == "gpu_use_outside_job"]
    assert len(outside) == 1
    first = next(a for a in before_end if a["rule"] == "gpu_use_outside_job")
    assert outside[0].id == first["id"]
    assert outside[0].evidence["gpu_seconds"] > first["evidence"]["gpu_seconds"]  # the evidence grew


def test_events_are_recorded_for_replay(tmp_path):
    out = io.StringIO()
    consumer = live._Consumer(load(), None, None, None, events_out=out)
    lines = RECORDED.read_bytes().splitlines()[:5]
    for line in lines:
        consumer.handle(decode_line(line))
    again = [decode_line(line.encode()) for line in out.getvalue().splitlines()]
    assert [e.id for e in again] == [decode_line(line).id for line in lines]
