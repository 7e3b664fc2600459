"""c2sp.org/tlog-witness: asking witnesses to cosign checkpoints, and being one.

A witness remembers, per log origin, the latest checkpoint it cosigned. A log POSTs
<prefix>/add-checkpoint with "old <size>", a consistency proof from that size, a blank
line and the new checkpoint; the witness checks the log's signature and the proof,
persists the new checkpoint atomically, and answers with its cosignature line(s).
"""
from __future__ import annotations

import fcntl
import hashlib
import http.client
import logging
import os
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .checkpoint import parse_checkpoint
from .cosignature import CosignatureSigner, CosignatureVerifier, cosign
from .durable import write_file
from .note import (InvalidSignatureError, NoteError, Signature, UnverifiedNoteError, b64decode, b64encode,
                   open_note, parse_signature_line, split_note)
from .tree import EMPTY_HASH, HASH_SIZE, ProofError, check_tree

log = logging.getLogger(__name__)

MAX_PROOF_LINES = 63
MAX_BODY = 1 << 20
SIZE_CONTENT_TYPE = "text/x.tlog.size"


class WitnessError(Exception):
    """A witness refused, failed, or answered something unusable."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class SizeConflict(WitnessError):
    """409: the witness's latest cosigned size is not the old size sent."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness is at size {size}", 409)
        self.size = size


# The request body ------------------------------------------------------------------------------

def encode_request(old: int, proof: Sequence[bytes], checkpoint: bytes) -> bytes:
    """old <size>, proof lines, blank line, checkpoint (tlog-witness, add-checkpoint)."""
    if len(proof) > MAX_PROOF_LINES:
        raise WitnessError(f"a consistency proof has at most {MAX_PROOF_LINES} lines")
    head = f"old {old}\n" + "".join(b64encode(h) + "\n" for h in proof) + "\n"
    return head.encode("ascii") + checkpoint


def parse_request(body: bytes) -> tuple[int, list[bytes], bytes]:
    """(old size, proof, checkpoint) of an add-checkpoint body; ValueError when malformed."""
    head, sep, checkpoint = body.partition(b"\n\n")
    if not sep:
        raise ValueError("no blank line before the checkpoint")
    lines = head.decode("ascii", "strict").split("\n")
    m = re.fullmatch(r"old (0|[1-9][0-9]{0,19})", lines[0])
    if not m:
        raise ValueError("first line must be: old <size>")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ValueError("too many proof lines")
    proof = []
    for line in lines[1:]:
        h = b64decode(line)
        if len(h) != HASH_SIZE:
            raise ValueError("a proof line is not a 32-byte hash")
        proof.append(h)
    return int(m.group(1)), proof, checkpoint


# Client ----------------------------------------------------------------------------------------

class WitnessClient:
    """Talks add-checkpoint to one witness over HTTP(S) (keep-alive per client object)."""

    def __init__(self, url: str, verifier: CosignatureVerifier, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.verifier = verifier
        self.timeout = timeout
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WitnessError(f"witness URL must be http(s)://host[:port]/prefix, not {url!r}")
        self._parts = parts
        self._conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
            self._conn = cls(self._parts.hostname, self._parts.port, timeout=self.timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def add_checkpoint(self, old: int, proof: Sequence[bytes], checkpoint: bytes) -> list[Signature]:
        """POST add-checkpoint; the verified cosignatures by this witness's key."""
        body = encode_request(old, proof, checkpoint)
        status, headers, data = self._post(self._parts.path + "/add-checkpoint", body)
        if status == 409:
            text = data.decode("ascii", "replace")
            if headers.get("content-type", "").split(";")[0].strip() != SIZE_CONTENT_TYPE or \
                    not re.fullmatch(r"(0|[1-9][0-9]*)\n", text):
                raise WitnessError(f"409 without a {SIZE_CONTENT_TYPE} body", 409)
            raise SizeConflict(int(text))
        if status != 200:
            raise WitnessError(f"HTTP {status}: {data[:200].decode('utf-8', 'replace').strip()}", status)
        text, _ = split_note(checkpoint)
        sigs = []
        try:
            lines = data.decode("utf-8").splitlines()
        except UnicodeDecodeError as exc:
            raise WitnessError("the response is not UTF-8") from exc
        for line in lines:
            try:
                sig = parse_signature_line(line)
            except NoteError as exc:
                raise WitnessError(f"malformed cosignature line {line[:60]!r}") from exc
            if (sig.name, sig.key_id) != (self.verifier.name, self.verifier.key_id):
                continue
            if not self.verifier.verify(text.encode("utf-8"), sig.sig):
                raise WitnessError(f"the cosignature by {sig.name} does not verify")
            sigs.append(sig)
        if not sigs:
            raise WitnessError("the witness returned no cosignature by its key")
        return sigs

    def submit(self, checkpoint: bytes, size: int, old_guess: int,
               prove: Callable[[int], Sequence[bytes]]) -> tuple[list[Signature], int]:
        """add-checkpoint from `old_guess`, following at most two 409 answers to the witness's size."""
        old = old_guess if 0 <= old_guess <= size else 0
        tried = set()
        for _ in range(3):
            tried.add(old)
            try:
                return self.add_checkpoint(old, prove(old), checkpoint), size
            except SizeConflict as conflict:
                if conflict.size > size:
                    raise WitnessError(f"the witness cosigned size {conflict.size}, larger than {size}: "
                                       "it has seen a tree this log does not have") from conflict
                if conflict.size in tried:
                    raise
                old = conflict.size
        raise WitnessError("the witness kept changing its size")

    def _post(self, path: str, body: bytes) -> tuple[int, dict, bytes]:
        for attempt in range(2):
            conn = self._connection()
            try:
                conn.request("POST", path or "/", body=body, headers={"Content-Type": "text/plain; charset=utf-8"})
                resp = conn.getresponse()
                data = resp.read(MAX_BODY)
                headers = {k.lower(): v for k, v in resp.getheaders()}
                if headers.get("connection", "").lower() == "close":
                    self.close()
                return resp.status, headers, data
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                if attempt == 1 or not isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError,
                                                        ConnectionResetError)):
                    raise WitnessError(f"cannot reach {self.url}: {exc}") from exc
        raise AssertionError("unreachable")


# The witness -----------------------------------------------------------------------------------

def origin_hash(origin: str) -> str:
    """Lowercase hex SHA-256 of the origin: the monitoring path element (tlog-witness)."""
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()


class Witness:
    """Witness logic, independent of HTTP: add_checkpoint(body) -> (status, content type, body).

    State is one file per origin, <state>/logs/<origin hash>, holding the latest cosigned
    checkpoint with the log's and the witness's signatures. The check-then-persist step
    runs under a lock (threads) and an flock (processes), so two requests cannot roll the
    state back (the race tlog-witness describes).
    """

    def __init__(self, state_dir: Path | str, signer: CosignatureSigner, logs: Iterable,
                 clock: Callable[[], float] = time.time) -> None:
        self.state_dir = Path(state_dir)
        self.signer = signer
        self.clock = clock
        self.logs: dict[str, list] = {}
        for v in logs:
            self.logs.setdefault(v.name, []).append(v)
        (self.state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._mutex = threading.Lock()

    def _state_path(self, origin: str) -> Path:
        return self.state_dir / "logs" / origin_hash(origin)

    def latest(self, origin_hex: str) -> bytes | None:
        """The latest cosigned checkpoint of the log whose origin hashes to `origin_hex`."""
        if not re.fullmatch(r"[0-9a-f]{64}", origin_hex):
            return None
        try:
            return (self.state_dir / "logs" / origin_hex).read_bytes()
        except FileNotFoundError:
            return None

    def add_checkpoint(self, body: bytes) -> tuple[int, str, bytes]:
        plain = "text/plain; charset=utf-8"
        try:
            old, proof, note = parse_request(body)
            text, _ = split_note(note)
            cp = parse_checkpoint(text, strict_empty=False)
        except (ValueError, UnicodeDecodeError) as exc:
            return 400, plain, f"malformed request: {exc}\n".encode()
        verifiers = self.logs.get(cp.origin)
        if not verifiers:
            return 404, plain, b"unknown log origin\n"
        try:
            opened = open_note(note, verifiers)
        except (UnverifiedNoteError, InvalidSignatureError) as exc:
            return 403, plain, f"{exc}\n".encode()
        except NoteError as exc:
            return 400, plain, f"malformed checkpoint: {exc}\n".encode()
        if old > cp.size:
            return 400, plain, b"old size is larger than the checkpoint size\n"
        with self._mutex, self._process_lock():
            stored = self._load(cp.origin)
            stored_size = stored.size if stored else 0
            if old != stored_size:
                return 409, SIZE_CONTENT_TYPE, f"{stored_size}\n".encode()
            if cp.size == 0 and cp.root != EMPTY_HASH:
                return 422, plain, b"a checkpoint of size zero must have the empty root\n"
            try:
                if old == 0:
                    if proof:
                        raise ProofError("the proof from size zero must be empty")
                else:
                    check_tree(proof, cp.size, cp.root, old, stored.root)
            except ProofError as exc:
                log.warning("witness: inconsistent checkpoint for %s at %d from %d: %s", cp.origin, cp.size, old, exc)
                return 422, plain, f"consistency proof does not verify: {exc}\n".encode()
            ts = max(1, int(self.clock()))
            sig = cosign(text, self.signer, ts)
            state = (text + "\n" + "".join(s.line() for s in opened.sigs) + sig.line()).encode("utf-8")
            write_file(self._state_path(cp.origin), state, self.state_dir / ".tmp")
        return 200, plain, sig.line().encode("utf-8")

    def _load(self, origin: str):
        try:
            data = self._state_path(origin).read_bytes()
        except FileNotFoundError:
            return None
        return parse_checkpoint(split_note(data)[0])

    def _process_lock(self):
        witness = self

        class _Lock:
            def __enter__(self_inner):
                self_inner.fd = os.open(witness.state_dir / "lock", os.O_RDWR | os.O_CREAT, 0o644)
                fcntl.flock(self_inner.fd, fcntl.LOCK_EX)

            def __exit__(self_inner, *exc):
                os.close(self_inner.fd)
        return _Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vigiles-witness"
    witness: Witness
    prefix = ""

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        if self.path != self.prefix + "/add-checkpoint":
            self._send(404, "text/plain; charset=utf-8", b"not found\n")
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._send(411, "text/plain; charset=utf-8", b"Content-Length required\n")
            return
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._send(413, "text/plain; charset=utf-8", b"request too large\n")
            return
        body = self.rfile.read(length)
        status, content_type, data = self.witness.add_checkpoint(body)
        self._send(status, content_type, data)

    def do_GET(self) -> None:  # noqa: N802
        m = re.fullmatch(re.escape(self.prefix) + r"/([0-9a-f]{64})/checkpoint", self.path)
        data = self.witness.latest(m.group(1)) if m else None
        if data is None:
            self._send(404, "text/plain; charset=utf-8", b"not found\n")
        else:
            self._send(200, "text/plain; charset=utf-8", data)

    def log_message(self, format: str, *args) -> None:
        log.debug("witness %s: " + format, self.address_string(), *args)


def make_server(witness: Witness, host: str = "127.0.0.1", port: int = 0, prefix: str = "") -> ThreadingHTTPServer:
    """An HTTP server for `witness` (call serve_forever, or run it in a thread); port 0 picks one."""
    handler = type("WitnessHandler", (_Handler,), {"witness": witness, "prefix": prefix.rstrip("/")})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def load_or_create_key(state_dir: Path, name: str | None, key: str | None = None) -> CosignatureSigner:
    """The witness key: `key` (PRIVATE+KEY string), else <state>/key, else a new one named `name`."""
    from .note import ALG_COSIGNATURE_V1, generate_signer, parse_skey
    if key:
        signer = parse_skey(key)
    elif (state_dir / "key").exists():
        signer = parse_skey((state_dir / "key").read_text())
    else:
        if not name:
            raise NoteError("a new witness needs a name (a schema-less URL such as witness.example.org/w1)")
        signer = generate_signer(name, ALG_COSIGNATURE_V1)
        state_dir.mkdir(parents=True, exist_ok=True)
        write_file(state_dir / "key", (signer.skey + "\n").encode(), state_dir / ".tmp", mode=0o600)
    if not isinstance(signer, CosignatureSigner):
        from .note import Ed25519Signer
        if isinstance(signer, Ed25519Signer):
            # A plain note key also works as a cosigner key; its key ID is recomputed for type 0x04.
            signer = CosignatureSigner(signer.name, signer.seed)
    if name and signer.name != name:
        raise NoteError(f"the witness key is named {signer.name!r}, not {name!r}")
    return signer
