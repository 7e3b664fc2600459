"""c2sp.org/signed-note: text signed by one or more Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then signature lines
"— <name> base64(key ID || signature)". Keys are named; a verifier key ("vkey") is
"<name>+<hex key ID>+base64(type || public key)". Private keys use the
"PRIVATE+KEY+<name>+<hex key ID>+base64(type || seed)" form of Go's
golang.org/x/mod/sumdb/note, so keys move between vigiles and Go tools unchanged.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass, field
from typing import Iterable, Protocol, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALG_ED25519 = 0x01
"""Signature type of plain Ed25519 note signatures (signed-note, Signature types)."""
ALG_COSIGNATURE_V1 = 0x04
"""Signature type of timestamped Ed25519 cosignatures (c2sp.org/tlog-cosignature)."""

EM_DASH = "\u2014"
MAX_SIGNATURES = 100
"""Verifiers must accept at least 16 signatures (signed-note, Format); refuse absurd notes."""
MAX_NOTE_SIZE = 1 << 20


class NoteError(ValueError):
    """A note, key or signature is malformed."""


class UnverifiedNoteError(NoteError):
    """No signature from a known key is on the note: its text must be ignored."""

    def __init__(self, message: str, signatures: Sequence["Signature"] = ()) -> None:
        super().__init__(message)
        self.signatures = list(signatures)


class InvalidSignatureError(NoteError):
    """A signature by a known key (name and ID match) does not verify: the note is rejected."""

    def __init__(self, message: str, signature: "Signature") -> None:
        super().__init__(message)
        self.signature = signature


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Standard base64 (RFC 4648 section 4), strict: padding required, no stray characters."""
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise NoteError(f"bad base64 {text[:40]!r}") from exc
    if base64.b64encode(data).decode("ascii") != text:
        raise NoteError(f"non-canonical base64 {text[:40]!r}")
    return data


def is_valid_name(name: str) -> bool:
    """Key names are non-empty, with no Unicode space and no '+' (signed-note, Format)."""
    return bool(name) and "+" not in name and not any(c.isspace() or ord(c) < 0x20 for c in name)


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32 (signed-note, Signatures)."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([alg]) + public_key).digest()
    return struct.unpack(">I", digest[:4])[0]


class Verifier(Protocol):
    name: str
    key_id: int

    def verify(self, text: bytes, sig: bytes) -> bool: ...


@dataclass(frozen=True)
class PublicKey:
    """A named public key of one signature type: its key ID and its vkey text."""

    name: str
    public_key: bytes
    alg: int = ALG_ED25519

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.alg, self.public_key)

    @property
    def vkey(self) -> str:
        return format_vkey(self.name, self.alg, self.public_key)


@dataclass(frozen=True)
class Ed25519Verifier(PublicKey):
    """Checks plain Ed25519 signatures over the note text (signature type 0x01)."""

    def verify(self, text: bytes, sig: bytes) -> bool:
        if len(sig) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(sig, text)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SeedKey:
    """An Ed25519 private key (its 32-byte seed) under a name and a signature type: what a log's
    signer and a witness's cosigner share. Subclasses say how they sign and what verifies them."""

    name: str
    seed: bytes = field(repr=False)
    alg: int = ALG_ED25519

    @property
    def public_key(self) -> bytes:
        return _public_from_seed(self.seed)

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.alg, self.public_key)

    @property
    def skey(self) -> str:
        """The private key string (keep it secret)."""
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{b64encode(bytes([self.alg]) + self.seed)}"

    @property
    def vkey(self) -> str:
        return self.verifier().vkey


@dataclass(frozen=True)
class Ed25519Signer(SeedKey):
    """Signs note texts with an Ed25519 key (signature type 0x01)."""

    alg: int = ALG_ED25519

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.public_key)

    def sign(self, text: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(text)


def _public_from_seed(seed: bytes) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def format_vkey(name: str, alg: int, public_key: bytes) -> str:
    """<name>+<hex key ID>+base64(type || public key) (signed-note, Verifier keys)."""
    return f"{name}+{key_id(name, alg, public_key):08x}+{b64encode(bytes([alg]) + public_key)}"


def _split_key(text: str, parts: int) -> list[str]:
    # The base64 part may itself hold '+', so split from the left a fixed number of times.
    fields = text.split("+", parts - 1)
    if len(fields) != parts:
        raise NoteError("malformed key")
    return fields


def parse_vkey(vkey: str):
    """A verifier from a vkey string: Ed25519 (0x01) or an Ed25519 cosignature key (0x04)."""
    name, hex_id, b64 = _split_key(vkey.strip(), 3)
    if not is_valid_name(name) or len(hex_id) != 8 or hex_id != hex_id.lower():
        raise NoteError(f"malformed verifier key {vkey[:60]!r}")
    try:
        claimed = int(hex_id, 16)
    except ValueError as exc:
        raise NoteError(f"malformed key ID in {vkey[:60]!r}") from exc
    material = b64decode(b64)
    if len(material) != 33:
        raise NoteError(f"verifier key {name!r}: expected a 32-byte Ed25519 key")
    alg, public_key = material[0], material[1:]
    if key_id(name, alg, public_key) != claimed:
        raise NoteError(f"verifier key {name!r}: key ID does not match the key")
    if alg == ALG_ED25519:
        return Ed25519Verifier(name, public_key)
    if alg == ALG_COSIGNATURE_V1:
        from .cosignature import CosignatureVerifier
        return CosignatureVerifier(name, public_key)
    raise NoteError(f"verifier key {name!r}: unsupported signature type 0x{alg:02x}")


def parse_skey(skey: str):
    """A signer from a PRIVATE+KEY string: Ed25519 (0x01) or an Ed25519 cosigner (0x04)."""
    fields = _split_key(skey.strip(), 5)
    if fields[0] != "PRIVATE" or fields[1] != "KEY":
        raise NoteError("not a private key (expected PRIVATE+KEY+...)")
    name, hex_id, b64 = fields[2], fields[3], fields[4]
    if not is_valid_name(name) or len(hex_id) != 8:
        raise NoteError("malformed private key")
    material = b64decode(b64)
    if len(material) != 33:
        raise NoteError("private key: expected a 32-byte Ed25519 seed")
    alg, seed = material[0], material[1:]
    if alg == ALG_ED25519:
        signer = Ed25519Signer(name, seed)
    elif alg == ALG_COSIGNATURE_V1:
        from .cosignature import CosignatureSigner
        signer = CosignatureSigner(name, seed)
    else:
        raise NoteError(f"private key: unsupported signature type 0x{alg:02x}")
    if f"{signer.key_id:08x}" != hex_id:
        raise NoteError("private key: key ID does not match the key")
    return signer


def generate_signer(name: str, alg: int = ALG_ED25519):
    """A new random key named `name`."""
    if not is_valid_name(name):
        raise NoteError(f"invalid key name {name!r}: no spaces or '+'")
    from cryptography.hazmat.primitives import serialization
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    if alg == ALG_COSIGNATURE_V1:
        from .cosignature import CosignatureSigner
        return CosignatureSigner(name, seed)
    return Ed25519Signer(name, seed)


# Notes ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Signature:
    """One signature line: key name, key ID, and the signature bytes after the ID."""

    name: str
    key_id: int
    sig: bytes

    def line(self) -> str:
        return f"{EM_DASH} {self.name} {b64encode(struct.pack('>I', self.key_id) + self.sig)}\n"


@dataclass
class Note:
    """An opened note: its text and which signatures verified."""

    text: str
    sigs: list[Signature]
    unverified: list[Signature]


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text holds a control character")


def split_note(msg: bytes | str) -> tuple[str, list[Signature]]:
    """Text and signature lines of a note, checked for form but not verified."""
    if isinstance(msg, bytes):
        if len(msg) > MAX_NOTE_SIZE:
            raise NoteError("note is too large")
        try:
            msg = msg.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("note is not valid UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in msg):
        raise NoteError("note holds a control character")
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no signature block")
    text, block = msg[:split + 1], msg[split + 2:]
    if not block.endswith("\n"):
        raise NoteError("note must end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note carries more than {MAX_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        sigs.append(_parse_signature_line(line))
    if not sigs:
        raise NoteError("note has no signatures")
    return text, sigs


def _parse_signature_line(line: str) -> Signature:
    prefix = EM_DASH + " "
    if not line.startswith(prefix):
        raise NoteError(f"malformed signature line {line[:60]!r}")
    parts = line[len(prefix):].split(" ")
    if len(parts) != 2 or not is_valid_name(parts[0]):
        raise NoteError(f"malformed signature line {line[:60]!r}")
    raw = b64decode(parts[1])
    if len(raw) < 5:
        raise NoteError(f"signature by {parts[0]!r} is too short")
    return Signature(parts[0], struct.unpack(">I", raw[:4])[0], raw[4:])


def parse_signature_line(line: str) -> Signature:
    """One "— name base64" line (without or with its newline)."""
    return _parse_signature_line(line.rstrip("\n"))


def open_note(msg: bytes | str, verifiers: Iterable) -> Note:
    """Verify a note against known keys, as signed-note requires.

    Signatures from unknown keys (name and ID not both matching) are kept unverified; a
    known key whose signature fails rejects the whole note; a note with no verified
    signature is rejected.
    """
    known: dict[tuple[str, int], object] = {}
    for v in verifiers:
        k = (v.name, v.key_id)
        if k in known and known[k] != v:
            raise NoteError(f"two verifier keys share name {v.name!r} and ID {v.key_id:08x}")
        known[k] = v
    text, sigs = split_note(msg)
    data = text.encode("utf-8")
    verified: list[Signature] = []
    unverified: list[Signature] = []
    for sig in sigs:
        v = known.get((sig.name, sig.key_id))
        if v is None:
            unverified.append(sig)
            continue
        if not v.verify(data, sig.sig):
            raise InvalidSignatureError(f"signature by {sig.name} (key ID {sig.key_id:08x}) does not verify", sig)
        if sig not in verified:
            verified.append(sig)
    if not verified:
        raise UnverifiedNoteError("note has no signature from a known key", unverified)
    return Note(text, verified, unverified)


def sign_note(text: str, signers: Sequence, extra: Sequence[Signature] = ()) -> bytes:
    """The signed note: text, blank line, one signature line per signer, then `extra` lines."""
    _check_text(text)
    data = text.encode("utf-8")
    lines = [Signature(s.name, s.key_id, s.sign(data)).line() for s in signers]
    lines += [sig.line() for sig in extra]
    if not lines:
        raise NoteError("a note needs at least one signature")
    return (text + "\n" + "".join(lines)).encode("utf-8")


def add_signatures(msg: bytes, sigs: Iterable[Signature]) -> bytes:
    """`msg` with more signature lines appended (duplicates skipped)."""
    text, have = split_note(msg)
    lines = list(have)
    for sig in sigs:
        if sig not in lines:
            lines.append(sig)
    return (text + "\n" + "".join(s.line() for s in lines)).encode("utf-8")
