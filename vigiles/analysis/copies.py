"""Copies that leave the host: which local files a command sends to another host or a bucket.

A copy's direction is in its operands, not its program: `scp model.pt h:/x` sends, `scp h:/x .`
fetches, `scp h1:a h2:b` moves data between two other hosts. Rules about what leaves (an agent's
own files, weights) read `cmd.uploads`, the local sources of copies whose destination is elsewhere,
rather than asking only whether a command names a host.
"""
from __future__ import annotations

import re2

_SCP_VALUED = frozenset("-" + flag for flag in "cDFiJloPSX")
_RSYNC_VALUED = frozenset({"-" + flag for flag in "eBfTM@"} | {"--exclude", "--include", "--filter", "--rsh",
                                                                 "--rsync-path", "--password-file", "--port"})
_KUBECTL_VALUED = frozenset({"-c", "--container", "-n", "--namespace", "--context", "--kubeconfig", "--cluster",
                             "--user", "--retries", "-s", "--server", "--token", "--as", "--as-group"})
_RCLONE_VERBS = frozenset({"copy", "copyto", "sync", "move", "moveto", "bisync"})
_BUCKET_VERBS = frozenset({"cp", "sync", "mv", "rsync"})
_BUCKET_SCHEMES = ("s3://", "gs://", "az://", "r2://")
_CLOUD_VALUED = frozenset({"--profile", "--region", "--endpoint-url", "--exclude", "--include", "--acl",
                           "--storage-class", "--content-type", "--cache-control", "--sse", "--project"})
_BRACKETED_REMOTE = re2.compile(r"(?:[^@\s\[]*@)?\[([0-9A-Fa-f:.]+)\]:(.*)")
_POD_PATH = re2.compile(r"[a-z0-9][a-z0-9.-]*(?:/[a-z0-9][a-z0-9.-]*)?:.*")
"""kubectl cp's remote operand: [NAMESPACE/]POD:PATH."""


def takes_next(option: str, valued: frozenset | set) -> bool:
    """Whether an option word takes the next word as its value: `-u root`, or a cluster whose last
    option takes one (`xargs -0I {}`, `sudo -Eu root`); `-I{}` and `-n5` hold theirs."""
    if option in valued:
        return True
    if option[1:2] == "-" or len(option) < 3:
        return False
    for at, flag in enumerate(option[1:], start=1):
        if "-" + flag in valued:
            return at == len(option) - 1
    return False


def remote_spec(word: str) -> tuple[str, str] | None:
    """(host, path) of a copy's remote operand: `[user@]host:path`, `host::module` (rsync's daemon),
    `scp://[user@]host[:port]/path`, `user@[v6]:path`; None for a local path (`./a:b` is local)."""
    scheme, found, rest = word.partition("://")
    if found:
        if scheme.lower() not in ("scp", "rsync", "sftp"):
            return None
        authority, _, path = rest.partition("/")
        host = authority.rsplit("@", 1)[-1]
        host = host[1:host.find("]")] if host.startswith("[") else host.split(":", 1)[0]
        return (host.lower(), path) if host else None
    bracketed = _BRACKETED_REMOTE.fullmatch(word) if "[" in word else None
    if bracketed is not None:
        return bracketed.group(1).lower(), bracketed.group(2)
    head, colon, path = word.partition(":")
    if not colon or "/" in head:
        return None
    host = head.rsplit("@", 1)[-1]
    return (host.lower(), path.lstrip(":")) if host else None


def operands(args: list[str], valued: frozenset | set) -> list[str]:
    """The words that are not options nor an option's value (everything after a lone `--`)."""
    out: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            out.extend(args[index + 1:])
            break
        if arg.startswith("-") and len(arg) > 1:
            index += 2 if takes_next(arg, valued) else 1
            continue
        out.append(arg)
        index += 1
    return out


def copied_to_host(name: str, args: list[str]) -> tuple[str, list[str], str] | None:
    """(host, local sources, remote destination path) of a scp or rsync that copies to one host."""
    words = operands(args, _SCP_VALUED if name == "scp" else _RSYNC_VALUED)
    if len(words) < 2:
        return None
    target = remote_spec(words[-1])
    sources = [word for word in words[:-1] if remote_spec(word) is None]
    if target is None or not sources:
        return None
    return target[0], sources, target[1]


def uploads(name: str, args: list[str]) -> list[str]:
    """The local files a command copies to another host or a bucket, as written: the local sources
    of scp and rsync to `[user@]host:path`, of rclone's copy/sync/move to a `remote:path`, of
    kubectl/oc cp to `[ns/]pod:path`, of aws s3, gsutil and gcloud storage cp/sync/mv to a bucket
    URL. [] for a fetch (the remote side first), a copy between two other places, or a local copy.
    rclone's and the cloud tools' options are many: their destination is the last remote operand,
    and a word after an option that takes a value not listed here may be counted as a source (a
    value taken for a source, never a source missed)."""
    if name in ("scp", "rsync"):
        copy = copied_to_host(name, args)
        return copy[1] if copy is not None else []
    if name == "rclone":
        words = operands(args, frozenset())
        return _before_last(words[1:], _is_remote) if words[:1] and words[0] in _RCLONE_VERBS else []
    if name in ("kubectl", "oc"):
        words = operands(args, _KUBECTL_VALUED)
        return _before_last(words[1:], _POD_PATH.fullmatch) if words[:1] == ["cp"] else []
    if name in ("aws", "gsutil", "gcloud"):
        words = operands(args, _CLOUD_VALUED)
        if name != "gsutil":
            if words[:1] not in (["s3"], ["storage"]):
                return []
            words = words[1:]
        return _before_last(words[1:], _in_bucket) if words[:1] and words[0] in _BUCKET_VERBS else []
    return []


def _before_last(words: list[str], remote) -> list[str]:
    """The words that are not remote before the last one that is (the destination)."""
    for at in range(len(words) - 1, 0, -1):
        if remote(words[at]):
            return [w for w in words[:at] if not remote(w)]
    return []


def _is_remote(word: str) -> bool:
    return remote_spec(word) is not None


def _in_bucket(word: str) -> bool:
    return word.lower().startswith(_BUCKET_SCHEMES)
