"""The files a downloader saves what it fetched to (analysis.downloads)."""
import pytest

from vigiles.analysis.downloads import saved_files


@pytest.mark.parametrize("name, args, saved", [
    ("curl", ["-fsSLo", "/tmp/ngrok.tgz", "https://x.example/a"], ["/tmp/ngrok.tgz"]),
    ("curl", ["--output=/tmp/a", "https://x.example/a"], ["/tmp/a"]),
    ("curl", ["-LO", "https://x.example/d/chisel_1.9.1_linux_amd64.gz"], ["chisel_1.9.1_linux_amd64.gz"]),
    ("curl", ["https://x.example/a"], []),                                 # to its output
    ("wget", ["https://x.example/d/ngrok.tgz"], ["ngrok.tgz"]),            # under the URL's own name
    ("wget", ["-P", "/opt/t", "https://x.example/d/"], ["/opt/t/index.html"]),
    ("wget", ["-O", "/usr/local/bin/cloudflared", "https://x.example/c"], ["/usr/local/bin/cloudflared"]),
    ("scp", ["h:/x", "."], []),
])
def test_saved_files(name, args, saved):
    assert saved_files(name, args) == saved
