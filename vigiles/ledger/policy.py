"""c2sp.org/tlog-policy: which logs and witnesses to trust, and which witness quorum a checkpoint needs.

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> all|any|<k> <name>...
    quorum <name>|none

A checkpoint is valid under a policy when one of the logs signed it and the quorum
(a witness, or a group of witnesses and groups with a threshold) cosigned it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .checkpoint import Checkpoint, CheckpointError, parse_checkpoint
from .cosignature import CosignatureVerifier, timestamp_of
from .note import Ed25519Verifier, NoteError, open_note, parse_vkey


class PolicyError(ValueError):
    """The policy file is malformed, or a checkpoint does not satisfy it."""


@dataclass(frozen=True)
class TrustedLog:
    verifier: Ed25519Verifier
    url: str | None = None


@dataclass(frozen=True)
class Witness:
    name: str
    verifier: CosignatureVerifier
    url: str | None = None


@dataclass(frozen=True)
class Group:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass
class Policy:
    logs: list[TrustedLog] = field(default_factory=list)
    witnesses: dict[str, Witness] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    quorum: str = "none"

    def satisfied(self, cosigners: set[str] | dict) -> bool:
        """Whether witnesses named `cosigners` (policy names) make the quorum."""
        return self._witnessed(self.quorum, set(cosigners))

    def _witnessed(self, name: str, cosigners: set[str]) -> bool:
        if name == "none":
            return True
        if name in self.witnesses:
            return name in cosigners
        group = self.groups[name]
        return sum(self._witnessed(m, cosigners) for m in group.members) >= group.threshold

    def text(self) -> str:
        """The policy as a file (a canonical rendering; comments are not kept)."""
        lines = [f"log {log.verifier.vkey}" + (f" {log.url}" if log.url else "") for log in self.logs]
        lines += [f"witness {w.name} {w.verifier.vkey}" + (f" {w.url}" if w.url else "")
                  for w in self.witnesses.values()]
        lines += [f"group {g.name} {_threshold_word(g)} {' '.join(g.members)}" for g in self.groups.values()]
        lines.append(f"quorum {self.quorum}")
        return "\n".join(lines) + "\n"

    def verify_checkpoint(self, msg: bytes, origin: str | None = None) -> "Verdict":
        """Check a (cosigned) checkpoint against the policy; raise PolicyError when it fails."""
        verdict = self.evaluate(msg, origin)
        if not verdict.satisfied:
            raise PolicyError(verdict.describe())
        return verdict

    def evaluate(self, msg: bytes, origin: str | None = None) -> "Verdict":
        """Like `verify_checkpoint`, but returns an unsatisfied verdict instead of raising for a missing quorum."""
        logs = {(log.verifier.name, log.verifier.key_id) for log in self.logs}
        by_key = {(w.verifier.name, w.verifier.key_id): w.name for w in self.witnesses.values()}
        verifiers = [log.verifier for log in self.logs] + [w.verifier for w in self.witnesses.values()]
        try:
            note = open_note(msg, verifiers)
        except NoteError as exc:
            raise PolicyError(f"checkpoint rejected: {exc}") from exc
        signed_by = [s for s in note.sigs if (s.name, s.key_id) in logs]
        if not signed_by:
            raise PolicyError("checkpoint is not signed by any log of the policy")
        try:
            cp = parse_checkpoint(note.text)
        except CheckpointError as exc:
            raise PolicyError(str(exc)) from exc
        if cp.origin not in {s.name for s in signed_by}:
            raise PolicyError(f"checkpoint origin {cp.origin!r} is not the name of the log key that signed it")
        if origin is not None and cp.origin != origin:
            raise PolicyError(f"checkpoint is for origin {cp.origin!r}, expected {origin!r}")
        cosigners = {by_key[(s.name, s.key_id)]: timestamp_of(s.sig)
                     for s in note.sigs if (s.name, s.key_id) in by_key}
        return Verdict(cp, cosigners, self.satisfied(cosigners), self)


@dataclass
class Verdict:
    checkpoint: Checkpoint
    cosigners: dict[str, int]
    """Policy name of each witness whose cosignature verified, with its timestamp."""
    satisfied: bool
    policy: Policy

    def describe(self) -> str:
        have = ", ".join(sorted(self.cosigners)) or "no witness"
        if self.satisfied:
            return f"quorum {self.policy.quorum} met (cosigned by {have})"
        return f"quorum {self.policy.quorum} not met: cosigned by {have}"


def _threshold_word(group: Group) -> str:
    if group.threshold == len(group.members):
        return "all"
    if group.threshold == 1:
        return "any"
    return str(group.threshold)


_ALLOWED = re.compile(rb"[^\x09\x0a\x20-\x7e\x80-\xff]")


def parse_policy(data: bytes | str) -> Policy:
    """Parse a policy file (tlog-policy, Policy file syntax and structure)."""
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    bad = _ALLOWED.search(data)
    if bad:
        line = data[:bad.start()].count(b"\n") + 1
        raise PolicyError(f"line {line}: byte 0x{bad.group()[0]:02x} is not allowed in a policy file")
    policy = Policy()
    quorum_seen = False
    used_as_member: set[str] = set()
    log_keys: set[bytes] = set()
    witness_keys: set[bytes] = set()
    for number, raw in enumerate(data.decode("utf-8", "surrogateescape").split("\n"), start=1):
        line = raw.strip(" \t")
        if not line or line.startswith("#"):
            continue
        words = re.split(r"[ \t]+", line)
        keyword, args = words[0], words[1:]

        def fail(message: str) -> PolicyError:
            return PolicyError(f"line {number}: {message}")

        def defined(name: str) -> bool:
            return name in policy.witnesses or name in policy.groups

        if keyword == "log":
            if len(args) not in (1, 2):
                raise fail("expected: log <vkey> [<url>]")
            v = _vkey(args[0], Ed25519Verifier, "log", fail)
            if v.public_key in log_keys:
                raise fail("duplicate log key")
            log_keys.add(v.public_key)
            policy.logs.append(TrustedLog(v, args[1] if len(args) == 2 else None))
        elif keyword == "witness":
            if len(args) not in (2, 3):
                raise fail("expected: witness <name> <vkey> [<url>]")
            name = args[0]
            if name == "none" or defined(name):
                raise fail(f"name {name!r} is already defined")
            v = _vkey(args[1], CosignatureVerifier, "witness", fail)
            if v.public_key in witness_keys:
                raise fail("duplicate witness key")
            witness_keys.add(v.public_key)
            policy.witnesses[name] = Witness(name, v, args[2] if len(args) == 3 else None)
        elif keyword == "group":
            if len(args) < 3:
                raise fail("expected: group <name> all|any|<k> <name>...")
            name, word, members = args[0], args[1], args[2:]
            if name == "none" or defined(name):
                raise fail(f"name {name!r} is already defined")
            for m in members:
                if m == "none":
                    raise fail("'none' cannot be a group member")
                if not defined(m):
                    raise fail(f"group member {m!r} is not defined on an earlier line")
                if m in used_as_member:
                    raise fail(f"{m!r} is already a member of a group")
                used_as_member.add(m)
            if word == "all":
                k = len(members)
            elif word == "any":
                k = 1
            elif re.fullmatch(r"[1-9][0-9]*", word):
                k = int(word)
                if k > len(members):
                    raise fail(f"threshold {k} is larger than the {len(members)} members")
            else:
                raise fail(f"bad threshold {word!r}: all, any or a number")
            policy.groups[name] = Group(name, k, tuple(members))
        elif keyword == "quorum":
            if len(args) != 1:
                raise fail("expected: quorum <name>")
            if quorum_seen:
                raise fail("a policy has exactly one quorum line")
            if args[0] != "none" and not defined(args[0]):
                raise fail(f"quorum {args[0]!r} is not defined on an earlier line")
            policy.quorum = args[0]
            quorum_seen = True
        else:
            raise fail(f"unknown keyword {keyword!r}")
    if not quorum_seen:
        raise PolicyError("the policy has no quorum line")
    return policy


def _vkey(text: str, kind: type, role: str, fail):
    try:
        v = parse_vkey(text)
    except NoteError as exc:
        raise fail(f"{role} key: {exc}") from exc
    if not isinstance(v, kind):
        want = "Ed25519 (type 0x01)" if kind is Ed25519Verifier else "Ed25519 cosignature (type 0x04)"
        raise fail(f"a {role} key must be {want}")
    return v


def single_log_policy(log_vkey: str, witnesses: list[tuple[str, str, str | None]] = (), quorum: str | None = None) -> Policy:
    """A policy for one log and optional witnesses (name, vkey, url); quorum defaults to all of them."""
    lines = [f"log {log_vkey}"]
    lines += [f"witness {name} {vkey}" + (f" {url}" if url else "") for name, vkey, url in witnesses]
    if quorum is None:
        if len(witnesses) > 1:
            lines.append(f"group all-witnesses all {' '.join(name for name, _, _ in witnesses)}")
            quorum = "all-witnesses"
        else:
            quorum = witnesses[0][0] if witnesses else "none"
    lines.append(f"quorum {quorum}")
    return parse_policy("\n".join(lines) + "\n")
