"""Compute accounting on events recorded from a real GPU, replayed where there is none (CI).

`data/h100-watch-events.jsonl` is what `vigiles watch --events` wrote on an NVIDIA H100 (driver
580.159.04, accounting mode off) during tests/sensors/test_gpu_nvml.py's end-to-end run: a
sanctioned `train.py` and, beside it, a `miner.py` started as `[kworker/3:1-events]` that held a
connection to a local stand-in for a pool's port 3333, both running matrix products for 14 s.
"""
from pathlib import Path

from vigiles.analysis.compute import JobSpec
from vigiles.analysis.rules import load
from vigiles.pipeline import scan

RECORDED = Path(__file__).parent / "data" / "h100-watch-events.jsonl"


def _scan(jobs):
    return scan([RECORDED], load(), jobs=jobs)


def test_the_job_and_the_disguised_miner_share_the_gpu_seconds():
    result = _scan([JobSpec(id="train", command="*train.py*")])
    assert result.stats["bad_lines"] == 0
    report = result.compute
    job = report["jobs"]["train"]
    (miner,) = report["outside_jobs"]
    assert miner["argv"][0] == "[kworker/3:1-events]"
    # both ran about 14 s at full load on one GPU, so each got about half of it
    assert 5 < job["gpu_seconds"] < 9 and 5 < miner["gpu_seconds"] < 9
    device = report["devices"][0]
    assert abs(job["gpu_seconds"] + miner["gpu_seconds"] - device["gpu_seconds"]) < 1.5


def test_the_miner_is_a_critical_finding_with_its_signs_and_the_job_is_not():
    result = _scan([JobSpec(id="train", command="*train.py*")])
    outside = [f for f in result.findings if f.rule == "gpu_use_outside_job"]
    assert len(outside) == 1
    finding = outside[0]
    assert finding.severity == "critical"
    assert finding.evidence["argv"][0] == "[kworker/3:1-events]"
    assert sorted(s.split(" ")[0] for s in finding.evidence["signs"]) == ["connection", "kernel-thread"]
    assert any(f.rule == "kernel_thread_name_on_file" for f in result.findings)
    incident = next(i for i in result.incidents if finding.id in i.finding_ids)
    assert {"compute_acquisition", "supervision_evasion"} <= set(incident.categories)


def test_without_a_sanctioned_job_both_processes_are_outside():
    result = _scan([])
    report = result.compute
    assert report["jobs"] == {}
    assert len(report["outside_jobs"]) == 2
    assert abs(report["gpu_seconds_outside_jobs"] - report["gpu_seconds_total"]) < 1e-6
    severities = sorted(f.severity for f in result.findings if f.rule == "gpu_use_outside_job")
    assert severities == ["critical", "high"]  # the miner has signs; plain train.py has none


def test_a_long_series_is_folded_without_changing_the_accounting():
    """A sensor that runs for days: samples beyond MAX_SAMPLES per series are integrated into a
    running total; the GPU-seconds are those of the whole series."""
    from vigiles.analysis import compute
    from vigiles.analysis.proctree import ProcessTree
    from vigiles.events import from_dict
    n = compute.MAX_SAMPLES * 5 + 37
    events = [from_dict({"kind": "gpu", "ts": 1_000 + i, "host": "h", "gpu": 0, "pid": 42,
                         "util": float(i % 101)}) for i in range(n)]
    events += [from_dict({"kind": "gpu", "ts": 1_000 + i, "host": "h", "gpu": 0, "util": 50.0}) for i in range(n)]
    folded, whole = compute.ComputeAccountant(), compute.ComputeAccountant()
    for event in events:
        folded.observe(event)
    whole_limit, compute.MAX_SAMPLES = compute.MAX_SAMPLES, 10 ** 9
    try:
        for event in events:
            whole.observe(event)
    finally:
        compute.MAX_SAMPLES = whole_limit
    assert max(len(s) for s in folded.series.values()) <= compute.MAX_SAMPLES
    a, b = folded.account(ProcessTree()), whole.account(ProcessTree())
    assert a["outside_jobs"][0]["samples"] == b["outside_jobs"][0]["samples"] == n
    assert abs(a["gpu_seconds_outside_jobs"] - b["gpu_seconds_outside_jobs"]) < 1e-6
    assert a["devices"][0]["held_seconds"] == b["devices"][0]["held_seconds"] == n
    assert a["outside_jobs"][0]["first_ts"] == 1_000 and a["outside_jobs"][0]["last_ts"] == 1_000 + n - 1


def test_executions_are_bounded_but_those_of_gpu_processes_are_kept():
    from vigiles.analysis import compute
    from vigiles.events import from_dict
    accountant = compute.ComputeAccountant()
    accountant.observe(from_dict({"kind": "process", "ts": 1, "host": "h", "pid": 7, "argv": ["./miner"],
                                  "cgroup": "/user.slice/x"}))
    accountant.observe(from_dict({"kind": "gpu", "ts": 2, "host": "h", "gpu": 0, "pid": 7, "util": 99.0}))
    for pid in range(1000, 1000 + compute.MAX_PROCESSES + 10):
        accountant.observe(from_dict({"kind": "process", "ts": 3, "host": "h", "pid": pid, "argv": ["true"]}))
    assert len(accountant.process_events) == compute.MAX_PROCESSES
    assert accountant._process("h", 7).argv == ["./miner"]
