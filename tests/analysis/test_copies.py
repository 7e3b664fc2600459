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
    ("rclone", ["copy", "--transfers", "8", "./dir", "remote:x"], ["./dir"]),
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
    # options after the operands, or before the subcommand
    ("rsync", ["-a", "src", "h:/x", "--timeout", "30"], ["src"]),
    ("rsync", ["-a", "src/", "/backup/", "--chown", "root:root"], []),   # local: root:root is a value
    ("rsync", ["-a", "h:/src/", "./dst/", "--out-format", "%n:%l"], []),
    ("rclone", ["--config", "/tmp/rc.conf", "copy", "d", "remote:x"], ["d"]),
    ("rclone", ["-v", "--transfers", "8", "copy", "d", "remote:x"], ["d"]),
    ("rclone", ["copy", "--transfers", "8", "remote:x", "./y"], []),    # a fetch, whatever stands before it
    ("rclone", ["copy", "--exclude", ".claude/**", "gdrive:proj", "./proj"], []),
    ("rclone", ["bisync", "remote:backup", "d"], ["d"]),                # both ways
    ("rclone", ["copy", "d", ":s3:bucket/x"], ["d"]),                   # a backend given inline
    ("kubectl", ["--request-timeout", "30s", "cp", "d", "ns/pod:/x"], ["d"]),
    ("kubectl", ["cp", "--request-timeout", "30s", "ns/pod:/x", "./f"], []),
    ("gsutil", ["-h", "Content-Type:application/json", "cp", "f", "gs://b/"], ["f"]),
    ("gsutil", ["-o", "GSUtil:parallel_thread_count=8", "cp", "-r", "d", "gs://b/"], ["d"]),
    ("aws", ["--output", "json", "s3", "cp", "--recursive", "d", "s3://b/"], ["d"]),
    ("aws", ["s3", "cp", "--expires", "2030-01-01T00:00:00Z", "s3://b/x", "./x"], []),
    ("gcloud", ["--account", "a@b.c", "alpha", "storage", "cp", "-r", "d", "gs://b/"], ["d"]),
    ("scp", ["C:\\Users\\me\\f", "h:/x"], ["C:\\Users\\me\\f"]),    # a drive, not host C
    ("scp", ["./f", "C:\\Users\\me\\f"], []),
])
def test_uploads(name, args, sent):
    assert uploads(name, args) == sent


def test_copied_to_host_gives_the_host_and_destination():
    assert copied_to_host("scp", ["-i", "k", "run.py", "ops@[2001:db8::5]:/srv/run.py"]) == (
        "2001:db8::5", ["run.py"], "/srv/run.py")
    assert remote_spec("scp://u@h.example:2222/srv") == ("h.example", "srv")
    assert remote_spec("./a:b") is None


@pytest.mark.parametrize("name, args, sent", [
    ("gcloud", ["compute", "scp", "--zone", "us-central1-a", "--recurse", "/root/.claude", "vm-1:/tmp/"], ["/root/.claude"]),
    ("gcloud", ["compute", "scp", "--zone", "z", "vm-1:/tmp/x", "."], []),
    ("gcloud", ["compute", "ssh", "vm", "--", "scp", "a", "h:/x"], []),      # run on the instance
    ("gcloud", ["cloud-shell", "scp", "localhost:~/.codex", "cloudshell:~/x"], ["~/.codex"]),
    ("gcloud", ["cloud-shell", "scp", "cloudshell:~/x", "localhost:~/y"], []),
    ("oc", ["rsync", "./ckpt", "mypod:/data", "-c", "main"], ["./ckpt"]),
    ("oc", ["rsync", "--exclude", "*.log", "mypod:/data", "./x"], []),
    ("azcopy", ["copy", "./models", "https://acct.blob.core.windows.net/c?sv=x", "--recursive"], ["./models"]),
    ("azcopy", ["sync", "--include-pattern", "*.pt", "ckpt", "https://acct.blob.core.windows.net/c"], ["ckpt"]),
    ("azcopy", ["copy", "https://acct.blob.core.windows.net/c", "./x"], []),
    ("s3cmd", ["put", "--acl-public", "model.pt", "s3://b/"], ["model.pt"]),
    ("s3cmd", ["-c", "/etc/s3cfg", "sync", "s3://b/", "./x"], []),
    ("s3cmd", ["cp", "s3://a/x", "s3://b/x"], []),
    ("s5cmd", ["--endpoint-url", "http://minio:9000", "cp", "ckpt/*", "s3://b/"], ["ckpt/*"]),
    ("huggingface-cli", ["upload", "me/model", "./out", "--token", "x"], ["./out"]),
    ("hf", ["upload", "--repo-type", "model", "me/model"], ["model"]),         # ./model, named as the repository
    ("hf", ["upload-large-folder", "me/model", "/data/ckpt"], ["/data/ckpt"]),
    # reviewed: what runs elsewhere, a word in a subcommand's place, booleans and valued options
    ("oc", ["rsh", "mypod", "rsync", "-a", "/data/model.safetensors", "backup:/srv"], []),    # runs in the pod
    ("oc", ["debug", "node/n", "--", "rsync", "-a", "/root/.claude", "backup:/srv"], []),
    ("oc", ["cp", "/root/.claude", "mypod:/tmp", "-c", "rsync"], ["/root/.claude"]),
    ("oc", ["rsync", "/root/.claude", "pod:/root", "--loglevel", "5"], ["/root/.claude"]),
    ("hf", ["jobs", "run", "python:3.12", "hf", "upload", "me/ckpt", "/data/checkpoints"], []),
    ("hf", ["download", "me/model", "upload", "config.json"], []),
    ("azcopy", ["copy", "--put-md5", "/root/.claude", "https://a.blob.core.windows.net/c", "--recursive"], ["/root/.claude"]),
    ("azcopy", ["c", "/root/.claude", "https://a.blob.core.windows.net/c"], ["/root/.claude"]),
    ("azcopy", ["copy", "/root/.claude", "https://a.blob.core.windows.net/c", "--trailing-dot", "Enable"], ["/root/.claude"]),
    ("s3cmd", ["put", "--signature-v2", "/root/.codex/auth.json", "s3://b/"], ["/root/.codex/auth.json"]),
    ("s3cmd", ["put", "/root/.codex/auth.json", "s3://b/", "-m", "text/plain"], ["/root/.codex/auth.json"]),
    ("gcloud", ["compute", "tpus", "tpu-vm", "scp", "/data/ckpt/model.safetensors", "my-tpu:~/", "--worker", "all"],
     ["/data/ckpt/model.safetensors"]),
    ("gcloud", ["app", "instances", "scp", "--service", "s", "--version", "v", "/root/.claude", "i1:/tmp"], ["/root/.claude"]),
    ("gcloud", ["compute", "scp", "/root/.claude", "vm:/tmp", "--access-token-file", "/tmp/tok"], ["/root/.claude"]),
    ("gcloud", ["storage", "cp", "scp", "gs://b/"], ["scp"]),
    ("az", ["storage", "copy", "-s", "/root/.claude", "-d", "https://a.blob.core.windows.net/c", "--recursive"], ["/root/.claude"]),
    ("az", ["storage", "copy", "-s", "https://a.blob.core.windows.net/c", "-d", "/tmp/x"], []),
    ("az", ["storage", "blob", "sync", "-c", "c", "-s", "/root/.claude"], ["/root/.claude"]),
    ("az", ["storage", "blob", "directory", "upload", "-c", "c", "-s", "/root/.claude", "-d", "dir"], ["/root/.claude"]),
    ("hf", ["download", "me/model"], []),
    ("aws", ["s3api", "put-object", "--bucket", "b", "--key", "k", "--body", "model.safetensors"], ["model.safetensors"]),
    ("aws", ["s3api", "get-object", "--bucket", "b", "--key", "k", "out"], []),
    ("az", ["storage", "blob", "upload", "--account-name", "a", "-c", "c", "-f", "model.pt", "-n", "m"], ["model.pt"]),
    ("az", ["storage", "blob", "upload-batch", "-d", "c", "--source=./ckpt"], ["./ckpt"]),
    ("az", ["storage", "blob", "download", "-c", "c", "-n", "m", "-f", "model.pt"], []),
])
def test_uploads_of_other_copy_tools(name, args, sent):
    assert uploads(name, args) == sent
