"""The verifiable ledger: a signed, witnessed, append-only transparency log of events and decisions.

Formats are the C2SP ones used by Certificate Transparency (static-ct), Sigstore Rekor v2,
Go's checksum database and Tessera: RFC 6962 Merkle trees, c2sp.org/tlog-tiles on disk,
c2sp.org/signed-note checkpoints, tlog-cosignature and tlog-witness for witnesses,
tlog-policy for trust, tlog-proof for offline proofs.

    from vigiles.ledger import Log, export_bundle
    log = Log.open_or_init("ledger", "example.org/vigiles")  # Log.init / Log.open
    i = log.append_record("event", {...})                # durable when it returns
    log.checkpoint()                                     # signed tree head
    export_bundle(log, incident, [("event", {...}, i)], "bundle")
    log.close()
"""
from .bundle import BundleError, export_bundle, verify_bundle
from .checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from .log import LedgerError, Log, LogLockedError
from .policy import Policy, PolicyError, parse_policy
from .records import RecordError, decode_record, encode_record
from .verify import AuditReport, verify_log

__all__ = [
    "AuditReport", "BundleError", "Checkpoint", "LedgerError", "Log", "LogLockedError", "Policy", "PolicyError",
    "RecordError", "decode_record", "encode_record", "export_bundle", "open_checkpoint", "parse_checkpoint",
    "parse_policy", "verify_bundle", "verify_log",
]
