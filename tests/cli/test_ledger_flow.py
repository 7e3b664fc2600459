"""scan --ledger, export bundle, and both verifiers (vigiles verify and the bundled verify.py)."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args, db, check=True):
    env = dict(os.environ, VIGILES_DB=str(db))
    proc = subprocess.run([sys.executable, "-m", "vigiles.cli.main", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_scan_into_ledger_then_export_and_verify_offline(tmp_path):
    db, ledger, bundle = tmp_path / "v.db", tmp_path / "ledger", tmp_path / "bundle"
    run("ledger", "init", ledger, "--origin", "test.example/vigiles", db=db)
    doc = json.loads(run("scan", ROOT / "examples" / "rome", "--ledger", ledger, "--format", "json", db=db).stdout)
    (incident,) = [i for i in doc["incidents"] if i["severity"] == "critical"]
    run("export", "bundle", incident["id"], "-o", bundle, "--ledger", ledger, db=db)
    manifest = json.loads((bundle / "manifest.json").read_text())
    kinds = {e["kind"] for e in manifest["entries"]}
    assert kinds == {"event", "finding", "incident"}
    assert len([e for e in manifest["entries"] if e["kind"] == "finding"]) == len(incident["finding_ids"])
    assert run("verify", bundle, "--vkey", bundle / "log.vkey", db=db).stdout.startswith("OK")
    standalone = subprocess.run([sys.executable, str(bundle / "verify.py"), str(bundle), "--vkey",
                                 (bundle / "log.vkey").read_text().strip()], capture_output=True, text=True, timeout=120)
    assert standalone.returncode == 0, standalone.stdout + standalone.stderr
    # one flipped byte in an exported finding is caught by both
    entry = next(bundle / e["entry"] for e in manifest["entries"] if e["kind"] == "finding")
    entry.write_bytes(entry.read_bytes().replace(b"critical", b"low     ", 1))
    assert run("verify", bundle, "--vkey", bundle / "log.vkey", db=db, check=False).returncode == 1
    assert run("ledger", "verify", ledger, db=db).returncode == 0  # the log itself is untouched
