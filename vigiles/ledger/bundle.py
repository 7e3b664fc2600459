"""Incident bundles: everything a third party needs to check an incident offline.

    manifest.json              what is in the bundle (entries, kinds, files)
    incident.json              the incident record (canonical JSON)
    entries/<index>.json       each ledger entry the incident rests on, byte for byte
    proofs/<index>.tlog-proof  its c2sp.org/tlog-proof@v1 against the bundle's checkpoint
    blobs/sha256/<hex>         evidence the entries reference
    checkpoint                 the signed (and cosigned) checkpoint every proof uses
    log.vkey                   the log's verifier key (check it against one you trust)
    policy                     c2sp.org/tlog-policy: the log, its witnesses, the quorum
    verify.py                  a verifier needing only Python and `cryptography`
    README.txt

`verify_bundle` here and verify.py check the same things with separate code.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterable

from .checkpoint import CheckpointError, open_checkpoint
from .durable import write_files
from .note import Ed25519Verifier, NoteError, UnverifiedNoteError, parse_vkey
from .policy import PolicyError, TrustedLog, parse_policy, single_log_policy
from .proof import TlogProofError, parse_proof
from .records import RecordError, canonical_json, decode_record, record_matches
from .tree import ProofError, check_record, leaf_hash

FORMAT = "vigiles-bundle/1"
STANDALONE = Path(__file__).with_name("verifier_standalone.py")


class BundleError(ValueError):
    """The bundle cannot be made (an item is not what the ledger holds, or not checkpointed)."""


README = """\
Incident bundle from the vigiles ledger {origin}

Every file under entries/ is a ledger entry, byte for byte. proofs/ holds, for each, a
c2sp.org/tlog-proof@v1 proof of inclusion in the tree of the signed checkpoint
(size {size}). To check the bundle you need the log's verifier key from a source you
trust (log.vkey is here for convenience only), Python 3 and the `cryptography` package:

    python3 verify.py . --vkey '{vkey}'

Add --policy FILE to require the witness quorum of a policy you trust; without it the
quorum of the bundle's own policy file is checked (with the log key you gave).
"""


def export_bundle(log, incident: dict, items: Iterable[tuple[str, dict, int]], out_dir: Path | str) -> Path:
    """Write an incident bundle for `items` — (kind, record, ledger index) of every event and
    finding the incident rests on — proved against one checkpoint of `log`."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise BundleError(f"{out} exists and is not empty")
    items = sorted({index: (kind, record, index) for kind, record, index in items}.values(), key=lambda t: t[2])
    if not items:
        raise BundleError("a bundle needs at least one ledger entry")
    if any(index >= log.checkpoint_size for _, _, index in items):
        if log.readonly:
            raise BundleError("some entries are not in the latest checkpoint; open the ledger for writing")
        log.checkpoint()
    cp_note, size = log.latest_checkpoint(), log.checkpoint_size
    files: dict[str, bytes] = {}
    listed = []
    for kind, record, index in items:
        entry = log.entry(index)
        if not record_matches(entry, kind, record):
            raise BundleError(f"ledger entry {index} is not the {kind} record given")
        proof = log.tlog_proof(index)
        blobs = decode_record(entry)["blobs"]
        for ref in blobs:
            files["blobs/sha256/" + ref.split(":", 1)[1]] = log.blobs.get(ref)
        files[f"entries/{index}.json"] = entry
        files[f"proofs/{index}.tlog-proof"] = proof
        listed.append({"index": index, "kind": kind, "entry": f"entries/{index}.json",
                       "proof": f"proofs/{index}.tlog-proof", "sha256": hashlib.sha256(entry).hexdigest(),
                       "blobs": blobs})
    incident_bytes = canonical_json(incident)
    policy_path = Path(log.root) / "policy"
    policy = policy_path.read_bytes() if policy_path.exists() else single_log_policy(log.vkey).text().encode()
    manifest = {"format": FORMAT, "origin": log.origin, "checkpoint_size": size,
                "incident": "incident.json", "incident_sha256": hashlib.sha256(incident_bytes).hexdigest(),
                "entries": listed}
    files.update({
        "manifest.json": (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(),
        "incident.json": incident_bytes,
        "checkpoint": cp_note,
        "log.vkey": (log.vkey + "\n").encode(),
        "policy": policy,
        "verify.py": STANDALONE.read_bytes(),
        "README.txt": README.format(origin=log.origin, size=size, vkey=log.vkey).encode(),
    })
    out.mkdir(parents=True, exist_ok=True)
    write_files(out, sorted(files.items()), tmp_dir=out / ".tmp")
    (out / ".tmp").rmdir()
    return out


def verify_bundle(bundle_dir: Path | str, vkey: str, policy: bytes | None = None) -> list[str]:
    """The problems found in a bundle (empty: it verifies) against the trusted log key `vkey`.

    With `policy` (a tlog-policy you trust) its quorum must have cosigned the checkpoint;
    without, the witnesses and quorum of the bundle's own policy file are applied.
    """
    root = Path(bundle_dir)
    problems: list[str] = []
    try:
        log_key = parse_vkey(vkey)
    except NoteError as exc:
        return [f"bad verifier key: {exc}"]
    if not isinstance(log_key, Ed25519Verifier):
        return ["the verifier key is not an Ed25519 log key"]
    try:
        manifest = json.loads((root / "manifest.json").read_text())
        entries = manifest["entries"]
        origin = manifest["origin"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return [f"manifest.json is missing or malformed: {exc}"]
    if origin != log_key.name:
        problems.append(f"the bundle is for origin {origin!r}, but the key is {log_key.name!r}")
    try:
        cp_note = (root / "checkpoint").read_bytes()
    except OSError:
        return problems + ["checkpoint is missing"]
    try:
        cp, _ = open_checkpoint(cp_note, [log_key], log_key.name)
    except UnverifiedNoteError as exc:
        found = ", ".join(f"{s.name} (key ID {s.key_id:08x})" for s in exc.signatures) or "none"
        return problems + [f"checkpoint: not signed by the log key {log_key.name}+{log_key.key_id:08x} "
                           f"(signatures by {found})"]
    except (NoteError, CheckpointError) as exc:
        return problems + [f"checkpoint: {exc}"]
    try:
        pol = parse_policy(policy if policy is not None else (root / "policy").read_bytes())
        if policy is not None and pol.logs and not any(t.verifier.public_key == log_key.public_key for t in pol.logs):
            problems.append(f"the policy does not list the log key {log_key.vkey}")
        pol.logs = [TrustedLog(log_key)]
        verdict = pol.evaluate(cp_note, log_key.name)
        if not verdict.satisfied:
            problems.append(f"checkpoint: witness {verdict.describe()}")
    except FileNotFoundError:
        pass
    except (OSError, PolicyError) as exc:
        problems.append(f"policy: {exc}")
    if not entries:
        problems.append("the bundle lists no entries")
    for item in entries:
        try:
            index, kind = int(item["index"]), item["kind"]
            entry = (root / item["entry"]).read_bytes()
            proof = parse_proof((root / item["proof"]).read_bytes())
        except (OSError, KeyError, TypeError, ValueError, TlogProofError) as exc:
            problems.append(f"entry {item.get('index', '?') if isinstance(item, dict) else '?'}: unreadable ({exc})")
            continue
        if proof.index != index:
            problems.append(f"entry {index}: its proof is for index {proof.index}")
        if proof.checkpoint != cp_note:
            problems.append(f"entry {index}: its proof is against a different checkpoint than the bundle's")
        try:
            check_record(proof.path, cp.size, cp.root, index, leaf_hash(entry))
        except ProofError as exc:
            problems.append(f"entry {index} ({item['entry']}) is not in the signed log: {exc}")
            continue
        try:
            record = decode_record(entry)
        except RecordError as exc:
            problems.append(f"entry {index}: {exc}")
            continue
        if record["kind"] != kind:
            problems.append(f"entry {index}: the manifest says {kind!r}, the entry says {record['kind']!r}")
        for ref in record["blobs"]:
            path = root / "blobs" / "sha256" / ref.split(":", 1)[-1]
            try:
                data = path.read_bytes()
            except OSError:
                problems.append(f"entry {index}: blob {ref} is missing")
                continue
            if "sha256:" + hashlib.sha256(data).hexdigest() != ref:
                problems.append(f"entry {index}: blob {ref} was altered")
    try:
        incident = (root / manifest.get("incident", "incident.json")).read_bytes()
        if hashlib.sha256(incident).hexdigest() != manifest.get("incident_sha256"):
            problems.append("incident.json does not match the manifest")
    except OSError:
        problems.append("incident.json is missing")
    return problems
