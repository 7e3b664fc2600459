"""Crash safety: a writer killed with SIGKILL at any moment leaves a ledger that verifies and holds
every acknowledged entry.

Two ways: a forked writer that kills itself just before its n-th file-system change (every
write, torn in half; every rename, truncate, mkdir, unlink and rmdir in turn), and a separate
writer process killed by the test at random moments while it appends and checkpoints
continuously. SIGKILL loses nothing already handed to the kernel, so a kill just before an fsync
leaves the same files as a kill just after the change before it: those points add nothing here.
What this tests is that no torn or half-renamed file is ever visible and that recovery keeps
every acknowledged entry; surviving power loss rests on the fsync order (docs/ledger.md).
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import time

from vigiles.ledger.log import Log
from vigiles.ledger.verify import verify_log

ORIGIN = "example.org/vigiles-crash"


def entry(k: int) -> bytes:
    return b"entry %d" % k


def check_recovered(root, acked: int, vkey: str) -> int:
    """The ledger as the crash left it verifies; reopened, it holds every acknowledged entry."""
    report = verify_log(root, vkey, check_records=False)
    assert report.ok, report.problems
    lg = Log.open(root, checkpoint_interval=None)
    try:
        assert lg.size >= acked, (lg.size, acked)
        for k in range(lg.size):
            assert lg.entry(k) == entry(k), k
        lg.checkpoint()
        size = lg.size
    finally:
        lg.close()
    report = verify_log(root, vkey, check_records=False)
    assert report.ok and report.size == size and report.pending == 0, report
    return size


def scenario(lg, ack) -> None:
    """From 250 entries: an append across the tile boundary at 256, a checkpoint that completes
    a tile and a bundle (full files, partial files at two levels, checkpoint, history, journal
    reset, partials removed), then an append left in the journal."""
    for batch, checkpoint in ((10, True), (3, False)):
        start = lg.size
        lg.append_many([entry(k) for k in range(start, start + batch)])
        ack(lg.size)
        if checkpoint:
            lg.checkpoint()


def run_forked_until(root, fatal: int):
    """Fork a writer that dies at its `fatal`-th file-system change; returns (killed, acked)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the writer
        try:
            os.close(read_fd)
            count = [0]
            real = {name: getattr(os, name) for name in ("write", "replace", "ftruncate", "mkdir", "unlink", "rmdir")}

            def gate(name):
                def call(*args, **kwargs):
                    if name == "write" and args[0] == write_fd:
                        return real[name](*args)
                    count[0] += 1
                    if count[0] == fatal:
                        if name == "write" and len(args[1]) > 1:
                            real["write"](args[0], bytes(args[1][:len(args[1]) // 2]))  # a torn write
                        os.kill(os.getpid(), signal.SIGKILL)
                    return real[name](*args, **kwargs)
                return call

            for name in real:
                setattr(os, name, gate(name))
            lg = Log.open(root, checkpoint_interval=None)
            scenario(lg, lambda n: os.write(write_fd, b"%d\n" % n))
            os._exit(0)  # leave the last append in the journal: recovery must replay it
        except BaseException:
            os._exit(3)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        acks = f.read().split()
    _, status = os.waitpid(pid, 0)
    assert not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3), "the writer failed"
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return killed, int(acks[-1]) if acks else 0


def test_kill_at_every_durable_step(tmp_path):
    base = tmp_path / "base"
    lg = Log.init(base, ORIGIN, checkpoint_interval=None)
    vkey = lg.vkey
    lg.append_many([entry(k) for k in range(250)])
    lg.checkpoint()
    lg.close()
    fatal, rounds = 1, 0
    while True:
        root = tmp_path / f"run{fatal}"
        shutil.copytree(base, root)
        killed, acked = run_forked_until(root, fatal)
        check_recovered(root, acked, vkey)
        shutil.rmtree(root)
        rounds += 1
        if not killed:
            break  # the scenario ran to the end: every step has had its crash
        fatal += 1
    assert rounds > 20  # every write and rename of the journal, tiles, bundles and checkpoints, and the cleanup


WRITER = """
import sys
from vigiles.ledger.log import Log
lg = Log.open(sys.argv[1], checkpoint_interval=0.005)
rng = __import__("random").Random(int(sys.argv[2]))
while True:
    start = lg.size
    lg.append_many([b"entry %d" % k for k in range(start, start + rng.randint(1, 40))])
    sys.stdout.write("%d\\n" % lg.size)
    sys.stdout.flush()
"""


def test_sigkill_at_random_moments(tmp_path):
    root = tmp_path / "ledger"
    lg = Log.init(root, ORIGIN, checkpoint_interval=None)
    vkey = lg.vkey
    lg.close()
    rng = random.Random(1234)
    sizes = []
    for rounds in range(4):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(rounds)],
                                stdout=subprocess.PIPE, text=True)
        first = proc.stdout.readline()  # the writer is up and has acknowledged a batch
        assert first, "the writer did not start"
        time.sleep(rng.uniform(0.0, 0.15))
        os.kill(proc.pid, signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        acked = int((first + rest).split()[-1])
        sizes.append(check_recovered(root, acked, vkey))
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]
