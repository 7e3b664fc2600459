"""Containment on real processes this test starts; cgroup freezing against a faithful local cgroup
tree (a temporary directory laid out as /sys/fs/cgroup), since this machine's own cgroups are not
ours to freeze; nftables only as planned argv (applying it needs the nft binary and CAP_NET_ADMIN)."""
import os
import signal
import subprocess
import sys
import time

from vigiles.analysis.findings import Finding
from vigiles.sinks.containment import Containment, PolicyRule, load_policy
from vigiles.sinks.store import Store

import pytest


def finding(pid, severity="critical", category="compute_acquisition", ident="fd-1"):
    return Finding(id=ident, rule="miner_program", title="Miner", category=category, severity=severity,
                   attack=["T1496"], event_ids=["ev"], ts=time.time(), evidence={"pid": pid})


def spawn_tree():
    code = "import subprocess,time,sys; subprocess.Popen([sys.executable,'-c','import time; time.sleep(60)']); time.sleep(60)"
    parent = subprocess.Popen([sys.executable, "-c", code])
    deadline = time.time() + 10
    while time.time() < deadline:
        children = [int(p) for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == parent.pid]
        if children:
            return parent, children
        time.sleep(0.05)
    raise AssertionError("child did not start")


def _ppid(pid):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2:].split()[1])


def alive(pid):
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_dry_run_plans_and_records_but_kills_nothing(tmp_path):
    parent, children = spawn_tree()
    try:
        store = Store(tmp_path / "v.db")
        responder = Containment([PolicyRule("compute_acquisition", "high", ["kill", "block_egress"])], store=store)
        records = responder.respond(finding(parent.pid))
        assert [r["outcome"] for r in records][0] == "planned"
        assert set(records[0]["detail"]["pids"]) >= {parent.pid, *children}
        assert alive(parent.pid) and all(alive(c) for c in children)
        assert [r["action"] for r in store.responses()] == ["kill", "block_egress"]
        assert responder.respond(finding(parent.pid)) == []  # once per finding and action
    finally:
        parent.kill()
        for child in children:
            os.kill(child, signal.SIGKILL)


def test_kill_takes_the_whole_tree():
    parent, children = spawn_tree()
    responder = Containment([PolicyRule("*", "critical", ["kill"])], dry_run=False)
    (record,) = responder.respond(finding(parent.pid))
    parent.wait(timeout=10)
    assert record["outcome"] == "done"
    time.sleep(0.2)
    assert not any(alive(c) for c in children)


def test_policy_matching_and_protection(tmp_path):
    responder = Containment([PolicyRule("network_access", "critical", ["kill"])], dry_run=False)
    assert responder.respond(finding(12345, category="compute_acquisition")) == []
    assert responder.respond(finding(12345, severity="high", category="network_access")) == []
    (mine,) = responder.respond(finding(os.getpid(), category="network_access", ident="fd-me"))
    assert mine["outcome"] == "refused: protected process"
    policy = tmp_path / "p.yaml"
    policy.write_text("containment:\n  - category: network_access\n    min_severity: critical\n    actions: [freeze, kill]\n")
    assert load_policy(policy)[0].actions == ["freeze", "kill"]
    policy.write_text("containment:\n  - category: everything\n    actions: [kill]\n")
    with pytest.raises(ValueError, match="unknown category"):
        load_policy(policy)


def test_freeze_writes_cgroup_freeze_of_the_process_cgroup(tmp_path):
    proc = tmp_path / "proc"
    (proc / "4242").mkdir(parents=True)
    (proc / "4242" / "cgroup").write_text("0::/agents/sbx-7f3a9c\n")
    (proc / "4242" / "stat").write_text("4242 (kworker) S 1 4242 4242 0")
    cgroups = tmp_path / "cgroup"
    (cgroups / "agents" / "sbx-7f3a9c").mkdir(parents=True)
    responder = Containment([PolicyRule("*", "high", ["freeze"])], dry_run=False, proc_root=str(proc),
                            cgroup_root=str(cgroups))
    (record,) = responder.respond(finding(4242))
    assert record["outcome"] == "done"
    assert (cgroups / "agents" / "sbx-7f3a9c" / "cgroup.freeze").read_text() == "1"


def test_egress_block_is_planned_as_nft_argv():
    responder = Containment([PolicyRule("*", "high", ["block_egress"])])
    commands = responder.nft_commands(1234)
    assert commands[-1][:6] == ["nft", "add", "rule", "inet", "vigiles", "egress"]
    assert "skuid" in commands[-1] and "1234" in commands[-1] and "drop" in commands[-1]
