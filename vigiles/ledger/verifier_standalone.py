#!/usr/bin/env python3
"""Verify a vigiles incident bundle offline, with nothing but Python 3 and `cryptography`.

    python3 verify.py BUNDLE --vkey VKEY [--policy POLICY]

Checks, against the log verifier key you trust:
  * the checkpoint is signed by that key (c2sp.org/signed-note, c2sp.org/tlog-checkpoint);
  * the witnesses of the policy cosigned it, meeting its quorum (c2sp.org/tlog-cosignature,
    c2sp.org/tlog-policy); without --policy the bundle's own policy file is used;
  * every entry listed in manifest.json is in the signed tree: its RFC 6962 inclusion
    proof (c2sp.org/tlog-proof@v1) leads from the entry's leaf hash to the signed root;
  * each entry is a vigiles record of the listed kind, and its blobs hash to their names.

Exit status: 0 verified, 1 verification failed, 2 usage error. This file is self-contained
on purpose (it is copied into every bundle); it shares no code with the vigiles package.
"""
import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import struct
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

EM_DASH = "\u2014"
ALG_ED25519 = 1
ALG_COSIGNATURE = 4


class Failure(Exception):
    pass


def b64d(text):
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Failure("bad base64: %r" % text[:40])
    if base64.b64encode(data).decode("ascii") != text:
        raise Failure("non-canonical base64: %r" % text[:40])
    return data


# Keys and notes (c2sp.org/signed-note) ----------------------------------------------------------

def key_id(name, alg, public_key):
    """SHA-256(name || 0x0A || type || public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()
    return struct.unpack(">I", digest[:4])[0]


def parse_vkey(vkey):
    """(name, key ID, type, public key) of "<name>+<hex ID>+base64(type || key)"."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3 or not parts[0] or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise Failure("malformed verifier key %r" % vkey[:60])
    name, material = parts[0], b64d(parts[2])
    if len(material) != 33 or material[0] not in (ALG_ED25519, ALG_COSIGNATURE):
        raise Failure("verifier key %r is not an Ed25519 key" % name)
    kid = key_id(name, material[0], material[1:])
    if "%08x" % kid != parts[1]:
        raise Failure("verifier key %r: key ID does not match the key" % name)
    return (name, kid, material[0], material[1:])


def split_note(data):
    """(text, [(name, key ID, signature bytes)]) of a signed note."""
    try:
        msg = data.decode("utf-8")
    except UnicodeDecodeError:
        raise Failure("the note is not UTF-8")
    if any(ord(c) < 0x20 and c != "\n" for c in msg):
        raise Failure("the note holds a control character")
    split = msg.rfind("\n\n")
    if split < 0 or not msg.endswith("\n"):
        raise Failure("the note has no signature block")
    text, sigs = msg[:split + 1], []
    for line in msg[split + 2:-1].split("\n"):
        m = re.fullmatch(EM_DASH + r" (\S+) (\S+)", line)
        if not m:
            raise Failure("malformed signature line %r" % line[:60])
        raw = b64d(m.group(2))
        if len(raw) < 5:
            raise Failure("signature by %r is too short" % m.group(1))
        sigs.append((m.group(1), struct.unpack(">I", raw[:4])[0], raw[4:]))
    if len(sigs) > 100:
        raise Failure("too many signatures")
    return text, sigs


def signature_ok(key, text, sig):
    """Ed25519 over the text (type 1), or cosignature/v1 over time + text (type 4)."""
    _name, _kid, alg, public_key = key
    try:
        pub = Ed25519PublicKey.from_public_bytes(public_key)
        if alg == ALG_ED25519:
            if len(sig) != 64:
                return False
            pub.verify(sig, text)
            return True
        if len(sig) != 72:
            return False
        (ts,) = struct.unpack(">Q", sig[:8])
        if ts >= 1 << 63:
            return False
        pub.verify(sig[8:], b"cosignature/v1\ntime %d\n" % ts + text)
        return True
    except InvalidSignature:
        return False


def parse_checkpoint(text):
    """(origin, size, root) of a c2sp.org/tlog-checkpoint note text."""
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise Failure("the checkpoint needs origin, size and root lines")
    if not re.fullmatch(r"0|[1-9][0-9]{0,19}", lines[1]):
        raise Failure("bad checkpoint size")
    root = b64d(lines[2])
    if len(root) != 32:
        raise Failure("the checkpoint root is not a SHA-256 hash")
    return lines[0], int(lines[1]), root


# Policy (c2sp.org/tlog-policy) ------------------------------------------------------------------

def parse_policy(data):
    if re.search(rb"[^\x09\x0a\x20-\x7e\x80-\xff]", data):
        raise Failure("the policy holds a forbidden byte")
    policy = {"logs": [], "witnesses": {}, "groups": {}, "quorum": None}
    used = set()
    for number, raw in enumerate(data.decode("utf-8", "surrogateescape").split("\n"), start=1):
        line = raw.strip(" \t")
        if not line or line.startswith("#"):
            continue
        words = re.split(r"[ \t]+", line)
        kw, args = words[0], words[1:]
        defined = lambda n: n in policy["witnesses"] or n in policy["groups"]  # noqa: E731
        if kw == "log" and len(args) in (1, 2):
            key = parse_vkey(args[0])
            if key[2] != ALG_ED25519:
                raise Failure("policy line %d: a log key must be an Ed25519 key (type 1)" % number)
            policy["logs"].append(key)
        elif kw == "witness" and len(args) in (2, 3):
            if args[0] == "none" or defined(args[0]):
                raise Failure("policy line %d: %r is defined twice" % (number, args[0]))
            key = parse_vkey(args[1])
            if key[2] != ALG_COSIGNATURE:
                raise Failure("policy line %d: a witness key must be a cosignature key (type 4)" % number)
            policy["witnesses"][args[0]] = key
        elif kw == "group" and len(args) >= 3:
            name, word, members = args[0], args[1], args[2:]
            if name == "none" or defined(name):
                raise Failure("policy line %d: %r is defined twice" % (number, name))
            for m in members:
                if m == "none" or not defined(m) or m in used:
                    raise Failure("policy line %d: bad group member %r" % (number, m))
                used.add(m)
            if word == "all":
                k = len(members)
            elif word == "any":
                k = 1
            elif re.fullmatch(r"[1-9][0-9]*", word) and int(word) <= len(members):
                k = int(word)
            else:
                raise Failure("policy line %d: bad threshold %r" % (number, word))
            policy["groups"][name] = (k, members)
        elif kw == "quorum" and len(args) == 1:
            if policy["quorum"] is not None:
                raise Failure("policy line %d: a second quorum line" % number)
            if args[0] != "none" and not defined(args[0]):
                raise Failure("policy line %d: quorum %r is not defined" % (number, args[0]))
            policy["quorum"] = args[0]
        else:
            raise Failure("policy line %d: cannot parse %r" % (number, line[:60]))
    if policy["quorum"] is None:
        raise Failure("the policy has no quorum line")
    return policy


def witnessed(policy, name, cosigners):
    if name == "none":
        return True
    if name in policy["witnesses"]:
        return name in cosigners
    k, members = policy["groups"][name]
    return sum(witnessed(policy, m, cosigners) for m in members) >= k


# Merkle trees (RFC 6962; inclusion check as in RFC 9162 section 2.1.3.2) -------------------------

def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def inclusion_ok(path, size, root, index, leaf):
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def parse_tlog_proof(data):
    """(index, path, checkpoint bytes) of a c2sp.org/tlog-proof@v1 document."""
    head, sep, checkpoint = data.partition(b"\n\n")
    if not sep:
        raise Failure("the proof has no checkpoint")
    lines = head.decode("ascii", "replace").split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise Failure("not a c2sp.org/tlog-proof@v1 document")
    at = 2 if len(lines) > 1 and lines[1].startswith("extra ") else 1
    if at >= len(lines) or not re.fullmatch(r"index (0|[1-9][0-9]*)", lines[at]):
        raise Failure("the proof has no index line")
    path = [b64d(line) for line in lines[at + 1:]]
    if any(len(h) != 32 for h in path):
        raise Failure("a proof hash is not 32 bytes")
    return int(lines[at][6:]), path, checkpoint


# The bundle -------------------------------------------------------------------------------------

def check_checkpoint(data, log_key, policy):
    """(size, root, message) after checking the log signature and the witness quorum."""
    text, sigs = split_note(data)
    body = text.encode("utf-8")
    name, kid = log_key[0], log_key[1]
    mine = [s for s in sigs if (s[0], s[1]) == (name, kid)]
    if not mine:
        raise Failure("not signed by the log key %s+%08x (signatures by %s)"
                      % (name, kid, ", ".join("%s (key ID %08x)" % (s[0], s[1]) for s in sigs)))
    for s in mine:
        if not signature_ok(log_key, body, s[2]):
            raise Failure("the log's signature on the checkpoint does not verify (its text was altered)")
    origin, size, root = parse_checkpoint(text)
    if origin != name:
        raise Failure("the checkpoint origin %r is not the log key's name %r" % (origin, name))
    message = "no witness policy"
    if policy is not None:
        cosigners = set()
        for wname, wkey in policy["witnesses"].items():
            for s in sigs:
                if (s[0], s[1]) == (wkey[0], wkey[1]):
                    if not signature_ok(wkey, body, s[2]):
                        raise Failure("the cosignature of witness %s does not verify" % wname)
                    cosigners.add(wname)
        have = ", ".join(sorted(cosigners)) or "no witness"
        if not witnessed(policy, policy["quorum"], cosigners):
            raise Failure("witness quorum %s not met: cosigned by %s" % (policy["quorum"], have))
        message = "witness quorum %s met (cosigned by %s)" % (policy["quorum"], have)
    return size, root, message


def verify_bundle(bundle, vkey, policy_bytes=None):
    """(problems, summary) for the bundle directory, against the trusted log key."""
    problems = []
    log_key = parse_vkey(vkey)
    if log_key[2] != ALG_ED25519:
        raise Failure("the --vkey is not an Ed25519 log key")

    def read(rel):
        with open(os.path.join(bundle, rel), "rb") as f:
            return f.read()

    try:
        manifest = json.loads(read("manifest.json"))
        entries = manifest["entries"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return ["manifest.json is missing or malformed: %s" % exc], ""
    policy = None
    if policy_bytes is not None:
        policy = parse_policy(policy_bytes)
        if policy["logs"] and not any(k[3] == log_key[3] for k in policy["logs"]):
            problems.append("the policy does not list the log key %s" % vkey.strip())
    elif os.path.exists(os.path.join(bundle, "policy")):
        try:
            policy = parse_policy(read("policy"))
        except Failure as exc:
            return ["the bundle's policy file: %s" % exc], ""
    try:
        checkpoint = read("checkpoint")
        size, root, message = check_checkpoint(checkpoint, log_key, policy)
    except OSError:
        return problems + ["checkpoint is missing"], ""
    except Failure as exc:
        return problems + ["checkpoint: %s" % exc], ""
    if not entries:
        problems.append("the bundle lists no entries")
    for item in entries:
        try:
            index, kind = int(item["index"]), item["kind"]
            entry = read(item["entry"])
            pindex, path, pcheckpoint = parse_tlog_proof(read(item["proof"]))
        except (OSError, KeyError, TypeError, ValueError, Failure) as exc:
            problems.append("entry %s: unreadable (%s)" % (item.get("index", "?") if isinstance(item, dict) else "?", exc))
            continue
        if pindex != index:
            problems.append("entry %d: its proof is for index %d" % (index, pindex))
        if pcheckpoint != checkpoint:
            problems.append("entry %d: its proof is against a different checkpoint than the bundle's" % index)
        if not inclusion_ok(path, size, root, index, leaf_hash(entry)):
            problems.append("entry %d (%s) is not in the signed log: its inclusion proof does not lead to the root"
                            % (index, item["entry"]))
            continue
        try:
            record = json.loads(entry)
            if not isinstance(record, dict) or not isinstance(record.get("kind"), str) or "record" not in record:
                raise ValueError("not a {kind, record} object")
        except ValueError as exc:
            problems.append("entry %d is not a vigiles record: %s" % (index, exc))
            continue
        if record["kind"] != kind:
            problems.append("entry %d: the manifest says %r, the entry says %r" % (index, kind, record["kind"]))
        for ref in record.get("blobs", []):
            try:
                data = read(os.path.join("blobs", "sha256", str(ref).split(":", 1)[-1]))
            except OSError:
                problems.append("entry %d: blob %s is missing" % (index, ref))
                continue
            if "sha256:" + hashlib.sha256(data).hexdigest() != ref:
                problems.append("entry %d: blob %s was altered" % (index, ref))
    try:
        incident = read(manifest.get("incident", "incident.json"))
        if hashlib.sha256(incident).hexdigest() != manifest.get("incident_sha256"):
            problems.append("incident.json does not match the manifest")
    except OSError:
        problems.append("incident.json is missing")
    summary = "%d entries of %s in the checkpoint of size %d; %s" % (len(entries), log_key[0], size, message)
    return problems, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description="Verify a vigiles incident bundle offline.")
    parser.add_argument("bundle", help="the bundle directory")
    parser.add_argument("--vkey", required=True, help="the log's verifier key, or a file holding it")
    parser.add_argument("--policy", help="a c2sp.org/tlog-policy file you trust (default: the bundle's)")
    args = parser.parse_args(argv)
    try:
        vkey = args.vkey
        if os.path.isfile(vkey):
            with open(vkey) as f:
                vkey = f.read().strip()
        policy_bytes = None
        if args.policy:
            with open(args.policy, "rb") as f:
                policy_bytes = f.read()
        if not os.path.isdir(args.bundle):
            raise Failure("%s is not a directory" % args.bundle)
        problems, summary = verify_bundle(args.bundle, vkey, policy_bytes)
    except (OSError, Failure) as exc:
        sys.stderr.write("error: %s\n" % exc)
        return 2
    if problems:
        sys.stdout.write("FAILED: %d problem(s)\n" % len(problems))
        for p in problems:
            sys.stdout.write("  - %s\n" % p)
        return 1
    sys.stdout.write("OK: %s\n" % summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
