"""Copies that leave the host: which local files a command sends to another host or a bucket.

A copy's direction is in its operands, not its program: `scp model.pt h:/x` sends, `scp h:/x .`
fetches, `scp h1:a h2:b` moves data between two other hosts. Rules about what leaves (an agent's
own files, weights) read `cmd.uploads`, the local sources of copies whose destination is elsewhere,
rather than asking only whether a command names a host.

The destination is the last operand, as each of these programs has it. Options that take a value
are skipped with it where listed here; a value of an option not listed, written last, stands where
the destination should, and the copy is then not read as an upload: a fetch is never taken for one.
"""
from __future__ import annotations

import re2

_SCP_VALUED = frozenset("-" + flag for flag in "cDFiJloPSX")
_RSYNC_VALUED = frozenset({"-" + flag for flag in "eBfTM@"} | {
    "--exclude", "--include", "--filter", "--rsh", "--rsync-path", "--password-file", "--port", "--timeout",
    "--contimeout", "--bwlimit", "--log-file", "--log-file-format", "--out-format", "--max-size", "--min-size",
    "--max-delete", "--max-alloc", "--temp-dir", "--link-dest", "--copy-dest", "--compare-dest", "--backup-dir",
    "--suffix", "--exclude-from", "--include-from", "--files-from", "--chown", "--chmod", "--usermap",
    "--groupmap", "--partial-dir", "--block-size", "--checksum-seed", "--checksum-choice", "--cc",
    "--compress-choice", "--zc", "--compress-level", "--zl", "--skip-compress", "--modify-window", "--iconv",
    "--sockopts", "--address", "--outbuf", "--remote-option", "--protocol", "--write-batch",
    "--only-write-batch", "--read-batch", "--info", "--debug", "--stop-after", "--stop-at", "--early-input"})
"""scp's and rsync's options that take the next word as their value (`--opt=value` holds its own)."""
_KUBECTL_VALUED = frozenset({"-c", "--container", "-n", "--namespace", "--context", "--kubeconfig", "--cluster",
                             "--user", "--retries", "-s", "--server", "--token", "--as", "--as-group",
                             "--request-timeout", "-v", "--v", "--certificate-authority", "--client-certificate",
                             "--client-key", "--tls-server-name", "--cache-dir", "--profile", "--profile-output"})
_RCLONE_VALUED = frozenset({"--config", "--transfers", "--checkers", "--log-file", "--log-level", "--exclude",
                            "--include", "--filter", "--exclude-from", "--include-from", "--filter-from",
                            "--files-from", "--bwlimit", "--max-age", "--min-age", "--max-size", "--min-size",
                            "--max-transfer", "--backup-dir", "--suffix", "--stats", "--retries",
                            "--low-level-retries", "--timeout", "--contimeout", "--user-agent", "--order-by",
                            "--compare-dest", "--copy-dest", "--max-depth", "--multi-thread-streams",
                            "--buffer-size", "--tpslimit", "--cache-dir", "--password-command", "--header",
                            "--header-upload", "--header-download", "--dump", "--stats-log-level",
                            "--drive-chunk-size", "--s3-chunk-size", "--s3-upload-concurrency"})
_CLOUD_VALUED = frozenset({
    "--profile", "--region", "--endpoint-url", "--output", "--query", "--color", "--ca-bundle", "--cli-read-timeout",
    "--cli-connect-timeout", "--exclude", "--include", "--acl", "--storage-class", "--content-type",
    "--cache-control", "--content-encoding", "--content-disposition", "--expires", "--sse", "--sse-kms-key-id",
    "--metadata", "--metadata-directive", "--grants", "--page-size", "--source-region", "--request-payer",
    "--project", "--account", "--configuration", "--billing-project", "--impersonate-service-account",
    "--verbosity", "--format", "--flags-file", "--trace-token", "-h", "-o", "-u", "-a", "-j", "-L", "-s", "-x", "-z"})
"""Options of aws, gsutil and gcloud (global and of their copy commands) that take a value."""
_RCLONE_VERBS = frozenset({"copy", "copyto", "sync", "move", "moveto", "bisync"})
_BUCKET_VERBS = frozenset({"cp", "sync", "mv", "rsync"})
_BUCKET_SCHEMES = ("s3://", "gs://", "az://", "r2://")
_BRACKETED_REMOTE = re2.compile(r"(?:[^@\s\[]*@)?\[([0-9A-Fa-f:.]+)\]:(.*)")
_POD_PATH = re2.compile(r"[a-z0-9][a-z0-9.-]*(?:/[a-z0-9][a-z0-9.-]*)?:.*")
"""kubectl cp's remote operand: [NAMESPACE/]POD:PATH."""
_DRIVE = re2.compile(r"[A-Za-z]:\\.*")
"""A Windows drive path (C:\\x): a local file, not host C (`h:/x` is host h's /x)."""


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
    `scp://[user@]host[:port]/path`, `user@[v6]:path`; None for a local path (`./a:b` and `C:\\x`
    are local)."""
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
    if not colon or "/" in head or len(head) == 1 and _DRIVE.fullmatch(word):
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
    of scp and rsync to `[user@]host:path`, of rclone's copy/sync/move to a `remote:path` (either
    side of a bisync), of kubectl/oc cp to `[ns/]pod:path`, of aws s3, gsutil and gcloud storage
    cp/sync/mv to a bucket URL. [] for a fetch (the remote side first), a copy between two other
    places, or a local copy."""
    if name in ("scp", "rsync"):
        copy = copied_to_host(name, args)
        return copy[1] if copy is not None else []
    if name == "rclone":
        words = _after(operands(args, _RCLONE_VALUED), _RCLONE_VERBS)
        if words and words[0] == "bisync":
            return [w for w in words[1:] if not _in_rclone_remote(w)] if any(map(_in_rclone_remote, words[1:])) else []
        return _to_last(words[1:], _in_rclone_remote) if words else []
    if name in ("kubectl", "oc"):
        words = _after(operands(args, _KUBECTL_VALUED), {"cp"})
        return _to_last(words[1:], _in_pod) if words else []
    if name in ("aws", "gsutil", "gcloud"):
        words = operands(args, _CLOUD_VALUED)
        if name != "gsutil":
            words = _after(words, {"s3"} if name == "aws" else {"storage"})[1:]
        words = _after(words, _BUCKET_VERBS)
        return _to_last(words[1:], _in_bucket) if words else []
    return []


def _after(words: list[str], verbs: frozenset | set) -> list[str]:
    """The words from the first that is one of `verbs` (an option's value unlisted, or `alpha`, may
    stand before it); [] where none is."""
    for at, word in enumerate(words):
        if word in verbs:
            return words[at:]
    return []


def _to_last(words: list[str], remote) -> list[str]:
    """The local words before the last one, where that one (the destination) is remote."""
    if len(words) < 2 or not remote(words[-1]):
        return []
    return [w for w in words[:-1] if not remote(w)]


def _in_rclone_remote(word: str) -> bool:
    """`remote:path`, or a backend given inline (`:s3:bucket/x`, `:s3,provider=AWS:bucket`)."""
    return word.startswith(":") and ":" in word[1:] or remote_spec(word) is not None


def _in_pod(word: str) -> bool:
    return ":" in word and _POD_PATH.fullmatch(word) is not None and not _DRIVE.fullmatch(word)


def _in_bucket(word: str) -> bool:
    return word.lower().startswith(_BUCKET_SCHEMES)
