"""The acceptance case end to end: scan the ROME example into a ledger, export the critical incident,
and verify the bundle with its own verify.py in a new venv holding only `cryptography`."""
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def vigiles(*args, db):
    proc = subprocess.run([sys.executable, "-m", "vigiles.cli.main", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, VIGILES_DB=str(db)), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_example_incident_bundle_verifies_with_only_cryptography(tmp_path, crypto_only_python):
    db, ledger, bundle = tmp_path / "v.db", tmp_path / "ledger", tmp_path / "bundle"
    vigiles("ledger", "init", ledger, "--origin", "lab.example/vigiles", db=db)
    doc = json.loads(vigiles("scan", ROOT / "examples" / "rome", "--ledger", ledger, "--format", "json", db=db))
    (incident,) = [i for i in doc["incidents"] if i["severity"] == "critical"]
    vigiles("export", "bundle", incident["id"], "-o", bundle, "--ledger", ledger, db=db)
    vkey = (bundle / "log.vkey").read_text().strip()
    run = subprocess.run([str(crypto_only_python), str(bundle / "verify.py"), str(bundle), "--vkey", vkey],
                         capture_output=True, text=True, cwd=bundle, env={"PATH": os.environ.get("PATH", "")},
                         timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    entries = json.loads((bundle / "manifest.json").read_text())["entries"]
    assert len([e for e in entries if e["kind"] == "finding"]) == len(incident["finding_ids"])
