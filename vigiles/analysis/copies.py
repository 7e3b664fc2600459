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
_GCLOUD_SCP_VALUED = frozenset({"--zone", "--project", "--account", "--configuration", "--scp-flag", "--ssh-key-file",
                                "--strict-host-key-checking", "--port", "--ssh-key-expiration",
                                "--ssh-key-expire-after", "--verbosity", "--format", "--flags-file", "--flatten",
                                "--access-token-file", "--impersonate-service-account", "--billing-project",
                                "--trace-token", "--worker", "--batch-size", "--node", "--service", "--version"})
"""gcloud's scp commands' (and gcloud's global) options that take a value."""
_GCLOUD_SCP_PATHS = frozenset({("compute",), ("compute", "tpus", "tpu-vm"), ("compute", "tpus", "queued-resources"),
                               ("app", "instances"), ("cloud-shell",)})
"""The command groups whose `scp` copies to or from an instance (`alpha`/`beta` may stand first)."""
_OC_RSYNC_VALUED = _KUBECTL_VALUED | {"--exclude", "--include", "--strategy", "--loglevel"}
_AZCOPY_VALUED = frozenset({
    "--include-pattern", "--exclude-pattern", "--include-path", "--exclude-path", "--include-regex",
    "--exclude-regex", "--include-after", "--include-before", "--exclude-blob-type", "--list-of-files",
    "--log-level", "--block-size-mb", "--cap-mbps", "--from-to", "--overwrite", "--blob-type",
    "--block-blob-tier", "--page-blob-tier", "--metadata", "--blob-tags", "--content-type",
    "--content-encoding", "--content-disposition", "--content-language", "--cache-control", "--output-type",
    "--output-level", "--trusted-microsoft-suffixes", "--compare-hash", "--check-md5", "--delete-destination",
    "--cpk-by-name", "--tenant-id", "--aad-endpoint", "--log-file", "--job-id", "--trailing-dot",
    "--include-attributes", "--exclude-attributes", "--list-of-versions", "--s2s-handle-invalid-metadata",
    "--put-blob-size-mb", "--exclude-container", "--hardlinks"})
"""azcopy's options that take the next word (cobra's booleans take one only as `--opt=value`)."""
_S3CMD_VALUED = frozenset({
    "-c", "--config", "--access_key", "--secret_key", "--access_token", "--region", "--bucket-location",
    "--host", "--host-bucket", "--exclude", "--include", "--rexclude", "--rinclude", "--exclude-from",
    "--include-from", "--rexclude-from", "--rinclude-from", "--acl-grant", "--acl-revoke", "--mime-type",
    "--default-mime-type", "--storage-class", "--add-header", "--remove-header", "--encoding",
    "--multipart-chunk-size-mb", "--limit-rate", "--server-side-encryption-kms-id", "--cache-file",
    "--ca-certs", "--proxy-host", "--proxy-port", "--max-delete", "--expiry-date", "--expiry-days",
    "--expiry-prefix", "--upload-id", "--add-encoding-exts", "--gpg-passphrase", "-m", "--content-type",
    "--content-disposition", "-D", "--restore-days", "--restore-priority", "--files-from", "--add-destination",
    "--ws-index", "--ws-error", "--delay-updates-dir", "--max-retries", "--retry-delay"})
_S5CMD_VALUED = frozenset({
    "--endpoint-url", "--profile", "--credentials-file", "--numworkers", "--retry-count", "-r", "--log",
    "--request-payer", "--storage-class", "--concurrency", "-c", "--part-size", "-p", "--content-type",
    "--content-encoding", "--content-disposition", "--cache-control", "--expires", "--acl", "--sse",
    "--sse-kms-key-id", "--exclude", "--include", "--metadata", "--metadata-directive", "--source-region",
    "--destination-region", "--version-id"})
_HF_VALUED = frozenset({"--repo-type", "--revision", "--include", "--exclude", "--delete", "--commit-message",
                        "--commit-description", "--token", "--every", "--num-workers"})
"""huggingface-cli / hf upload's options that take a value."""
_AZ_UPLOAD_SOURCES = {("blob", "upload"): ("--file", "-f"), ("blob", "upload-batch"): ("--source", "-s"),
                      ("blob", "sync"): ("--source", "-s"), ("blob", "directory", "upload"): ("--source", "-s"),
                      ("file", "upload"): ("--source",), ("file", "upload-batch"): ("--source", "-s"),
                      ("fs", "file", "upload"): ("--source", "-s"), ("fs", "directory", "upload"): ("--source", "-s")}
"""az storage's upload commands and the options that name what they send."""
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
    of scp, rsync and gcloud compute scp to `[user@]host:path`, of rclone's copy/sync/move to a
    `remote:path` (either side of a bisync), of kubectl/oc cp and oc rsync to `[ns/]pod:path`, of aws
    s3, gsutil, gcloud storage, s3cmd and s5cmd cp/sync/mv/put to a bucket URL, of azcopy to a URL;
    the file or folder huggingface-cli/hf upload sends, aws s3api put-object's
    `--body` and az storage's upload sources. [] for a fetch (the remote side first), a copy between
    two other places, or a local copy."""
    if name in ("scp", "rsync"):
        copy = copied_to_host(name, args)
        return copy[1] if copy is not None else []
    if name == "rclone":
        words = _after(operands(args, _RCLONE_VALUED), _RCLONE_VERBS)
        if words and words[0] == "bisync":
            return [w for w in words[1:] if not _in_rclone_remote(w)] if any(map(_in_rclone_remote, words[1:])) else []
        return _to_last(words[1:], _in_rclone_remote) if words else []
    if name == "oc" and operands(args, _OC_RSYNC_VALUED)[:1] == ["rsync"]:
        return _to_last(operands(args, _OC_RSYNC_VALUED)[1:], _in_pod)
    if name in ("kubectl", "oc"):
        words = _after(operands(args, _KUBECTL_VALUED), {"cp"})
        return _to_last(words[1:], _in_pod) if words else []
    if name == "gcloud" and "scp" in args:
        sent = _gcloud_scp(args)
        if sent is not None:
            return sent
    if name == "azcopy":
        words = operands(args, _AZCOPY_VALUED)
        return _to_last(words[1:], _is_url) if words[:1] in (["copy"], ["cp"], ["c"], ["sync"]) else []
    if name in ("s3cmd", "s5cmd"):
        words = operands(args, _S3CMD_VALUED if name == "s3cmd" else _S5CMD_VALUED)
        return _to_last(words[1:], _in_bucket) if words[:1] in (["put"], ["sync"], ["cp"], ["mv"]) else []
    if name in ("huggingface-cli", "hf"):
        return _hub_upload(operands(args, _HF_VALUED))
    if name == "aws" and "s3api" in args:
        words = operands(args, _CLOUD_VALUED)
        verb = words[words.index("s3api") + 1:][:1]
        return _option_values(args, ("--body",)) if verb in (["put-object"], ["upload-part"]) else []
    if name == "az" and args[:1] == ["storage"]:
        if args[1:2] == ["copy"]:
            # `az storage copy -s LOCAL -d URL`: a send where the source is local and the destination a URL
            destination = _option_values(args, ("--destination", "-d"))
            sources = [v for v in _option_values(args, ("--source", "-s")) if not _is_url(v)]
            return sources if destination and all(map(_is_url, destination)) else []
        for verbs, sources in _AZ_UPLOAD_SOURCES.items():
            if tuple(args[1:1 + len(verbs)]) == verbs:
                return _option_values(args, sources)
        return []
    if name in ("aws", "gsutil", "gcloud"):
        words = operands(args, _CLOUD_VALUED)
        if name != "gsutil":
            words = _after(words, {"s3"} if name == "aws" else {"storage"})[1:]
        words = _after(words, _BUCKET_VERBS)
        return _to_last(words[1:], _in_bucket) if words else []
    return []


def _gcloud_scp(args: list[str]) -> list[str] | None:
    """The local sources of gcloud's scp commands (compute, TPU VMs, App Engine instances) to
    `[user@]instance:path`; of gcloud cloud-shell scp, the `localhost:path` sources to `cloudshell:path`.
    None where the command is none of these (`scp` is another command's word)."""
    words = operands(args, _GCLOUD_SCP_VALUED)
    if "scp" not in words:
        return None
    at = words.index("scp")
    group = tuple(words[1 if words[:1] in (["alpha"], ["beta"]) else 0:at])
    if group not in _GCLOUD_SCP_PATHS:
        return None
    words = words[at + 1:]
    if group == ("cloud-shell",):
        if len(words) < 2 or not words[-1].startswith("cloudshell:"):
            return []
        return [w.partition(":")[2] for w in words[:-1] if w.startswith("localhost:")]
    return _to_last(words, lambda word: remote_spec(word) is not None)


def _hub_upload(words: list[str]) -> list[str]:
    """What `huggingface-cli`/`hf upload REPO_ID [LOCAL_PATH [PATH_IN_REPO]]` sends: LOCAL_PATH, or where
    none is given the file or folder named as the repository is (`hf upload me/ckpt` sends ./ckpt);
    upload-large-folder's LOCAL_PATH."""
    if words[:1] == ["upload"] and len(words) >= 2:
        return words[2:3] or [words[1].rstrip("/").rsplit("/", 1)[-1]]
    if words[:1] == ["upload-large-folder"]:
        return words[2:3]
    return []


def _option_values(args: list[str], options: tuple) -> list[str]:
    """The values given to `options` (`--body f`, `--body=f`, `-f f`)."""
    out = []
    for at, arg in enumerate(args):
        name, eq, value = arg.partition("=")
        if name in options:
            if eq:
                out.append(value)
            elif at + 1 < len(args):
                out.append(args[at + 1])
    return out


def _is_url(word: str) -> bool:
    return word.lower().startswith(("https://", "http://", "s3://", "gs://"))


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
