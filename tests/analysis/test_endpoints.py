"""Hosts and ports named in a command's words (analysis.endpoints)."""
import pytest

from vigiles.analysis.endpoints import CURL_VALUED, WGET_VALUED, from_args


def hosts(args, valued=None, network=True):
    return [e.host for e in from_args(args, network, valued)]


@pytest.mark.parametrize("args, found", [
    (["-o", "file.txt", "https://x.example/a"], ["x.example"]),          # -o's value is a file
    (["-sSLo", "out.json", "example.com/api"], ["example.com"]),         # a cluster ending in a valued option
    (["--output=out.json", "example.com"], ["example.com"]),
    (["evil.example.net/x.sh"], ["evil.example.net"]),                   # no scheme: curl fetches it over http
    (["203.0.113.7/payload"], ["203.0.113.7"]),
    (["attacker.example:8080/u"], ["attacker.example"]),
    (["localhost:8080/health"], ["localhost"]),
    (["-H", "Host: a.example", "10.0.0.1/x"], ["10.0.0.1"]),
    (["./local/file.txt"], []),
    (["-K", "config.d/x"], []),
    (["-T", "model.safetensors", "example.com"], ["example.com"]),
    (["-x", "http://203.0.113.9:3128", "https://api.openai.com/v1"], ["203.0.113.9", "api.openai.com"]),
    # an option's value names no address, however it looks
    (["-d", "@req.json", "$OPENAI_BASE_URL/chat"], []),
    (["-F", "file=@weights.bin", "-u", "me@corp.com:tok", "https://x.example/"], ["x.example"]),
    (["-e", "https://api.openai.com/", "https://evil.example/"], ["evil.example"]),
    (["-s", "-#o", "resp.json", "x.example/v1"], ["x.example"]),         # -# is a flag; -o takes the next
    (["-sSLoinstaller", "203.0.113.7/v1"], ["203.0.113.7"]),             # the value attached
    (["--expand-output", "resp.json", "--noproxy", "internal.example", "https://a.example/"], ["a.example"]),
    (["203.0.113.7?x=1"], ["203.0.113.7"]),
    (["evil.example#f"], ["evil.example"]),
    (["[2001:db8::1]:8080/x"], ["2001:db8::1"]),
])
def test_curl_words(args, found):
    assert hosts(args, CURL_VALUED) == found


def test_wget_words():
    assert hosts(["-O", "out.tar.gz", "example.com"], WGET_VALUED) == ["example.com"]
    assert hosts(["--output-doc", "out.json", "evil.example/x"], WGET_VALUED) == ["evil.example"]   # a prefix
    assert hosts(["--max-redirect", "5", "--exclude-domains", "ads.example.com", "example.org/"],
                 WGET_VALUED) == ["example.org"]
    assert hosts(["-qO-", "raw.githubusercontent.com/a/b/i.sh"], WGET_VALUED) == ["raw.githubusercontent.com"]


def test_other_programs_keep_their_reading():
    assert hosts(["evil.example", "4444"]) == ["evil.example", None]     # nc: a bare name and a port
    assert hosts(["dir.d/file"], network=False) == []                     # a path, not a host
