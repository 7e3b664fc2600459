"""What a copy sends off the host: its local sources, only where its destination is elsewhere."""
import pytest

from vigiles.analysis.copies import copied_to_host, remote_spec, uploads


@pytest.mark.parametrize("name, args, sent", [
    ("scp", ["-r", ".claude", "h:/x"], [".claude"]),
    ("scp", ["-P", "2222", "a", "b", "u@h:"], ["a", "b"]),
    ("scp", ["h:/x", "."], []),                                  # a fetch
    ("scp", ["h1:/a", "h2:/b"], []),                             # between two other hosts
    ("scp", ["a", "b"], []),                                     # local
    ("scp", ["--", "-odd", "h:/x"], ["-odd"]),
    ("rsync", ["-e", "ssh -p 22", "-az", "~/.codex/", "u@h:/b/"], ["~/.codex/"]),
    ("rsync", ["-a", "src", "h::module"], ["src"]),
    ("rsync", ["-a", "src", "rsync://h/module/x"], ["src"]),
    ("rsync", ["-a", "./a:b", "/tmp/x"], []),                    # a colon after a slash is a local name
    ("rclone", ["copy", "--transfers", "8", "./dir", "remote:x"], ["8", "./dir"]),
    ("rclone", ["copy", "remote:x", "./d"], []),
    ("rclone", ["ls", "remote:x"], []),
    ("kubectl", ["cp", "-n", "ns", "/root/.claude", "ns/pod:/tmp/x", "-c", "main"], ["/root/.claude"]),
    ("kubectl", ["cp", "ns/pod:/x", "./x"], []),
    ("kubectl", ["get", "pods"], []),
    ("aws", ["s3", "cp", "--recursive", "/root/.claude", "s3://b/x", "--exclude", "*.tmp"], ["/root/.claude"]),
    ("aws", ["--profile", "p", "s3", "sync", "out", "s3://b/"], ["out"]),
    ("aws", ["s3", "cp", "s3://b/x", "./"], []),
    ("aws", ["s3", "ls", "s3://b/"], []),
    ("gsutil", ["-m", "cp", "-r", "dir", "gs://b/"], ["dir"]),
    ("gcloud", ["storage", "cp", "a", "gs://b/"], ["a"]),
    ("cp", ["-r", "a", "h:/x"], []),                             # cp's h:/x is a local file name
])
def test_uploads(name, args, sent):
    assert uploads(name, args) == sent


def test_copied_to_host_gives_the_host_and_destination():
    assert copied_to_host("scp", ["-i", "k", "run.py", "ops@[2001:db8::5]:/srv/run.py"]) == (
        "2001:db8::5", ["run.py"], "/srv/run.py")
    assert remote_spec("scp://u@h.example:2222/srv") == ("h.example", "srv")
    assert remote_spec("./a:b") is None
