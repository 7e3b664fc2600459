"""Cross-layer attribution and compute accounting on the recorded ROME-like run (examples/rome)."""
from pathlib import Path

from vigiles.analysis.attribution import Attributor
from vigiles.analysis.compute import ComputeAccountant, load_policy
from vigiles.analysis.rules import load
from vigiles.events import from_dict
from vigiles.pipeline import scan

ROME = Path(__file__).resolve().parents[2] / "examples" / "rome"


def test_host_findings_take_the_step_of_the_action_that_caused_them():
    result = scan([ROME], load())
    host_side = [f for f in result.findings if f.evidence.get("caused_by")]
    by_rule = {}
    for f in host_side:
        by_rule.setdefault(f.rule, set()).add(f.step)
    # the tunnel: the ssh process and its long-lived connection come from running the script (step 9)
    assert by_rule["ssh_reverse_tunnel"] == {9}
    assert 9 in by_rule["long_lived_outbound_connection"]
    # the miner: its process (step 12), the renamed one and its GPU use (step 13)
    assert by_rule["mining_pool_connection"] == {12} and by_rule["mining_pool_dns"] == {12}
    assert by_rule["kernel_thread_name_on_file"] == {13} and by_rule["gpu_use_outside_job"] == {13}
    assert all(f.episode == "ep-018342" and f.run == "rl-run-2025-12-01-a" for f in host_side)
    (incident,) = [i for i in result.incidents if i.severity == "critical"]
    assert {f.id for f in host_side} <= set(incident.finding_ids)
    assert {"network_access", "compute_acquisition"} <= set(incident.categories)


def test_the_cloud_firewall_flow_log_is_tied_to_the_actions():
    """What the provider's firewall saw in ROME (flows by address only) lands on the right steps."""
    result = scan([ROME], load())
    flows = {(f.rule, f.step) for f in result.findings if "vpc-flow.log" in str(f.evidence.get("source"))}
    assert ("long_lived_outbound_connection", 9) in flows  # the tunnel, opened by running the script
    assert ("mining_pool_port_connection", 13) in flows    # the renamed miner's pool connection
    how = {f.evidence["caused_by"]["how"] for f in result.findings if "vpc-flow.log" in str(f.evidence.get("source"))}
    assert how == {"address, host and time"}


def test_gpu_seconds_are_split_between_the_job_and_nobody():
    result = scan([ROME], load())
    compute = result.compute
    job = compute["jobs"]["grpo-train-0417"]
    assert job["samples"] == 480 and job["gpus"] == list(range(8))
    (outside,) = compute["outside_jobs"]
    assert outside["pid"] == 51102 and outside["gpus"] == [3]
    assert 380 < outside["gpu_seconds"] < 390
    (finding,) = [f for f in result.findings if f.rule == "gpu_use_outside_job"]
    assert finding.severity == "critical"
    assert any("kernel-thread name" in s for s in finding.evidence["signs"])
    assert any("pool port" in s for s in finding.evidence["signs"])


def ev(**raw):
    return from_dict(raw)


def test_attribution_falls_back_to_sandbox_and_time():
    attributor = Attributor(window_s=60)
    attributor.observe(ev(kind="action", ts=100, tool="bash", input="x", sandbox="s", run="r", episode="e", step=3))
    attributor.observe(ev(kind="action", ts=200, tool="bash", input="y", sandbox="s", run="r", episode="e", step=4))
    near = ev(kind="network", ts=230, sandbox="s", dst="198.51.100.1", dport=443)
    late = ev(kind="network", ts=400, sandbox="s", dst="198.51.100.1", dport=443)
    elsewhere = ev(kind="network", ts=230, sandbox="other", dst="198.51.100.1", dport=443)
    cause = attributor.cause_of(near)
    assert (cause.step, cause.how) == (4, "sandbox and time")
    assert attributor.cause_of(late) is None and attributor.cause_of(elsewhere) is None


def test_pid_tree_beats_time():
    attributor = Attributor()
    attributor.observe(ev(kind="action", ts=100, tool="bash", input="a", host="h", pid=10, step=1, sandbox="s"))
    attributor.observe(ev(kind="action", ts=150, tool="bash", input="b", host="h", pid=99, step=2, sandbox="s"))
    attributor.observe(ev(kind="process", ts=120, host="h", pid=11, ppid=10, argv=["sh"]))
    attributor.observe(ev(kind="process", ts=121, host="h", pid=12, ppid=11, argv=["ssh"]))
    cause = attributor.cause_of(ev(kind="network", ts=160, host="h", pid=12, sandbox="s", dst="198.51.100.1"))
    assert (cause.step, cause.how) == (1, "process tree")


def test_jobs_by_pid_command_and_policy(tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("jobs:\n  - id: eval\n    host: h\n    gpus: [1]\n    command: '*vllm serve*'\n")
    accountant = ComputeAccountant(load_policy(policy))
    attributor = Attributor()
    events = [
        ev(kind="job", ts=0, id="train", host="h", gpus=[0], pids=[100]),
        ev(kind="process", ts=0, host="h", pid=100, ppid=1, argv=["torchrun", "train.py"]),
        ev(kind="process", ts=1, host="h", pid=101, ppid=100, argv=["python", "train.py"]),
        ev(kind="process", ts=1, host="h", pid=200, ppid=1, argv=["python", "-m", "vllm", "serve", "m"]),
        ev(kind="process", ts=1, host="h", pid=300, ppid=1, argv=["./a.out"]),
    ]
    for t in range(0, 100, 10):
        events += [ev(kind="gpu", ts=t, host="h", gpu=0, pid=101, util=100),
                   ev(kind="gpu", ts=t, host="h", gpu=1, pid=200, util=50),
                   ev(kind="gpu", ts=t, host="h", gpu=0, pid=300, util=20)]
    events.append(ev(kind="gpu", ts=1000, host="h", gpu=0, pid=101, util=100))  # after a gap: capped
    for event in events:
        accountant.observe(event)
        attributor.observe(event)
    report = accountant.account(attributor.tree)
    assert report["jobs"]["train"]["gpu_seconds"] == 90 + 60 + 10  # the sample before the gap stands for 60 s at most
    assert report["jobs"]["eval"]["gpu_seconds"] == 50
    (outside,) = report["outside_jobs"]
    assert outside["pid"] == 300 and outside["gpu_seconds"] == 20
    (finding,) = accountant.findings(attributor.tree, report, [])
    assert finding.severity == "high" and finding.evidence["signs"] == []
