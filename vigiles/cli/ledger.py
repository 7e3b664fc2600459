"""`vigiles ledger ...` and `vigiles witness ...`: the signed transparency log from the command line.

Exit status: 0 fine, 1 verification failed, 2 usage error or unreadable input.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="The signed transparency log (C2SP tlog-tiles, checkpoints, proofs).")
witness_app = typer.Typer(no_args_is_help=True, add_completion=False,
                          help="A C2SP tlog-witness: cosigns checkpoints after checking consistency.")


def _fail(message: str, code: int = 2) -> typer.Exit:
    sys.stderr.write(f"error: {message}\n")
    return typer.Exit(code)


def _key_text(key_file: Optional[Path]) -> Optional[str]:
    if key_file is None:
        return None
    try:
        return key_file.read_text()
    except OSError as exc:
        raise _fail(f"cannot read key file {key_file}: {exc}")


def _vkey_arg(value: Optional[str]) -> Optional[str]:
    """A vkey given inline, or the path of a file holding one."""
    if value is None:
        return None
    if "+" not in value or os.path.isfile(value):
        try:
            return Path(value).read_text().strip()
        except OSError as exc:
            raise _fail(f"--vkey is neither a verifier key nor a readable file: {exc}")
    return value.strip()


def _open(directory: Path, key_file: Optional[Path] = None, readonly: bool = False):
    from ..ledger.log import LedgerError, Log
    try:
        return Log.open(directory, key=_key_text(key_file), readonly=readonly, checkpoint_interval=None)
    except (LedgerError, OSError) as exc:
        raise _fail(str(exc))


@app.command()
def init(
    directory: Path = typer.Argument(..., help="Directory for the new ledger (created; must be empty)."),
    origin: str = typer.Option(..., "--origin", help="Log identity, a schema-less URL such as example.org/vigiles."),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="Use this PRIVATE+KEY file instead of generating a key."),
) -> None:
    """Create a ledger: a new Ed25519 key (kept in DIR/key, mode 0600) unless one is given, and an empty checkpoint.

    A key from --key-file or $VIGILES_LEDGER_KEY is not copied into the directory.
    """
    from ..ledger.log import KEY_ENV, LedgerError, Log
    from ..ledger.note import NoteError
    key = _key_text(key_file) or os.environ.get(KEY_ENV)
    try:
        lg = Log.init(directory, origin, key=key, checkpoint_interval=None)
    except (LedgerError, NoteError, OSError) as exc:
        raise _fail(str(exc))
    lg.close()
    sys.stdout.write(lg.vkey + "\n")


@app.command()
def checkpoint(
    directory: Path = typer.Argument(..., help="The ledger."),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="The log's PRIVATE+KEY file (default $VIGILES_LEDGER_KEY or DIR/key)."),
) -> None:
    """Sign a checkpoint over every acknowledged entry (asking the policy's witnesses to cosign) and print it."""
    from ..ledger.log import LedgerError
    lg = _open(directory, key_file)
    try:
        note = lg.checkpoint()
    except LedgerError as exc:
        raise _fail(str(exc))
    finally:
        lg.close()
    sys.stdout.write(note.decode("utf-8"))


@app.command()
def vkey(directory: Path = typer.Argument(..., help="The ledger.")) -> None:
    """Print the log's verifier key (signed-note vkey)."""
    lg = _open(directory, readonly=True)
    sys.stdout.write(lg.vkey + "\n")


@app.command()
def proof(
    directory: Path = typer.Argument(..., help="The ledger."),
    index: int = typer.Option(..., "--index", help="Entry index."),
) -> None:
    """Print a c2sp.org/tlog-proof@v1 document for entry INDEX against the latest checkpoint."""
    from ..ledger.log import LedgerError
    from ..ledger.tiles import TileError
    lg = _open(directory, readonly=True)
    if not 0 <= index < lg.checkpoint_size:
        raise _fail(f"entry {index} is not in the latest checkpoint (size {lg.checkpoint_size}); "
                    "run `vigiles ledger checkpoint` first")
    try:
        sys.stdout.write(lg.tlog_proof(index).decode("utf-8"))
    except (LedgerError, TileError, OSError) as exc:
        raise _fail(str(exc))


@app.command()
def consistency(
    directory: Path = typer.Argument(..., help="The ledger."),
    old: int = typer.Option(..., "--from", help="The older tree size."),
    new: Optional[int] = typer.Option(None, "--to", help="The newer tree size (default: the latest checkpoint)."),
) -> None:
    """Print the consistency proof from size --from to the latest checkpoint, one base64 hash per line (as tlog-witness sends it)."""
    from ..ledger.log import LedgerError
    from ..ledger.note import b64encode
    from ..ledger.tiles import TileError
    from ..ledger.tree import ProofError
    lg = _open(directory, readonly=True)
    size = lg.checkpoint_size if new is None else new
    if not 0 <= old <= size <= lg.checkpoint_size:
        raise _fail(f"need 0 <= --from ({old}) <= --to ({size}) <= checkpoint size ({lg.checkpoint_size})")
    try:
        path = lg.prove_consistency(old, size)
    except (LedgerError, TileError, ProofError, OSError) as exc:
        raise _fail(str(exc))
    sys.stdout.write("".join(b64encode(h) + "\n" for h in path))


@app.command()
def verify(
    directory: Path = typer.Argument(..., help="The ledger."),
    vkey: Optional[str] = typer.Option(None, "--vkey", help="The trusted log key (vkey or a file holding it); default: the one in DIR/log.json."),
    policy: Optional[Path] = typer.Option(None, "--policy", help="A c2sp.org/tlog-policy file: the latest checkpoint must meet its witness quorum."),
    remembered: List[Path] = typer.Option([], "--checkpoint", help="A checkpoint seen earlier (repeatable): the log must still be consistent with it."),
) -> None:
    """Audit the whole ledger: re-hash every entry, rebuild every tile, check every signature and the history."""
    from ..ledger.policy import PolicyError, parse_policy
    from ..ledger.verify import AuditUsageError, verify_log
    if not (directory / "log.json").is_file():
        raise _fail(f"{directory} is not a vigiles ledger (no log.json)")
    trusted_policy = None
    if policy is not None:
        try:
            trusted_policy = parse_policy(policy.read_bytes())
        except (OSError, PolicyError) as exc:
            raise _fail(f"policy {policy}: {exc}")
    try:
        known = [p.read_bytes() for p in remembered]
    except OSError as exc:
        raise _fail(f"cannot read a --checkpoint: {exc}")
    try:
        report = verify_log(directory, _vkey_arg(vkey), trusted_policy, known)
    except AuditUsageError as exc:
        raise _fail(str(exc))
    for note in report.notes:
        sys.stdout.write(f"note: {note}\n")
    if report.ok:
        sys.stdout.write(f"OK: {report.entries_checked} entries and {report.checkpoints_checked} signed checkpoints "
                         f"verified (size {report.size})\n")
        return
    sys.stdout.write(f"FAILED: {len(report.problems)} problem(s)\n")
    for problem in report.problems:
        sys.stdout.write(f"  - {problem}\n")
    raise typer.Exit(1)


@app.command()
def append(
    directory: Path = typer.Argument(..., help="The ledger."),
    kind: str = typer.Option(..., "--kind", help="Record kind, e.g. event, finding, incident, note."),
    source: Optional[Path] = typer.Argument(None, help="JSON Lines file, one record object per line (default: stdin)."),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="The log's PRIVATE+KEY file."),
) -> None:
    """Append records (one JSON object per line) as one durable batch, then checkpoint; prints their indexes."""
    from ..ledger.log import LedgerError
    from ..ledger.records import RecordError
    try:
        text = source.read_text() if source is not None else sys.stdin.read()
    except OSError as exc:
        raise _fail(f"cannot read {source}: {exc}")
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise _fail(f"line {number}: not JSON ({exc})")
        except RecursionError:
            raise _fail(f"line {number}: not read: JSON nested too deeply")
        if not isinstance(obj, dict):
            raise _fail(f"line {number}: a record must be a JSON object")
        records.append((kind, obj))
    lg = _open(directory, key_file)
    try:
        indexes = lg.append_records(records)
        lg.checkpoint()
    except (LedgerError, RecordError) as exc:
        raise _fail(str(exc))
    finally:
        lg.close()
    sys.stdout.write("".join(f"{i}\n" for i in indexes))


@app.command()
def bundle(
    directory: Path = typer.Argument(..., help="The ledger."),
    out: Path = typer.Argument(..., help="The bundle directory to create (new or empty)."),
    indexes: List[int] = typer.Option(..., "--index", help="A ledger entry the incident rests on (repeatable)."),
    incident: Optional[Path] = typer.Option(None, "--incident", help="The incident record, a JSON file (default: a summary naming the entries)."),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="The log's PRIVATE+KEY file (to checkpoint entries not yet in one)."),
) -> None:
    """Export an incident bundle: the entries, a tlog-proof for each, the checkpoint, the key, a policy and verify.py."""
    from ..ledger.bundle import BundleError, export_bundle
    from ..ledger.log import LedgerError
    from ..ledger.records import RecordError, decode_record, expand_record
    try:
        record = json.loads(incident.read_text()) if incident is not None else {"entries": sorted(set(indexes))}
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read the incident: {exc}")
    lg = _open(directory, key_file)
    try:
        items = []
        for index in indexes:
            entry = decode_record(lg.entry(index))
            items.append((entry["kind"], expand_record(entry["record"], lg.blobs.get), index))
        export_bundle(lg, record, items, out)
    except (IndexError, LedgerError, RecordError, BundleError, OSError) as exc:
        raise _fail(str(exc))
    finally:
        lg.close()
    sys.stdout.write(f"{out}\n")


@app.command("verify-bundle")
def verify_bundle_cmd(
    bundle: Path = typer.Argument(..., help="An incident bundle directory."),
    vkey: str = typer.Option(..., "--vkey", help="The trusted log key (vkey or a file holding it)."),
    policy: Optional[Path] = typer.Option(None, "--policy", help="A trusted tlog-policy (default: the bundle's own, for the witness quorum)."),
) -> None:
    """Verify an incident bundle: every entry's inclusion proof against the signed checkpoint."""
    from ..ledger.bundle import verify_bundle
    if not bundle.is_dir():
        raise _fail(f"{bundle} is not a directory")
    try:
        policy_bytes = policy.read_bytes() if policy is not None else None
    except OSError as exc:
        raise _fail(f"cannot read policy: {exc}")
    problems = verify_bundle(bundle, _vkey_arg(vkey), policy=policy_bytes)
    if not problems:
        sys.stdout.write("OK: the bundle verifies\n")
        return
    sys.stdout.write(f"FAILED: {len(problems)} problem(s)\n")
    for problem in problems:
        sys.stdout.write(f"  - {problem}\n")
    raise typer.Exit(1)


# Witness -----------------------------------------------------------------------------------------

@witness_app.command()
def serve(
    state: Path = typer.Option(..., "--state", help="State directory: the witness key and the latest checkpoint per log."),
    log_keys: List[str] = typer.Option([], "--log", help="Verifier key of a log to witness (repeatable; a vkey or a file holding one)."),
    name: Optional[str] = typer.Option(None, "--name", help="Witness name, for a new key (e.g. witness.example.org/w1)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(7380, "--port", help="Port (0 picks a free one)."),
    key_file: Optional[Path] = typer.Option(None, "--key-file", help="The witness PRIVATE+KEY file (default $VIGILES_WITNESS_KEY or STATE/key)."),
) -> None:
    """Serve add-checkpoint (POST /add-checkpoint) and GET /<origin hash>/checkpoint."""
    from ..ledger.note import Ed25519Verifier, NoteError, parse_vkey
    from ..ledger.witness import Witness, load_or_create_key, make_server
    if not log_keys:
        raise _fail("give at least one --log VKEY to witness")
    try:
        signer = load_or_create_key(state, name, _key_text(key_file) or os.environ.get("VIGILES_WITNESS_KEY"))
        logs = [parse_vkey(_vkey_arg(k)) for k in log_keys]
    except (NoteError, OSError) as exc:
        raise _fail(str(exc))
    if not all(isinstance(v, Ed25519Verifier) for v in logs):
        raise _fail("--log keys must be Ed25519 log keys (type 0x01)")
    witness = Witness(state, signer, logs)
    try:
        server = make_server(witness, host, port)
    except OSError as exc:
        raise _fail(f"cannot listen on {host}:{port}: {exc}")
    bound_host, bound_port = server.server_address[:2]
    sys.stdout.write(f"witness {signer.name} vkey {signer.vkey}\nlistening on http://{bound_host}:{bound_port}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@witness_app.command("vkey")
def witness_vkey(
    state: Path = typer.Option(..., "--state", help="State directory."),
    name: Optional[str] = typer.Option(None, "--name", help="Witness name, to create the key if there is none yet."),
) -> None:
    """Print the witness verifier key (creating the key if --name is given and there is none)."""
    from ..ledger.note import NoteError
    from ..ledger.witness import load_or_create_key
    try:
        signer = load_or_create_key(state, name, os.environ.get("VIGILES_WITNESS_KEY"))
    except (NoteError, OSError) as exc:
        raise _fail(str(exc))
    sys.stdout.write(signer.vkey + "\n")
