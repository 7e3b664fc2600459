"""A folder of sensor logs, scanned as one stream: the reverse tunnel is found from host records alone."""
import json

from vigiles.analysis import rules
from vigiles.pipeline import scan

from test_auditd import connect_event, execve_event, IPV4_443
from test_flowlogs import ACCEPT, HEADER
from test_tetragon import EXEC
from test_zeek import CONN_TSV


def _tunnel_findings(result):
    return [f for f in result.findings if f.rule == "ssh_reverse_tunnel"]


def test_reverse_tunnel_seen_only_as_auditd_execve(tmp_path):
    (tmp_path / "audit.log").write_text("\n".join(execve_event(node="rl-node-0417") + connect_event(9042, IPV4_443)) + "\n")
    (tmp_path / "conn.log").write_text("\n".join(CONN_TSV) + "\n")
    (tmp_path / "flows.txt").write_text("\n".join([HEADER, ACCEPT]) + "\n")
    result = scan([tmp_path], rules.load())
    assert result.errors == [] and result.stats["files"] == 3
    assert result.stats["events"] == 2 + 2 + 1
    (finding,) = _tunnel_findings(result)
    assert finding.evidence["source"].endswith("audit.log:1")


def test_reverse_tunnel_seen_only_as_tetragon_exec(tmp_path):
    (tmp_path / "tetragon.jsonl").write_text(json.dumps(EXEC) + "\n")
    result = scan([tmp_path], rules.load())
    assert result.errors == []
    (finding,) = _tunnel_findings(result)
    assert finding.sandbox == "agents/sbx-7f3a9c"
