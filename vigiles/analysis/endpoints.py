"""Remote endpoints named in command words: URLs, user@host, host:port, /dev/tcp paths, socat addresses."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

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


def from_args(args: list[str], network_program: bool = False) -> list[Endpoint]:
    """Endpoints in a command's words.

    For a network program (ssh, nc, ...) bare host names count as hosts and bare numbers as ports,
    as in `nc evil.example 4444`.
    """
    found: list[Endpoint] = []
    for word in args:
        named = from_word(word)
        if not named and network_program and not word.startswith("-"):
            port = _port(word)
            if port is not None:
                named = [Endpoint(None, port)]
            elif _hostlike(word) and word.rsplit(".", 1)[-1].isalpha():
                named = [Endpoint(word)]
        found.extend(named)
    return found
