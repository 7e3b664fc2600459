"""Signed notes, checkpoints, cosignatures, policies and proofs against the C2SP examples.

Vectors are copied from the specs (c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature,
tlog-witness, tlog-proof, tlog-policy) and from golang.org/x/mod/sumdb/note's documented
example; the specs publish no public key for the behind-the-sofa log or witness w1, so those
examples are checked for structure, key IDs and timestamps, and signing is checked with keys
made here.
"""
import struct

import pytest

from vigiles.ledger.checkpoint import Checkpoint, CheckpointError, open_checkpoint, parse_checkpoint, sign_checkpoint
from vigiles.ledger.cosignature import (CosignatureVerifier, cosign, signed_message, timestamp_of,
                                        verify_cosignatures)
from vigiles.ledger.note import (ALG_COSIGNATURE_V1, InvalidSignatureError, NoteError, UnverifiedNoteError,
                                 add_signatures, b64decode, generate_signer, key_id, open_note, parse_skey,
                                 parse_vkey, sign_note, split_note)
from vigiles.ledger.policy import PolicyError, parse_policy
from vigiles.ledger.proof import TlogProof, TlogProofError, parse_proof, verify_proof
from vigiles.ledger.tree import MemoryTree
from vigiles.ledger.witness import encode_request, parse_request

# c2sp.org/signed-note, "Verifier keys / Example".
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = ("This is an example message.\n\n"
             "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n")
# c2sp.org/signed-note, opening example (the key is not published).
QUASIMODO = ("Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n"
             "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n")
# golang.org/x/mod/sumdb/note package documentation example.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
# c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature examples.
SOFA_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SOFA_SIG = "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
W1_COSIG = "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n"
COSIGNED_MESSAGE = ("cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
                    "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
# c2sp.org/tlog-witness, add-checkpoint example request body.
WITNESS_REQUEST = ("old 20852014\n"
                   "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n"
                   "jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n"
                   "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n"
                   "/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n"
                   "\n" + SOFA_TEXT + "\n" + SOFA_SIG +
                   "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n")


def test_signed_note_spec_example_verifies():
    v = parse_vkey(SPEC_VKEY)
    assert (v.name, v.key_id) == ("example.com/foo", 0x530D903A)
    assert v.vkey == SPEC_VKEY
    note = open_note(SPEC_NOTE.encode(), [v])
    assert note.text == "This is an example message.\n" and len(note.sigs) == 1
    with pytest.raises(InvalidSignatureError):
        open_note(SPEC_NOTE.replace("example message", "example massage").encode(), [v])


def test_go_note_example_signs_byte_for_byte():
    signer = parse_skey(GO_SKEY)
    assert signer.skey == GO_SKEY and signer.vkey == GO_VKEY
    assert sign_note(GO_TEXT, [signer]).decode() == GO_NOTE
    assert open_note(GO_NOTE.encode(), [parse_vkey(GO_VKEY)]).text == GO_TEXT


def test_quasimodo_example_splits_at_the_last_blank_line_and_needs_a_known_key():
    text, sigs = split_note(QUASIMODO)
    assert text.endswith("\n\ned è subito sera.\n")
    assert [(s.name, s.key_id, len(s.sig)) for s in sigs] == [("quasimodo.example/salvatore", 0x367BA04B, 64)]
    with pytest.raises(UnverifiedNoteError) as caught:
        open_note(QUASIMODO.encode(), [parse_vkey(SPEC_VKEY)])
    assert caught.value.signatures[0].name == "quasimodo.example/salvatore"


def test_key_id_definition():
    v = parse_vkey(SPEC_VKEY)
    assert key_id(v.name, 0x01, v.public_key) == 0x530D903A
    # The same key as a cosigner (type 0x04) has another ID, and a vkey of its own.
    cosigner = CosignatureVerifier(v.name, v.public_key)
    assert cosigner.key_id != v.key_id and parse_vkey(cosigner.vkey) == cosigner


def test_unknown_keys_are_ignored_even_with_a_shared_name():
    mine = generate_signer("example.org/log")
    other = generate_signer("example.org/log")  # same name, different key, so another ID
    note = sign_note("hello\n", [other, mine])
    opened = open_note(note, [mine.verifier()])
    assert [s.key_id for s in opened.sigs] == [mine.key_id]
    assert [s.key_id for s in opened.unverified] == [other.key_id]
    with pytest.raises(UnverifiedNoteError):
        open_note(sign_note("hello\n", [other]), [mine.verifier()])


@pytest.mark.parametrize("bad", [
    "no blank line\n— example.com/foo AAAA\n",
    "text\n\n- example.com/foo Uw2QOkn8\n",                 # hyphen, not em dash
    "text\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONn\n",  # padding missing
    "text\n\n— example.com/foo Uw2Q\n",                      # too short for a key ID and a signature
    "text\n\n— example com/foo Uw2QOkn8srV1\n",
    "text\n\n— example.com/foo AAAAAAAA",                    # no final newline
    "te\x01xt\n\n— example.com/foo AAAAAAAA\n",              # control character
    "text\n\n",                                              # no signature
    "text\n\n" + "— example.com/foo AAAAAAAA\n" * 101,       # too many signatures
])
def test_malformed_notes_are_rejected(bad):
    with pytest.raises(NoteError):
        open_note(bad.encode(), [parse_vkey(SPEC_VKEY)])


@pytest.mark.parametrize("bad", [
    SPEC_VKEY.replace("530d903a", "530d903b"),                # wrong key ID
    SPEC_VKEY.replace("+AekyeR", "+BekyeR"),                  # unknown signature type
    "example.com/foo+530d903a",
    "example com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
    "example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
])
def test_malformed_vkeys_are_rejected(bad):
    with pytest.raises(NoteError):
        parse_vkey(bad)


def test_checkpoint_example_parses():
    cp = parse_checkpoint(SOFA_TEXT)
    assert (cp.origin, cp.size, cp.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert cp.text() == SOFA_TEXT
    _, sigs = split_note(SOFA_TEXT + "\n" + SOFA_SIG)
    assert sigs[0].key_id == 0x033DE0AE and len(sigs[0].sig) == 64


@pytest.mark.parametrize("bad", [
    "origin\n012\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",    # leading zero
    "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",      # bad base64
    "origin\n12\nAAAA\n",                                             # not 32 bytes
    "origin\n12\n",                                                   # no root line
    "\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",           # empty origin
    "origin\n12\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",   # empty extension line
    "origin\n0\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",      # size 0 needs the empty root
])
def test_malformed_checkpoints_are_rejected(bad):
    with pytest.raises(CheckpointError):
        parse_checkpoint(bad)


def test_checkpoint_sign_and_open():
    signer = generate_signer("example.org/log")
    cp = Checkpoint("example.org/log", 3, MemoryTree([b"a", b"b", b"c"]).root())
    note = sign_checkpoint(cp, signer)
    assert open_checkpoint(note, [signer.verifier()], "example.org/log")[0] == cp
    with pytest.raises(CheckpointError):
        open_checkpoint(note, [signer.verifier()], "example.org/other")


def test_cosignature_example_structure():
    _, sigs = split_note(SOFA_TEXT + "\n" + SOFA_SIG + W1_COSIG)
    w1 = sigs[1]
    assert (w1.name, w1.key_id, len(w1.sig)) == ("witness.example.com/w1", 0x8D66CF3F, 72)
    # The timestamp inside the example cosignature is the one of the spec's signed-message example.
    assert timestamp_of(w1.sig) == 1679315147
    assert signed_message(1679315147, SOFA_TEXT) == COSIGNED_MESSAGE.encode()


def test_cosign_and_verify():
    log = generate_signer("example.org/log")
    w = generate_signer("witness.example.org/w1", ALG_COSIGNATURE_V1)
    note = sign_checkpoint(Checkpoint("example.org/log", 0, MemoryTree().root()), log)
    sig = cosign(note, w, timestamp=1679315147)
    assert struct.unpack(">Q", sig.sig[:8])[0] == 1679315147
    cosigned = add_signatures(note, [sig])
    assert verify_cosignatures(cosigned, [w.verifier()]) == {"witness.example.org/w1": 1679315147}
    assert open_note(cosigned, [log.verifier(), w.verifier()]).sigs[1] == sig
    # The cosignature covers the timestamp: another time does not verify.
    forged = type(sig)(sig.name, sig.key_id, struct.pack(">Q", 1679315148) + sig.sig[8:])
    with pytest.raises(NoteError):
        verify_cosignatures(add_signatures(note, [forged]), [w.verifier()])
    # A plain Ed25519 signature by the same key is not a cosignature.
    assert not w.verifier().verify(split_note(note)[0].encode(), sig.sig[8:])


def test_witness_request_example_round_trips():
    old, proof, checkpoint = parse_request(WITNESS_REQUEST.encode())
    assert old == 20852014 and len(proof) == 4
    assert proof[0] == b64decode("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=")
    assert encode_request(old, proof, checkpoint) == WITNESS_REQUEST.encode()
    _, sigs = split_note(checkpoint)
    # Two signatures by the same name with different key IDs: only one can match a given key.
    assert [s.key_id for s in sigs] == [0x033DE0AE, 0xA292EA05]
    for bad in (b"old 01\n\n" + checkpoint, b"old 5\nnot base64\n\n" + checkpoint, b"old 5\n" + checkpoint,
                b"old 5\n" + b"AAAA\n" + b"\n" + checkpoint):
        with pytest.raises(ValueError):
            parse_request(bad)


TLOG_PROOF_EXAMPLE = (
    "c2sp.org/tlog-proof@v1\n"
    "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
    "index 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
    "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
    "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
    "\n"
    "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n\n"
    "— example.com/fancylog hI2DJw[...]1roloI=\n")


def test_tlog_proof_example_parses():
    proof = parse_proof(TLOG_PROOF_EXAMPLE.encode())
    assert proof.index == 73894 and len(proof.path) == 5
    assert proof.extra.startswith(b"age-v1.2.1-darwin-arm64.tar.gz")
    assert proof.checkpoint.startswith(b"example.com/fancylog\n109482\n")
    assert proof.encode() == TLOG_PROOF_EXAMPLE.encode()


def test_tlog_proof_verifies_and_detects_changes():
    signer = generate_signer("example.org/log")
    entries = [b"e%d" % i for i in range(13)]
    tree = MemoryTree(entries)
    note = sign_checkpoint(Checkpoint("example.org/log", 13, tree.root()), signer)
    proof = TlogProof(5, tuple(tree.prove_record(5)), note)
    parsed = parse_proof(proof.encode())
    assert verify_proof(parsed, entries[5], verifiers=[signer.verifier()]).size == 13
    with pytest.raises(TlogProofError):
        verify_proof(parsed, b"e6", verifiers=[signer.verifier()])
    with pytest.raises(TlogProofError):
        verify_proof(TlogProof(6, parsed.path, note), entries[5], verifiers=[signer.verifier()])
    with pytest.raises(TlogProofError):
        verify_proof(parsed, entries[5], verifiers=[generate_signer("example.org/log").verifier()])
    for bad in (b"c2sp.org/tlog-proof@v2\nindex 1\n\n" + note, b"c2sp.org/tlog-proof@v1\nindex 01\n\n" + note,
                b"c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n" + note, b"c2sp.org/tlog-proof@v1\nindex 1\n" + note):
        with pytest.raises(TlogProofError):
            parse_proof(bad)


# Policies --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def keys():
    log = generate_signer("example.org/log")
    ws = {n: generate_signer(f"witness.example/{n}", ALG_COSIGNATURE_V1) for n in ("X1", "X2", "X3", "Y1", "Y2", "Y3")}
    return log, ws


def spec_policy(log, ws):
    """The tlog-policy example, with real keys."""
    return parse_policy(
        f"log {log.vkey}\n\n"
        f"witness X1 {ws['X1'].vkey}\nwitness X2 {ws['X2'].vkey}\nwitness X3 {ws['X3'].vkey}\n"
        "group X-witnesses 2 X1 X2 X3\n\n"
        f"witness Y1 {ws['Y1'].vkey}\nwitness Y2 {ws['Y2'].vkey}\nwitness Y3 {ws['Y3'].vkey}\n"
        "group Y-witnesses any Y1 Y2 Y3\n\n"
        "group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n")


def test_policy_example_quorum(keys):
    policy = spec_policy(*keys)
    assert policy.satisfied({"X1", "X2", "Y3"})
    assert policy.satisfied({"X1", "X2", "X3", "Y1", "Y2", "Y3"})
    assert not policy.satisfied({"X1", "Y1", "Y2", "Y3"})       # one X is not two
    assert not policy.satisfied({"X1", "X2", "X3"})             # no Y
    assert not policy.satisfied(set())
    assert parse_policy(policy.text()).text() == policy.text()


def test_policy_verifies_cosigned_checkpoints(keys):
    log, ws = keys
    policy = spec_policy(log, ws)
    note = sign_checkpoint(Checkpoint("example.org/log", 1, MemoryTree([b"a"]).root()), log)
    cosigned = add_signatures(note, [cosign(note, ws[n]) for n in ("X1", "X3", "Y2")])
    verdict = policy.verify_checkpoint(cosigned, "example.org/log")
    assert verdict.satisfied and set(verdict.cosigners) == {"X1", "X3", "Y2"}
    with pytest.raises(PolicyError, match="quorum X-and-Y not met"):
        policy.verify_checkpoint(add_signatures(note, [cosign(note, ws["X1"]), cosign(note, ws["Y2"])]))
    with pytest.raises(PolicyError, match="not signed by any log"):
        other = sign_checkpoint(Checkpoint("example.org/log", 1, MemoryTree([b"a"]).root()),
                                generate_signer("example.org/log"))
        policy.verify_checkpoint(add_signatures(other, [cosign(other, ws[n]) for n in ("X1", "X2", "Y1")]))
    assert parse_policy(f"log {log.vkey}\nquorum none\n").verify_checkpoint(note).satisfied


def test_policy_syntax(keys):
    log, ws = keys
    w = ws["X1"].vkey
    ok = parse_policy(f"  # comment\n\tlog\t{log.vkey}  https://log.example/\nwitness K {w}\nquorum K  \n")
    assert ok.logs[0].url == "https://log.example/" and ok.quorum == "K"
    # Names are opaque octets: the Kelvin sign is not the letter K.
    kelvin = parse_policy(f"witness K {w}\nwitness \u212a {ws['X2'].vkey}\ngroup g all K \u212a\nquorum g\n")
    assert kelvin.satisfied({"K", "\u212a"}) and not kelvin.satisfied({"K"})
    bad = [
        f"witness A {w}\nquorum B\n",                                        # quorum not defined
        f"witness A {w}\ngroup g 2 A\nquorum g\n",                            # k > n
        f"witness A {w}\ngroup g 0 A\nquorum g\n",                            # k = 0
        f"witness A {w}\ngroup g any A none\nquorum g\n",                     # none as a member
        f"witness A {w}\ngroup g any A\ngroup h any A\nquorum h\n",           # member used twice
        f"group g any A\nwitness A {w}\nquorum g\n",                          # defined later
        f"witness A {w}\nwitness B {w}\nquorum A\n",                          # duplicate key
        f"witness A {w}\nwitness A {ws['X2'].vkey}\nquorum A\n",              # duplicate name
        f"witness none {w}\nquorum none\n",
        f"witness A {log.vkey}\nquorum A\n",                                  # a log key as witness
        f"log {w}\nquorum none\n",                                            # a cosigner key as log
        "quorum none\nquorum none\n",
        f"witness A {w}\n",                                                   # no quorum
        "quorum none\r\n",                                                    # CR is not allowed
        "frobnicate x\nquorum none\n",
    ]
    for text in bad:
        with pytest.raises(PolicyError):
            parse_policy(text)
