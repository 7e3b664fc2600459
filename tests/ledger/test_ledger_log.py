"""The ledger writer: init/open, keys, locking, appends, checkpoints, recovery, records and blobs."""
import json
import os
import stat

import pytest

from vigiles.ledger.checkpoint import open_checkpoint
from vigiles.ledger.log import LedgerError, Log, LogLockedError
from vigiles.ledger.note import generate_signer, parse_vkey
from vigiles.ledger.proof import parse_proof, verify_proof
from vigiles.ledger.records import (HashOnlyBlobs, RecordError, canonical_json, decode_record, encode_record,
                                    expand_record, record_matches)
from vigiles.ledger.tiles import MAX_ENTRY_SIZE
from vigiles.ledger.tree import MemoryTree, leaf_hash
from vigiles.ledger.verify import verify_log

ORIGIN = "example.org/vigiles-test"


@pytest.fixture
def log(tmp_path):
    lg = Log.init(tmp_path / "ledger", ORIGIN, checkpoint_interval=None)
    yield lg
    lg.close()


def test_init_layout(tmp_path):
    lg = Log.init(tmp_path / "l", ORIGIN)
    root = tmp_path / "l"
    assert stat.S_IMODE((root / "key").stat().st_mode) == 0o600
    assert (root / "key").read_text().startswith(f"PRIVATE+KEY+{ORIGIN}+")
    config = json.loads((root / "log.json").read_text())
    assert config == {"format": "vigiles-ledger/1", "origin": ORIGIN, "vkey": lg.vkey}
    cp, _ = open_checkpoint((root / "checkpoint").read_bytes(), [parse_vkey(lg.vkey)], ORIGIN)
    assert cp.size == 0 and (root / "checkpoints/0").read_bytes() == (root / "checkpoint").read_bytes()
    assert (root / "policy").read_text().splitlines()[1:] == [f"log {lg.vkey}", "quorum none"]
    lg.close()
    with pytest.raises(LedgerError, match="already a ledger"):
        Log.init(root, ORIGIN)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(LedgerError, match="not empty"):
        Log.init(tmp_path / "full", ORIGIN)
    with pytest.raises(LedgerError, match="must match"):
        Log.init(tmp_path / "other", ORIGIN, key=generate_signer("example.org/else").skey)


def test_open_or_init(tmp_path):
    lg = Log.open_or_init(tmp_path / "l", ORIGIN, checkpoint_interval=None)
    lg.append(b"a")
    lg.close()
    lg = Log.open_or_init(tmp_path / "l", ORIGIN, checkpoint_interval=None)
    assert lg.size == 1 and lg.checkpoint_size == 1
    lg.close()
    with pytest.raises(LedgerError, match="is the ledger of"):
        Log.open_or_init(tmp_path / "l", "example.org/other")


def test_external_key_is_not_stored(tmp_path, monkeypatch):
    signer = generate_signer(ORIGIN)
    lg = Log.init(tmp_path / "l", ORIGIN, key=signer.skey, checkpoint_interval=None)
    lg.append(b"one")
    lg.close()
    assert not (tmp_path / "l" / "key").exists()
    lg = Log.open(tmp_path / "l", checkpoint_interval=None)
    lg.append(b"two")
    with pytest.raises(LedgerError, match="no signing key"):
        lg.checkpoint()
    lg.close()  # no key: the entry stays journaled, acknowledged, for the next writer
    monkeypatch.setenv("VIGILES_LEDGER_KEY", signer.skey)
    lg = Log.open(tmp_path / "l", checkpoint_interval=None)
    assert lg.size == 2 and lg.checkpoint_size == 1
    lg.checkpoint()
    assert lg.entry(1) == b"two"
    lg.close()
    monkeypatch.setenv("VIGILES_LEDGER_KEY", generate_signer(ORIGIN).skey)
    with pytest.raises(LedgerError, match="does not match"):
        Log.open(tmp_path / "l")


def test_one_writer_at_a_time(log):
    with pytest.raises(LogLockedError):
        Log.open(log.root)
    reader = Log.open(log.root, readonly=True)
    with pytest.raises(LedgerError, match="read-only"):
        reader.append(b"x")


def test_append_checkpoint_and_read_back(log):
    entries = [b"entry %d" % i for i in range(1000)]
    assert log.append_many(entries[:600]) == list(range(600))
    assert log.append(entries[600]) == 600
    assert log.entry(5) == entries[5] and log.entry(600) == entries[600]   # journaled only
    note = log.checkpoint()
    cp, _ = open_checkpoint(note, [log.verifier], ORIGIN)
    assert cp.size == 601 and cp.root == MemoryTree(entries[:601]).root()
    log.append_many(entries[601:])
    assert log.entry(700) == entries[700] and log.entry(599) == entries[599]
    log.checkpoint()
    tree = MemoryTree(entries)
    assert log.root_hash() == tree.root() and log.root_hash(601) == cp.root
    assert log.prove_inclusion(777) == tree.prove_record(777)
    assert log.prove_consistency(601) == tree.prove_tree(601)
    proof = parse_proof(log.tlog_proof(777))
    assert verify_proof(proof, entries[777], verifiers=[log.verifier]).size == 1000
    assert sorted(int(p.name) for p in (log.root / "checkpoints").iterdir()) == [0, 601, 1000]
    with pytest.raises(LedgerError):
        log.append(bytes(MAX_ENTRY_SIZE + 1))
    assert verify_log(log.root, log.vkey).ok


def test_checkpoint_interval(tmp_path):
    lg = Log.init(tmp_path / "l", ORIGIN, checkpoint_interval=0)
    lg.append(b"a")
    assert lg.checkpoint_size == 1
    lg.append(b"b")
    assert lg.checkpoint_size == 2
    lg.close()


def test_maybe_checkpoint(tmp_path):
    lg = Log.init(tmp_path / "l", ORIGIN, checkpoint_interval=3600)
    lg.append(b"a")
    assert lg.maybe_checkpoint() is None and lg.checkpoint_size == 0
    lg.checkpoint_interval = 0
    assert lg.maybe_checkpoint() is not None and lg.checkpoint_size == 1
    assert lg.maybe_checkpoint() is None  # nothing pending
    lg.close()


def test_recovery_replays_the_journal(log):
    log.append_many([b"a%d" % i for i in range(300)])
    log.checkpoint()
    log.append_many([b"b%d" % i for i in range(500)])
    log._release()  # the process dies: no checkpoint, no close
    lg = Log.open(log.root, checkpoint_interval=None)
    assert (lg.size, lg.checkpoint_size) == (800, 300)
    assert lg.entry(799) == b"b499"
    lg.checkpoint()
    assert lg.root_hash() == MemoryTree([b"a%d" % i for i in range(300)] + [b"b%d" % i for i in range(500)]).root()
    lg.close()
    assert verify_log(log.root, lg.vkey).ok


def test_recovery_cuts_a_torn_journal_tail(log):
    log.append_many([b"x", b"y"])
    log._release()
    with open(log.root / "journal", "ab") as f:
        f.write(b"\x00\x00\x00\x10\x12\x34")  # half a record header and nothing else
    lg = Log.open(log.root, checkpoint_interval=None)
    assert lg.size == 2 and lg.entry(1) == b"y"
    lg.append(b"z")
    lg.close()
    assert Log.open(log.root, readonly=True).checkpoint_size == 3


def test_recovery_after_a_checkpoint_but_before_the_journal_reset(log):
    log.append_many([b"1", b"2", b"3"])
    journal = (log.root / "journal").read_bytes()
    log.checkpoint()
    log.append(b"4")
    log._release()
    # Put back the journal as it was before the reset, plus the fourth entry: a crash in between.
    from vigiles.ledger.journal import encode_records
    (log.root / "journal").write_bytes(journal + encode_records([b"4"]))
    lg = Log.open(log.root, checkpoint_interval=None)
    assert (lg.size, lg.checkpoint_size, lg.entry(3)) == (4, 3, b"4")
    lg.close()
    assert verify_log(log.root, lg.vkey).ok


def test_open_refuses_a_forged_checkpoint(log):
    log.append(b"a")
    log.close()
    other = generate_signer(ORIGIN)
    from vigiles.ledger.checkpoint import Checkpoint, sign_checkpoint
    (log.root / "checkpoint").write_bytes(sign_checkpoint(Checkpoint(ORIGIN, 1, leaf_hash(b"a")), other))
    with pytest.raises(LedgerError, match="does not verify"):
        Log.open(log.root)


# Records ---------------------------------------------------------------------------------------

def test_records_are_canonical_json():
    a = encode_record("event", {"b": 1, "a": "é", "n": 1.5e21, "z": [True, None]})
    b = encode_record("event", {"z": [True, None], "n": 1.5e21, "a": "é", "b": 1})
    assert a == b == '{"kind":"event","record":{"a":"é","b":1,"n":1.5e+21,"z":[true,null]}}'.encode()
    assert decode_record(a) == {"kind": "event", "record": {"a": "é", "b": 1, "n": 1.5e21, "z": [True, None]}, "blobs": []}
    for kind in ("", "x" * 65, 3):
        with pytest.raises(RecordError):
            encode_record(kind, {})
    with pytest.raises(RecordError):
        encode_record("event", {"x": float("nan")})
    with pytest.raises(RecordError):
        decode_record(b'{"kind":"x"}')


def test_large_evidence_goes_to_blobs(log):
    evidence = "A" * 200_000
    record = {"rule": "r", "evidence": evidence, "lines": ["B" * 40_000, "short"]}
    with pytest.raises(RecordError, match="no blob store"):
        encode_record("finding", record)
    index = log.append_record("finding", record)
    entry = log.entry(index)
    assert len(entry) <= MAX_ENTRY_SIZE
    decoded = decode_record(entry)
    assert len(decoded["blobs"]) == 1 and decoded["record"]["lines"][0] == "B" * 40_000
    assert decoded["record"]["evidence"]["$blob"] == decoded["blobs"][0]
    assert expand_record(decoded["record"], log.blobs.get) == record
    assert record_matches(entry, "finding", record) and not record_matches(entry, "finding", {**record, "rule": "s"})
    blob = log.root / "blobs" / "sha256" / decoded["blobs"][0].split(":")[1]
    assert blob.read_bytes() == evidence.encode()
    # Many small strings: the whole record becomes one blob.
    many = {f"k{i}": "v" * 100 for i in range(2000)}
    entry = encode_record("finding", many, HashOnlyBlobs())
    assert decode_record(entry)["record"]["type"] == "json"
    log.checkpoint()
    assert verify_log(log.root, log.vkey).ok
    blob.write_bytes(b"changed")
    report = verify_log(log.root, log.vkey)
    assert any("blob" in p and "altered" in p for p in report.problems)


def test_canonical_json_is_rfc8785():
    # RFC 8785 section 3.2.3: keys sorted by UTF-16 code units, so U+1F600 sorts before U+FB33.
    assert canonical_json({"\ufb33": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb33":1}'.encode()
    assert canonical_json({"a": 1e-7, "b": 100.0}) == b'{"a":1e-7,"b":100}'
    assert os.path.exists(os.path.join(os.path.dirname(canonical_json.__code__.co_filename), "verifier_standalone.py"))
