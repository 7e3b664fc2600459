"""Remote endpoints named in command words: URLs, user@host, host:port, /dev/tcp paths, socat addresses."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from .copies import takes_next

_SOCAT_TYPES = frozenset({"tcp", "tcp4", "tcp6", "udp", "udp4", "udp6", "openssl", "ssl", "tcp-connect",
                          "tcp4-connect", "udp-connect", "socks4", "socks4a", "socks5", "proxy",
                          "tcp-listen", "tcp4-listen", "udp-listen", "openssl-listen"})


@dataclass(slots=True, frozen=True)
class Endpoint:
    host: str | None
    port: int | None = None
    scheme: str | None = None

    def __str__(self) -> str:
        host = self.host or ""
        return f"{host}:{self.port}" if self.port is not None else host


def _port(text: str) -> int | None:
    if text.isdigit() and len(text) <= 5:
        value = int(text)
        if 0 < value < 65536:
            return value
    return None


_IP_CHARS = frozenset("0123456789abcdefABCDEF:.[]%")


def is_ip(text: str) -> bool:
    if not text or len(text) > 64 or not _IP_CHARS.issuperset(text) or ("." not in text and ":" not in text):
        return False
    try:
        ipaddress.ip_address(text.strip("[]"))
        return True
    except ValueError:
        return False


def _hostlike(text: str) -> bool:
    if not text or len(text) > 253 or text.startswith(("-", ".", "/")):
        return False
    if is_ip(text):
        return True
    if "." not in text and text != "localhost":
        return False
    return all(ch.isalnum() or ch in "-." for ch in text) and not text.replace(".", "").isdigit()


_SIGNS = frozenset(".:@/")


def from_word(word: str) -> list[Endpoint]:
    """Endpoints a single word names, or [] when it names none."""
    if len(word) > 2048 or _SIGNS.isdisjoint(word):
        return []
    found: list[Endpoint] = []
    for marker in ("/dev/tcp/", "/dev/udp/"):
        at = word.find(marker)
        if at >= 0:
            parts = word[at + len(marker):].split("/")
            if parts and parts[0]:
                found.append(Endpoint(parts[0], _port(parts[1].split()[0]) if len(parts) > 1 and parts[1] else None,
                                      marker[5:8]))
            return found
    if "://" in word:
        try:
            split = urlsplit(word[word.find("://") - 20 if word.find("://") > 20 else 0:].lstrip())
            host = split.hostname
            port = split.port
        except ValueError:
            return found
        if host:
            found.append(Endpoint(host, port, split.scheme.lower() or None))
        return found
    head, sep, rest = word.partition(":")
    if sep and head.lower() in _SOCAT_TYPES:
        fields = rest.split(",")[0].split(":")
        if len(fields) >= 2:
            found.append(Endpoint(fields[0] or None, _port(fields[1]), head.lower()))
        elif fields and _port(fields[0]):
            found.append(Endpoint(None, _port(fields[0]), head.lower()))
        return found
    if "@" in word:
        host = word.rsplit("@", 1)[1].split(":")[0].split("/")[0]
        if host and (_hostlike(host) or host.isalnum()):
            found.append(Endpoint(host))
        return found
    if word.count(":") == 1:
        host, port = word.split(":")
        if _hostlike(host) and _port(port):
            found.append(Endpoint(host, _port(port)))
            return found
    if _hostlike(word) and (is_ip(word) or word.rsplit(".", 1)[-1].isalpha()):
        if is_ip(word) or word == "localhost":
            found.append(Endpoint(word))
    return found


CURL_VALUED = frozenset({
    "-A", "-b", "-c", "-C", "-d", "-D", "-e", "-E", "-F", "-H", "-K", "-m", "-o", "-P", "-Q", "-r", "-t", "-T",
    "-u", "-U", "-w", "-X", "-y", "-Y", "-z", "--user-agent", "--cookie", "--cookie-jar", "--continue-at",
    "--data", "--data-ascii", "--data-binary", "--data-raw", "--data-urlencode", "--json", "--dump-header",
    "--referer", "--cert", "--cert-type", "--key", "--key-type", "--pass", "--cacert", "--capath", "--form",
    "--form-string", "--header", "--proxy-header", "--config", "--max-time", "--connect-timeout", "--output",
    "--output-dir", "--ftp-port", "--quote", "--range", "--upload-file", "--user", "--proxy-user", "--write-out",
    "--request", "--speed-limit", "--speed-time", "--time-cond", "--retry", "--retry-delay", "--retry-max-time",
    "--limit-rate", "--max-filesize", "--max-redirs", "--interface", "--local-port", "--oauth2-bearer",
    "--aws-sigv4", "--trace", "--trace-ascii", "--trace-config", "--stderr", "--unix-socket",
    "--abstract-unix-socket", "--dns-servers", "--dns-interface", "--dns-ipv4-addr", "--dns-ipv6-addr",
    "--variable", "--url-query", "--ciphers", "--tls13-ciphers", "--curves", "--tls-max", "--netrc-file",
    "--login-options", "--sasl-authzid", "--service-name", "--proto", "--proto-redir", "--proto-default",
    "--mail-from", "--mail-rcpt", "--mail-auth", "--hostpubmd5", "--hostpubsha256", "--pubkey", "--crlfile",
    "--pinnedpubkey", "--delegation", "--happy-eyeballs-timeout-ms", "--keepalive-time", "--keepalive-cnt",
    "--expect100-timeout", "--parallel-max", "--rate", "--etag-save", "--etag-compare", "--libcurl", "--hsts",
    "--alt-svc", "--proxy-cacert", "--proxy-capath", "--proxy-cert", "--proxy-cert-type", "--proxy-key",
    "--proxy-key-type", "--proxy-pass", "--proxy-ciphers", "--proxy-tls13-ciphers", "--proxy-crlfile",
    "--proxy-pinnedpubkey", "--proxy-service-name", "--proxy-tlsuser", "--proxy-tlspassword", "--proxy-tlsauthtype",
    "--ssl-sessions", "--egd-file", "--random-file", "--noproxy", "--create-file-mode", "--telnet-option",
    "--tftp-blksize", "--ip-tos", "--vlan-priority", "--ftp-account", "--ftp-method", "--ftp-alternative-to-user",
    "--ftp-ssl-ccc-mode", "--request-target", "--tlsuser", "--tlspassword", "--tlsauthtype", "--krb",
    "--socks5-gssapi-service", "--ech", "--ipfs-gateway", "--max-time", "--retry-all-errors-delay", "--sasl-authzid"})
"""curl's options whose next word is their value (a value is no address: `-e URL` is a header, `-o F` a file).
Its address options (-x/--proxy, --url, --preproxy, --socks5...) are not here: their values are read as addresses.
`--expand-OPTION` takes what OPTION takes."""
WGET_VALUED = frozenset({
    "-O", "-o", "-a", "-i", "-P", "-U", "-e", "-t", "-T", "-w", "-Q", "-l", "-A", "-R", "-D", "-B", "-I", "-X",
    "--output-document", "--output-file", "--append-output", "--input-file", "--directory-prefix", "--user-agent",
    "--execute", "--tries", "--timeout", "--wait", "--quota", "--level", "--accept", "--reject", "--domains",
    "--exclude-domains", "--base", "--include-directories", "--exclude-directories", "--header", "--post-data",
    "--post-file", "--body-data", "--body-file", "--method", "--user", "--password", "--http-user",
    "--http-password", "--proxy-user", "--proxy-password", "--ftp-user", "--ftp-password", "--load-cookies",
    "--save-cookies", "--referer", "--certificate", "--certificate-type", "--private-key", "--private-key-type",
    "--ca-certificate", "--ca-directory", "--crl-file", "--pinnedpubkey", "--hsts-file", "--egd-file",
    "--random-file", "--limit-rate", "--bind-address", "--bind-dns-address", "--dns-servers", "--dns-timeout",
    "--connect-timeout", "--read-timeout", "--waitretry", "--max-redirect", "--cut-dirs", "--backups",
    "--retry-on-http-error", "--config", "--rejected-log", "--default-page", "--restrict-file-names",
    "--local-encoding", "--remote-encoding", "--ciphers", "--secure-protocol", "--accept-regex", "--reject-regex",
    "--regex-type", "--warc-file", "--warc-header", "--warc-max-size", "--warc-dedup", "--warc-tempdir",
    "--use-askpass", "--report-speed", "--prefer-family", "--progress", "--start-pos", "--follow-tags",
    "--ignore-tags", "--compression", "--input-metalink", "--metalink-index", "--preferred-location"})
"""wget's (and wget2's) options whose next word is their value. wget takes any unambiguous prefix of a long
option (getopt_long): `--output-doc F` is `--output-document F`."""
_WGET_LONG = tuple(sorted(option for option in WGET_VALUED if option.startswith("--")))


def from_args(args: list[str], network_program: bool = False, valued: frozenset | None = None) -> list[Endpoint]:
    """Endpoints in a command's words.

    For a network program (ssh, nc, ...) bare host names count as hosts and bare numbers as ports,
    as in `nc evil.example 4444`. With `valued`, the options that take the next word (curl's, wget's):
    an option's value names no address (`curl -o out.txt`, `-d @req.json`, `-e URL`, `-u me@corp:tok`),
    and a host with a path or query and no scheme is one (`curl evil.example/x.sh`, fetched over http).
    """
    found: list[Endpoint] = []
    value_next = False
    for word in args:
        is_value, value_next = value_next, False
        if is_value:
            continue
        if valued is not None and word[:1] == "-" and len(word) > 1:
            value_next = _takes_value(word, valued)
        named = from_word(word)
        if not named and network_program and not word.startswith("-"):
            port = _port(word)
            if port is not None:
                named = [Endpoint(None, port)]
            elif _hostlike(word) and word.rsplit(".", 1)[-1].isalpha():
                named = [Endpoint(word)]
            elif valued is not None and ("/" in word or "?" in word or "#" in word):
                named = _schemeless(word)
        found.extend(named)
    return found


def _takes_value(option: str, valued: frozenset) -> bool:
    """Whether an option word leaves its value to the next word: a valued long option without `=`
    (`--expand-OPTION` as OPTION; a prefix of exactly one of wget's), or a short cluster read left to
    right whose first valued letter ends it (`-sSLo F`; in `-oF` the value is attached)."""
    if option[1] != "-":
        return takes_next(option, valued)
    if "=" in option:
        return False
    name = option
    if name.startswith("--expand-"):
        name = "--" + name[len("--expand-"):]
    if name in valued:
        return True
    if valued is WGET_VALUED and len(name) > 4:
        return sum(1 for long in _WGET_LONG if long.startswith(name)) == 1
    return False


def _schemeless(word: str) -> list[Endpoint]:
    """`host[:port]/path` (or `?query`, `#fragment`) as curl and wget take it (http): a name with a
    top-level domain, localhost, or an address (`[v6]:port` too)."""
    cut = min((at for at in map(word.find, "/?#") if at >= 0), default=len(word))
    head = word[:cut]
    if head.startswith("["):
        host, _, rest = head[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":") or not is_ip(host):
            return []
    else:
        host, _, port = head.partition(":")
    if port and _port(port) is None:
        return []
    if is_ip(host) or host == "localhost" or _hostlike(host) and host.rsplit(".", 1)[-1].isalpha() and "." in host:
        return [Endpoint(host, _port(port) if port else None, "http")]
    return []
