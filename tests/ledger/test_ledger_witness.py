"""tlog-witness over real HTTP on 127.0.0.1: the witness's answers, its state, the log's client, and quorums."""
import http.client
import socket
import subprocess
import sys
import threading

import pytest
from typer.testing import CliRunner

from vigiles.cli.ledger import app
from vigiles.ledger.checkpoint import Checkpoint, parse_checkpoint, sign_checkpoint
from vigiles.ledger.cosignature import verify_cosignatures
from vigiles.ledger.log import Log
from vigiles.ledger.note import ALG_COSIGNATURE_V1, generate_signer, split_note
from vigiles.ledger.policy import parse_policy
from vigiles.ledger.tree import MemoryTree
from vigiles.ledger.witness import SizeConflict, Witness, WitnessClient, encode_request, origin_hash

ORIGIN = "example.org/vigiles-witnessed"


def post(url, body):
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("POST", "/add-checkpoint", body=body)
    resp = conn.getresponse()
    out = resp.status, resp.getheader("Content-Type"), resp.read()
    conn.close()
    return out


class Chain:
    """Signed checkpoints of a growing in-memory log, and proofs between them."""

    def __init__(self, signer, entries=None):
        self.signer = signer
        self.tree = MemoryTree(entries or [b"e%d" % i for i in range(64)])

    def note(self, size):
        return sign_checkpoint(Checkpoint(self.signer.name, size, self.tree.root(size)), self.signer)

    def request(self, old, size, proof=None):
        return encode_request(old, self.tree.prove_tree(old, size) if proof is None else proof, self.note(size))


@pytest.fixture
def setup(start_witness):
    log = generate_signer(ORIGIN)
    url, wsigner, witness = start_witness([log.verifier()])
    return Chain(log), url, wsigner, witness


def test_add_checkpoint_answers(setup):
    chain, url, wsigner, witness = setup
    status, _, body = post(url, chain.request(0, 10))
    assert status == 200
    note = chain.note(10)
    assert verify_cosignatures(note + body, [wsigner.verifier()]).keys() == {"witness.example.org/w1"}
    # Wrong old size: 409 with the witness's size.
    assert post(url, chain.request(0, 20)) == (409, "text/x.tlog.size", b"10\n")
    assert post(url, chain.request(10, 20))[0] == 200
    # A proof that does not verify, a proof from zero, a root that differs at the same size: 422.
    assert post(url, chain.request(20, 30, proof=chain.tree.prove_tree(19, 30)))[0] == 422
    forked = Chain(chain.signer, [b"x%d" % i for i in range(64)])
    assert post(url, forked.request(20, 20, proof=[]))[0] == 422
    assert post(url, forked.request(20, 40))[0] == 422
    assert post(url, chain.request(20, 20, proof=[]))[0] == 200   # same tree again: cosigned
    # Unknown origin 404; unknown key or bad signature 403; nonsense 400; old > size 400.
    stranger = Chain(generate_signer("example.org/stranger"))
    assert post(url, stranger.request(0, 5))[0] == 404
    assert post(url, Chain(generate_signer(ORIGIN)).request(20, 30))[0] == 403
    altered = chain.request(20, 30).replace(b"\n30\n", b"\n31\n")
    assert post(url, altered)[0] == 403
    assert post(url, b"hello")[0] == 400
    assert post(url, encode_request(40, [], chain.note(30)))[0] == 400
    # Monitoring: the latest cosigned checkpoint, with the log's signature and the cosignature.
    host, port = url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", f"/{origin_hash(ORIGIN)}/checkpoint")
    resp = conn.getresponse()
    latest = resp.read()
    assert resp.status == 200 and parse_checkpoint(split_note(latest)[0]).size == 20
    assert [s.name for s in split_note(latest)[1]] == [ORIGIN, "witness.example.org/w1"]
    conn.request("GET", f"/{origin_hash('example.org/none')}/checkpoint")
    assert conn.getresponse().status == 404


def test_size_zero_checkpoints(setup):
    chain, url, _, _ = setup
    assert post(url, encode_request(0, [], chain.note(0)))[0] == 200
    bad = sign_checkpoint(Checkpoint(ORIGIN, 0, b"\x01" * 32), chain.signer)
    assert post(url, encode_request(0, [], bad))[0] == 422
    assert post(url, encode_request(0, chain.tree.prove_tree(1, 4), chain.note(4)))[0] == 422


def test_state_survives_a_restart(setup, tmp_path):
    chain, url, wsigner, witness = setup
    assert post(url, chain.request(0, 12))[0] == 200
    again = Witness(witness.state_dir, wsigner, [chain.signer.verifier()])
    assert again.add_checkpoint(chain.request(0, 20))[:2] == (409, "text/x.tlog.size")
    assert again.add_checkpoint(chain.request(12, 20))[0] == 200
    assert sorted(p.name for p in (witness.state_dir / "logs").iterdir()) == [origin_hash(ORIGIN)]
    assert list((witness.state_dir / ".tmp").iterdir()) == []


def test_no_rollback_under_concurrent_requests(setup):
    """The race tlog-witness describes: many requests from the same old size, only one may win."""
    chain, url, _, witness = setup
    assert post(url, chain.request(0, 5))[0] == 200
    sizes = list(range(6, 64, 3))
    results = {}

    def submit(size):
        results[size] = post(url, chain.request(5, size))[0]

    threads = [threading.Thread(target=submit, args=(s,)) for s in sizes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [s for s, status in results.items() if status == 200]
    assert len(winners) == 1 and all(status == 409 for s, status in results.items() if s not in winners)
    state = (witness.state_dir / "logs" / origin_hash(ORIGIN)).read_bytes()
    assert parse_checkpoint(split_note(state)[0]).size == winners[0]


def test_client_follows_409_and_checks_the_answer(setup):
    chain, url, wsigner, _ = setup
    client = WitnessClient(url, wsigner.verifier())
    assert post(url, chain.request(0, 8))[0] == 200
    sigs, size = client.submit(chain.note(30), 30, 0, lambda old: chain.tree.prove_tree(old, 30))
    assert size == 30 and sigs[0].name == "witness.example.org/w1"
    with pytest.raises(SizeConflict):
        client.add_checkpoint(0, [], chain.note(40))
    # A client that trusts another key for this witness rejects the answer.
    impostor = WitnessClient(url, generate_signer("witness.example.org/w1", ALG_COSIGNATURE_V1).verifier())
    with pytest.raises(Exception, match="no cosignature"):
        impostor.add_checkpoint(30, chain.tree.prove_tree(30, 40), chain.note(40))
    client.close()


def test_log_gets_cosigned_and_verify_enforces_the_quorum(tmp_path, start_witness):
    lg = Log.init(tmp_path / "ledger", ORIGIN, checkpoint_interval=None)
    url1, w1, _ = start_witness([lg.verifier], name="witness.example.org/w1")
    url2, w2, _ = start_witness([lg.verifier], name="witness.example.org/w2")
    dead = socket.socket()
    dead.bind(("127.0.0.1", 0))
    dead_port = dead.getsockname()[1]
    dead.close()  # nothing listens there
    w3 = generate_signer("witness.example.org/w3", ALG_COSIGNATURE_V1)
    policy_text = (f"log {lg.vkey}\nwitness w1 {w1.vkey} {url1}\nwitness w2 {w2.vkey} {url2}\n"
                   f"witness w3 {w3.vkey} http://127.0.0.1:{dead_port}\ngroup two 2 w1 w2 w3\nquorum two\n")
    (tmp_path / "ledger" / "policy").write_text(policy_text)
    lg.close()
    lg = Log.open(tmp_path / "ledger", checkpoint_interval=None, witness_timeout=2)
    lg.append_records([("event", {"i": i}) for i in range(100)])
    note = lg.checkpoint()
    assert [s.name for s in split_note(note)[1]] == [ORIGIN, "witness.example.org/w1", "witness.example.org/w2"]
    lg.append_records([("event", {"i": i}) for i in range(100, 300)])
    note = lg.checkpoint()  # the witnesses now check a consistency proof from 100 to 300
    assert len(split_note(note)[1]) == 3
    lg.close()
    policy_file = tmp_path / "policy"
    policy_file.write_text(policy_text)
    runner = CliRunner()
    result = runner.invoke(app, ["verify", str(tmp_path / "ledger"), "--policy", str(policy_file)])
    assert result.exit_code == 0 and "quorum two met (cosigned by w1, w2)" in result.output
    strict = tmp_path / "strict"
    strict.write_text(policy_text.replace("group two 2", "group two 3"))
    result = runner.invoke(app, ["verify", str(tmp_path / "ledger"), "--policy", str(strict)])
    assert result.exit_code == 1 and "witness quorum two not met: cosigned by w1, w2" in result.output


def test_a_fork_gets_no_cosignature(tmp_path, start_witness):
    lg = Log.init(tmp_path / "a", ORIGIN, checkpoint_interval=None)
    skey = (tmp_path / "a" / "key").read_text()
    url, w1, _ = start_witness([lg.verifier])
    policy = f"log {lg.vkey}\nwitness w1 {w1.vkey} {url}\nquorum w1\n"
    (tmp_path / "a" / "policy").write_text(policy)
    lg.close()
    honest = Log.open(tmp_path / "a", checkpoint_interval=None)
    honest.append_many([b"a", b"b", b"c"])
    assert len(split_note(honest.checkpoint())[1]) == 2
    honest.close()
    # The same key signs a different history; the witness has seen the honest one.
    fork = Log.init(tmp_path / "b", ORIGIN, key=skey, checkpoint_interval=None)
    (tmp_path / "b" / "policy").write_text(policy)
    fork.close()
    fork = Log.open(tmp_path / "b", key=skey, checkpoint_interval=None, witness_timeout=2)
    fork.append_many([b"a", b"B", b"c", b"d"])
    note = fork.checkpoint()
    assert [s.name for s in split_note(note)[1]] == [ORIGIN]
    fork.close()
    verdict = parse_policy(policy).evaluate(note)
    assert not verdict.satisfied


def test_witness_serve_command(tmp_path):
    lg = Log.init(tmp_path / "ledger", ORIGIN, checkpoint_interval=None)
    code = "import sys; from vigiles.cli.ledger import witness_app; sys.argv[0] = 'vigiles witness'; witness_app()"
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--state", str(tmp_path / "w"), "--name",
                             "witness.example.org/cli", "--log", lg.vkey, "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first, second = proc.stdout.readline().split(), proc.stdout.readline().split()
        assert first[0] == "witness" and first[1] == "witness.example.org/cli" and second[0] == "listening"
        vkey, url = first[3], second[2]
        assert url.startswith("http://127.0.0.1:")
        (tmp_path / "ledger" / "policy").write_text(f"log {lg.vkey}\nwitness w {vkey} {url}\nquorum w\n")
        lg.close()
        lg = Log.open(tmp_path / "ledger", checkpoint_interval=None)
        lg.append(b"hello")
        note = lg.checkpoint()
        lg.close()
        assert [s.name for s in split_note(note)[1]] == [ORIGIN, "witness.example.org/cli"]
        key = tmp_path / "w" / "key"
        assert oct(key.stat().st_mode & 0o777) == "0o600"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    result = CliRunner().invoke(app, ["verify", str(tmp_path / "ledger")])
    assert result.exit_code == 0
