"""c2sp.org/tlog-cosignature, Ed25519 (cosignature/v1): a witness's timestamped signature on a checkpoint.

The signature line is "— <witness> base64(key ID || u64 timestamp || Ed25519 signature)",
with key ID SHA-256(name || 0x0A || 0x04 || public key)[:4]. The signed message is
"cosignature/v1\\ntime <timestamp>\\n" followed by the whole checkpoint text. It states
that, at that time, this is the largest consistent tree the witness has seen for the origin.
"""
from __future__ import annotations

import struct
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .note import ALG_COSIGNATURE_V1, NoteError, PublicKey, SeedKey, Signature, split_note

MAX_TIMESTAMP = (1 << 63) - 1


def signed_message(timestamp: int, text: str | bytes) -> bytes:
    """The bytes an Ed25519 cosignature covers (tlog-cosignature, Ed25519 signed message)."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError(f"cosignature timestamp {timestamp} out of range")
    body = text.encode("utf-8") if isinstance(text, str) else text
    return b"cosignature/v1\ntime %d\n" % timestamp + body


def timestamp_of(sig: bytes) -> int:
    """The timestamp of a timestamped_signature (the signature bytes after the key ID)."""
    if len(sig) != 72:
        raise NoteError(f"an Ed25519 cosignature is 72 bytes, not {len(sig)}")
    return struct.unpack(">Q", sig[:8])[0]


@dataclass(frozen=True)
class CosignatureVerifier(PublicKey):
    """Verifies cosignature/v1 signatures of one witness key (signature type 0x04)."""

    alg: int = ALG_COSIGNATURE_V1

    def verify(self, text: bytes, sig: bytes) -> bool:
        if len(sig) != 72:
            return False
        ts = struct.unpack(">Q", sig[:8])[0]
        if ts > MAX_TIMESTAMP:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(sig[8:], signed_message(ts, text))
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class CosignatureSigner(SeedKey):
    """A witness key: produces cosignature/v1 signatures stamped with the current time."""

    alg: int = ALG_COSIGNATURE_V1

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.public_key)

    def sign(self, text: bytes, timestamp: int | None = None) -> bytes:
        """timestamped_signature: u64 big-endian timestamp || Ed25519 signature."""
        ts = int(time.time()) if timestamp is None else timestamp
        sig = Ed25519PrivateKey.from_private_bytes(self.seed).sign(signed_message(ts, text))
        return struct.pack(">Q", ts) + sig


def cosign(checkpoint: bytes | str, signer: CosignatureSigner, timestamp: int | None = None) -> Signature:
    """A cosignature on a (signed) checkpoint: signs its text, not its signature lines."""
    if isinstance(checkpoint, bytes):
        checkpoint = checkpoint.decode("utf-8")
    text = split_note(checkpoint)[0] if "\n\n" in checkpoint else checkpoint
    return Signature(signer.name, signer.key_id, signer.sign(text.encode("utf-8"), timestamp))


def verify_cosignatures(checkpoint: bytes, witnesses) -> dict[str, int]:
    """{witness name: timestamp} for every listed witness whose cosignature on `checkpoint` verifies.

    Lines from unknown keys are ignored; a line that names a listed witness (name and key
    ID) but fails to verify is an error, as signed-note requires.
    """
    text, sigs = split_note(checkpoint)
    data = text.encode("utf-8")
    by_key = {(w.name, w.key_id): w for w in witnesses}
    out: dict[str, int] = {}
    for sig in sigs:
        w = by_key.get((sig.name, sig.key_id))
        if w is None:
            continue
        if not w.verify(data, sig.sig):
            raise NoteError(f"cosignature by {sig.name} (key ID {sig.key_id:08x}) does not verify")
        out[sig.name] = timestamp_of(sig.sig)
    return out
