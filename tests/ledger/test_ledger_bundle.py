"""Incident bundles: export, verify with the package, and with the standalone verify.py in a venv
that has nothing but `cryptography`, including a witness quorum from a real witness over HTTP."""
import json
import os
import shutil
import subprocess

import pytest

from vigiles.ledger.bundle import BundleError, export_bundle, verify_bundle
from vigiles.ledger.checkpoint import Checkpoint, sign_checkpoint
from vigiles.ledger.log import Log
from vigiles.ledger.note import generate_signer, split_note
from vigiles.ledger.tree import MemoryTree

ORIGIN = "example.org/vigiles-bundle"
INCIDENT = {"id": "inc-7", "title": "reverse SSH tunnel then mining", "severity": "critical"}


def events(n):
    return [("event", {"seq": i, "tool": "bash", "input": f"step {i}"}) for i in range(n)]


@pytest.fixture
def exported(tmp_path, start_witness):
    lg = Log.init(tmp_path / "ledger", ORIGIN, checkpoint_interval=None)
    url, wsigner, _ = start_witness([lg.verifier])
    (lg.root / "policy").write_text(f"log {lg.vkey}\nwitness w1 {wsigner.vkey} {url}\nquorum w1\n")
    lg.close()
    lg = Log.open(tmp_path / "ledger", checkpoint_interval=None)
    items = events(40)
    indexes = lg.append_records(items)
    lg.checkpoint()
    finding = {"rule": "ssh_reverse_tunnel", "evidence": "x" * 100_000, "events": [3, 17]}
    f_index = lg.append_record("finding", finding)
    lg.append_records(events(5))  # later entries, not part of the incident (the export checkpoints them too)
    chosen = [(*items[3], indexes[3]), (*items[17], indexes[17]), ("finding", finding, f_index)]
    out = export_bundle(lg, INCIDENT, chosen, tmp_path / "bundle")
    lg.close()
    return out, lg.vkey, wsigner


def standalone(python, bundle, *args):
    return subprocess.run([str(python), str(bundle / "verify.py"), str(bundle), *map(str, args)],
                          capture_output=True, text=True, cwd=bundle, env={"PATH": os.environ.get("PATH", "")},
                          timeout=60)


def test_bundle_layout_and_package_verification(exported):
    bundle, vkey, _ = exported
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["checkpoint_size"] == 46 and [e["kind"] for e in manifest["entries"]] == ["event", "event", "finding"]
    assert sorted(p.name for p in (bundle / "proofs").iterdir()) == ["17.tlog-proof", "3.tlog-proof", "40.tlog-proof"]
    assert len(list((bundle / "blobs/sha256").iterdir())) == 1
    assert "witness.example.org/w1" in (bundle / "checkpoint").read_text()
    assert (bundle / "verify.py").read_bytes() == (
        __import__("vigiles.ledger.bundle", fromlist=["STANDALONE"]).STANDALONE.read_bytes())
    assert verify_bundle(bundle, vkey) == []


def test_standalone_verifies_in_a_venv_with_only_cryptography(exported, crypto_only_python):
    bundle, vkey, _ = exported
    result = standalone(crypto_only_python, bundle, "--vkey", vkey)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK: 3 entries of example.org/vigiles-bundle in the checkpoint of size 46; "
                                    "witness quorum w1 met (cosigned by w1)")
    (bundle / "trusted.vkey").write_text(vkey + "\n")
    assert standalone(crypto_only_python, bundle, "--vkey", bundle / "trusted.vkey").returncode == 0


def tamper_cases(bundle, vkey, wsigner):
    """(description, change to apply, expected message) for one bundle each."""
    def flip_entry(b):
        path = b / "entries/17.json"
        path.write_bytes(path.read_bytes().replace(b"step 17", b"step 71"))

    def flip_proof(b):
        path = b / "proofs/3.tlog-proof"
        lines = path.read_bytes().split(b"\n")
        lines[2] = lines[3]
        path.write_bytes(b"\n".join(lines))

    def foreign_checkpoint(b):
        text, _ = split_note((b / "checkpoint").read_bytes())
        forged = sign_checkpoint(Checkpoint(ORIGIN, 46, MemoryTree([b"x"]).root()), generate_signer(ORIGIN))
        (b / "checkpoint").write_bytes(forged)

    def drop_cosignature(b):
        data = (b / "checkpoint").read_bytes()
        (b / "checkpoint").write_bytes(b"".join(l for l in data.splitlines(True) if b"witness.example.org" not in l))

    def alter_blob(b):
        blob = next((b / "blobs/sha256").iterdir())
        blob.write_bytes(b"y" * 100_000)

    def wrong_kind(b):
        manifest = json.loads((b / "manifest.json").read_text())
        manifest["entries"][0]["kind"] = "finding"
        (b / "manifest.json").write_text(json.dumps(manifest))

    def renumber(b):
        manifest = json.loads((b / "manifest.json").read_text())
        manifest["entries"][0]["index"] = 4
        (b / "manifest.json").write_text(json.dumps(manifest))

    return [
        ("entry changed", flip_entry, "entry 17 (entries/17.json) is not in the signed log"),
        ("proof changed", flip_proof, "entry 3 (entries/3.json) is not in the signed log"),
        ("checkpoint by another key", foreign_checkpoint, "checkpoint: not signed by the log key"),
        ("witness cosignature removed", drop_cosignature, "quorum w1 not met"),
        ("blob changed", alter_blob, "was altered"),
        ("kind changed", wrong_kind, "the manifest says 'finding', the entry says 'event'"),
        ("index changed", renumber, "its proof is for index 3"),
    ]


def test_tampered_bundles_fail_both_verifiers(exported, crypto_only_python, tmp_path):
    bundle, vkey, wsigner = exported
    for name, change, message in tamper_cases(bundle, vkey, wsigner):
        copy = tmp_path / name.replace(" ", "-")
        shutil.copytree(bundle, copy)
        change(copy)
        problems = verify_bundle(copy, vkey)
        assert any(message in p for p in problems), (name, problems)
        result = standalone(crypto_only_python, copy, "--vkey", vkey)
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert message in result.stdout, (name, result.stdout)


def test_trust_comes_from_the_key_and_policy_given(exported, crypto_only_python, tmp_path):
    bundle, vkey, wsigner = exported
    impostor = generate_signer(ORIGIN).vkey
    assert any("not signed by the log key" in p for p in verify_bundle(bundle, impostor))
    assert standalone(crypto_only_python, bundle, "--vkey", impostor).returncode == 1
    # A policy demanding a second witness that never cosigned.
    w2 = generate_signer("witness.example.org/w2", 4)
    policy = tmp_path / "policy"
    policy.write_text(f"log {vkey}\nwitness w1 {wsigner.vkey}\nwitness w2 {w2.vkey}\ngroup both all w1 w2\nquorum both\n")
    assert any("quorum both not met" in p for p in verify_bundle(bundle, vkey, policy.read_bytes()))
    result = standalone(crypto_only_python, bundle, "--vkey", vkey, "--policy", policy)
    assert result.returncode == 1 and "quorum both not met: cosigned by w1" in result.stdout
    assert standalone(crypto_only_python, bundle, "--vkey", "not-a-key").returncode == 2
    assert standalone(crypto_only_python, bundle, "--vkey", vkey, "--policy", tmp_path / "missing").returncode == 2


def test_export_refuses_what_the_log_does_not_hold(tmp_path):
    lg = Log.init(tmp_path / "l", ORIGIN, checkpoint_interval=None)
    i = lg.append_record("event", {"seq": 1})
    with pytest.raises(BundleError, match="is not the event record given"):
        export_bundle(lg, INCIDENT, [("event", {"seq": 2}, i)], tmp_path / "b1")
    (tmp_path / "b2").mkdir()
    (tmp_path / "b2" / "x").write_text("x")
    with pytest.raises(BundleError, match="not empty"):
        export_bundle(lg, INCIDENT, [("event", {"seq": 1}, i)], tmp_path / "b2")
    out = export_bundle(lg, INCIDENT, [("event", {"seq": 1}, i)], tmp_path / "b3")  # checkpoints first
    assert lg.checkpoint_size == 1 and verify_bundle(out, lg.vkey) == []
    lg.close()


def test_random_corruption_both_verifiers_agree(exported):
    """Flip, cut, delete or replace one file at random: the package and verify.py (loaded as a
    module here; the fresh-venv run is above) reach the same verdict and never crash."""
    import contextlib
    import importlib.util
    import io
    import random

    from vigiles.ledger.bundle import STANDALONE
    spec = importlib.util.spec_from_file_location("bundle_verify", STANDALONE)
    standalone_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(standalone_module)
    bundle, vkey, _ = exported
    files = [p for p in bundle.rglob("*") if p.is_file() and p.name not in ("verify.py", "README.txt", "log.vkey")]
    rng = random.Random(2024)
    failures = 0
    for trial in range(120):
        target = rng.choice(files)
        original = target.read_bytes()
        data = bytearray(original)
        op = rng.choice(["flip", "cut", "delete", "junk"])
        if op == "flip" and data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            target.write_bytes(bytes(data))
        elif op == "cut":
            target.write_bytes(bytes(data[:rng.randrange(len(data) + 1)]))
        elif op == "delete":
            target.unlink()
        else:
            target.write_bytes(os.urandom(rng.randrange(1, 100)))
        problems = verify_bundle(bundle, vkey)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = standalone_module.main([str(bundle), "--vkey", vkey])
        assert (problems == []) == (code == 0), (op, target, problems, code)
        failures += bool(problems)
        target.write_bytes(original)
    assert failures > 100
