"""Containment, opt-in and dry-run by default: kill a process tree, freeze its cgroup, block its egress.

Which findings get which response is a policy per category and severity. Every response, carried
out or only planned (dry run), is recorded in the store and, when there is one, in the ledger.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..analysis.findings import Finding
from ..analysis.rules import CATEGORIES, SEVERITY_RANK

ACTIONS = ("kill", "freeze", "block_egress")
NFT_TABLE = "vigiles"


@dataclass
class PolicyRule:
    category: str
    min_severity: str
    actions: list[str] = field(default_factory=list)

    def applies(self, finding: Finding) -> bool:
        return (self.category in ("*", finding.category)
                and SEVERITY_RANK[finding.severity] >= SEVERITY_RANK[self.min_severity])


def load_policy(path: str | Path) -> list[PolicyRule]:
    """`containment: [{category, min_severity, actions: [kill|freeze|block_egress]}]` from YAML."""
    doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    rules = []
    for index, item in enumerate(doc.get("containment") or []):
        where = f"{path}: containment rule {index + 1}"
        category = str(item.get("category", "*"))
        severity = str(item.get("min_severity", "critical"))
        actions = [str(a) for a in item.get("actions") or []]
        if category != "*" and category not in CATEGORIES:
            raise ValueError(f"{where}: unknown category {category!r}")
        if severity not in SEVERITY_RANK:
            raise ValueError(f"{where}: unknown severity {severity!r}")
        if not actions or set(actions) - set(ACTIONS):
            raise ValueError(f"{where}: actions must be among {', '.join(ACTIONS)}")
        rules.append(PolicyRule(category, severity, actions))
    return rules


class Containment:
    def __init__(self, policy: list[PolicyRule], *, dry_run: bool = True, store=None, ledger=None,
                 proc_root: str = "/proc", cgroup_root: str = "/sys/fs/cgroup", nft: str = "nft") -> None:
        self.policy, self.dry_run, self.store, self.ledger = policy, dry_run, store, ledger
        self.proc = Path(proc_root)
        self.cgroup_root = Path(cgroup_root)
        self.nft = nft
        self.protected = {1, os.getpid(), *self._ancestors(os.getpid())}
        """Never contained: init, vigiles itself and the processes that started it."""
        self.done: set[tuple[str, str]] = set()

    def respond(self, finding: Finding) -> list[dict[str, Any]]:
        pid = finding.evidence.get("pid")
        records = []
        for rule in self.policy:
            if not rule.applies(finding):
                continue
            for action in rule.actions:
                if (finding.id, action) in self.done:
                    continue
                self.done.add((finding.id, action))
                if not isinstance(pid, int):
                    records.append(self._record(finding, action, "-", "skipped: the finding names no process", {}))
                    continue
                if pid in self.protected:
                    records.append(self._record(finding, action, pid, "refused: protected process", {}))
                    continue
                handler = {"kill": self.kill_tree, "freeze": self.freeze, "block_egress": self.block_egress}[action]
                outcome, detail = handler(pid)
                records.append(self._record(finding, action, pid, outcome, detail))
        return records

    # -- actions --------------------------------------------------------------------------------------
    def kill_tree(self, pid: int) -> tuple[str, dict]:
        tree = [p for p in self.descendants(pid) if p not in self.protected]
        if self.dry_run:
            return "planned", {"pids": tree, "signal": "SIGKILL"}
        killed, gone = [], []
        for target in reversed(tree):  # children before parents, so none is re-parented and missed
            try:
                os.kill(target, signal.SIGKILL)
                killed.append(target)
            except ProcessLookupError:
                gone.append(target)
            except PermissionError:
                return "failed: permission denied", {"pids": tree, "killed": killed}
        return "done", {"pids": tree, "killed": killed, "already_gone": gone}

    def freeze(self, pid: int) -> tuple[str, dict]:
        path = self.cgroup_of(pid)
        if path is None:
            return "failed: no cgroup v2 membership", {}
        target = self.cgroup_root / path.lstrip("/") / "cgroup.freeze"
        if path in ("", "/") or self.cgroup_of(os.getpid()) == path:
            return "refused: the cgroup holds vigiles or is the root", {"cgroup": path}
        if self.dry_run:
            return "planned", {"cgroup": path, "write": str(target)}
        try:
            target.write_text("1")
        except OSError as exc:
            return f"failed: {exc.strerror or exc}", {"cgroup": path}
        return "done", {"cgroup": path}

    def block_egress(self, pid: int) -> tuple[str, dict]:
        uid = self.uid_of(pid)
        if uid is None:
            return "failed: process gone", {}
        if uid == os.getuid():
            return "refused: the process runs as vigiles's own user", {"uid": uid}
        commands = self.nft_commands(uid)
        if self.dry_run:
            return "planned", {"uid": uid, "commands": commands}
        for argv in commands:
            try:
                done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                return f"failed: {exc}", {"uid": uid, "commands": commands}
            if done.returncode != 0 and "File exists" not in done.stderr:
                return f"failed: {done.stderr.strip()[:200]}", {"uid": uid, "commands": commands}
        return "done", {"uid": uid, "commands": commands}

    def nft_commands(self, uid: int) -> list[list[str]]:
        """nftables argv (no shell) that drop every new outbound packet of one user, loopback excepted."""
        return [
            [self.nft, "add", "table", "inet", NFT_TABLE],
            [self.nft, "add", "chain", "inet", NFT_TABLE, "egress",
             "{ type filter hook output priority 0 ; policy accept ; }"],
            [self.nft, "add", "rule", "inet", NFT_TABLE, "egress", "meta", "skuid", str(uid), "oifname", "!=", "lo",
             "counter", "drop", "comment", f"\"vigiles containment uid {uid}\""],
        ]

    # -- /proc ----------------------------------------------------------------------------------------
    def _parent(self, pid: int) -> int | None:
        try:
            stat = (self.proc / str(pid) / "stat").read_text()
        except OSError:
            return None
        return int(stat[stat.rfind(")") + 2:].split()[1])

    def _ancestors(self, pid: int) -> list[int]:
        out, seen = [], set()
        parent = self._parent(pid)
        while parent and parent not in seen and len(out) < 256:
            seen.add(parent)
            out.append(parent)
            parent = self._parent(parent)
        return out

    def descendants(self, pid: int) -> list[int]:
        """pid and every process below it, parents before children."""
        children: dict[int, list[int]] = {}
        for entry in self.proc.iterdir():
            if entry.name.isdigit():
                parent = self._parent(int(entry.name))
                if parent is not None:
                    children.setdefault(parent, []).append(int(entry.name))
        out, stack, seen = [], [pid], set()
        while stack and len(out) < 100_000:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            out.append(current)
            stack.extend(children.get(current, []))
        return out

    def cgroup_of(self, pid: int) -> str | None:
        try:
            for line in (self.proc / str(pid) / "cgroup").read_text().splitlines():
                if line.startswith("0::"):
                    return line[3:]
        except OSError:
            return None
        return None

    def uid_of(self, pid: int) -> int | None:
        try:
            for line in (self.proc / str(pid) / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return None

    def _record(self, finding: Finding, action: str, target: Any, outcome: str, detail: dict) -> dict[str, Any]:
        record = {"ts": time.time(), "finding": finding.id, "rule": finding.rule, "category": finding.category,
                  "severity": finding.severity, "action": action, "target": target, "dry_run": self.dry_run,
                  "outcome": outcome, "detail": detail}
        if self.store is not None:
            self.store.record_response(record)
        if self.ledger is not None:
            self.ledger.add_response(record)
        return record
