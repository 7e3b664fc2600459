"""Ledger throughput and proof costs; writes bench/results/ledger.json.

    python bench/bench_ledger.py [--entries 200000] [--seconds 3] [--dir DIR]

Appends are durable (the journal is fdatasync'ed per batch) and the log signs a checkpoint
whenever 0.9 s have passed since the last one (checkpoint_interval=0.9, so that one is signed
at least every second while appends flow, including the time a checkpoint takes), so the rates
below include the fsyncs, the tile writes and the Ed25519 signatures. Everything runs in
this one process, on one core.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vigiles.ledger.log import Log  # noqa: E402
from vigiles.ledger.proof import parse_proof, verify_proof  # noqa: E402
from vigiles.ledger.records import encode_record  # noqa: E402
from vigiles.ledger.tree import check_record, check_tree, leaf_hash  # noqa: E402
from vigiles.ledger.verify import verify_log  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "ledger.json"
COMMANDS = ["ls -la /workspace", "python train.py --epochs 3", "git status", "pip install -r requirements.txt",
            "ssh -R 9000:localhost:22 ops@198.51.100.9", "nvidia-smi", "cat /etc/passwd | head",
            "curl -s https://example.org/install.sh | sh", "tar czf out.tgz results/", "make -j8 test"]


from common import machine  # noqa: E402  (bench/ is on sys.path when run as a script)


def events(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    return [{"ts": 1_764_547_200 + i * 0.01, "tool": "bash", "input": rng.choice(COMMANDS),
             "sandbox": f"sbx-{i % 500}", "run": f"run-{i % 500}", "episode": f"ep-{i % 2000}", "step": i // 2000}
            for i in range(n)]


def fsync_latency(directory: Path) -> float:
    path = directory / "fsync-probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    times = []
    for _ in range(50):
        os.write(fd, b"x" * 200)
        t = time.perf_counter()
        os.fdatasync(fd)
        times.append(time.perf_counter() - t)
    os.close(fd)
    path.unlink()
    return statistics.median(times)


def append_run(directory: Path, records: list[dict], batch: int, seconds: float | None, raw: bool = False) -> dict:
    """Append `records` in batches of `batch` (stopping after `seconds` if given), auto-checkpointing."""
    root = directory / f"log-{batch}-{'raw' if raw else 'records'}"
    lg = Log.init(root, "bench.example.org/ledger", checkpoint_interval=0.9)
    stamps = []
    original = lg._checkpoint_locked

    def timed():
        t = time.perf_counter()
        note = original()
        stamps.append((t, time.perf_counter() - t))
        return note
    lg._checkpoint_locked = timed
    items = [encode_record("event", r) for r in records] if raw else [("event", r) for r in records]
    done = 0
    start = time.perf_counter()
    while done < len(items):
        chunk = items[done:done + batch]
        if raw:
            lg.append_many(chunk)
        else:
            lg.append_records(chunk)
        done += len(chunk)
        if seconds is not None and time.perf_counter() - start >= seconds:
            break
    elapsed = time.perf_counter() - start
    lg.close()
    gaps = [b[0] - a[0] for a, b in zip(stamps, stamps[1:])]
    end_gaps = [(b[0] + b[1]) - (a[0] + a[1]) for a, b in zip(stamps, stamps[1:])]
    result = {
        "batch": batch,
        "input": "pre-encoded entries" if raw else "records (RFC 8785 encoding included)",
        "entries": done,
        "seconds": round(elapsed, 3),
        "entries_per_second": round(done / elapsed),
        "checkpoints_signed": len(stamps),
        "max_seconds_between_checkpoint_starts": round(max(gaps), 3) if gaps else None,
        "max_seconds_between_signed_checkpoints": round(max(end_gaps), 3) if end_gaps else None,
        "checkpoint_ms_median": round(1000 * statistics.median(s for _, s in stamps), 2) if stamps else None,
        "checkpoint_ms_max": round(1000 * max(s for _, s in stamps), 2) if stamps else None,
    }
    return result, root


def timeit(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return (time.perf_counter() - start) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of the small-batch runs")
    parser.add_argument("--dir", type=Path, default=None, help="where to put the logs (default: a temporary directory)")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="vigiles-ledger-bench-", dir=args.dir))
    records = events(args.entries)
    out = {"machine": machine(), "fdatasync_ms_median": round(1000 * fsync_latency(directory), 3),
           "directory": str(directory), "appends": []}
    try:
        t = time.perf_counter()
        for r in records[:20000]:
            encode_record("event", r)
        out["record_encoding_us"] = round(1e6 * (time.perf_counter() - t) / 20000, 1)

        for batch, seconds in ((1, args.seconds), (16, args.seconds)):
            result, _ = append_run(directory, records, batch, seconds)
            out["appends"].append(result)
            print(json.dumps(result))
        raw, _ = append_run(directory, records, 256, None, raw=True)
        out["appends"].append(raw)
        print(json.dumps(raw))
        main_run, root = append_run(directory, records, 256, None)
        out["appends"].append(main_run)
        print(json.dumps(main_run))

        lg = Log.open(root, readonly=True)
        size = lg.checkpoint_size
        rng = random.Random(1)
        indexes = [rng.randrange(size) for _ in range(2000)]
        olds = [rng.randrange(1, size) for _ in range(2000)]
        root_hash = lg.checkpoint_info.root
        entries = {i: lg.entry(i) for i in indexes}
        leaves = {i: leaf_hash(e) for i, e in entries.items()}
        proofs = [lg.prove_inclusion(i) for i in indexes]
        consistency = [lg.prove_consistency(m) for m in olds]
        old_roots = {m: lg.root_hash(m) for m in olds[:200]}
        docs = [lg.tlog_proof(i) for i in indexes[:200]]
        out["proofs"] = {
            "tree_size": size,
            "inclusion_proof_generation_us": round(1e6 * timeit(lambda k: lg.prove_inclusion(indexes[k]), 2000), 1),
            "inclusion_proof_verification_us": round(1e6 * timeit(
                lambda k: check_record(proofs[k], size, root_hash, indexes[k], leaves[indexes[k]]), 2000), 1),
            "consistency_proof_generation_us": round(1e6 * timeit(lambda k: lg.prove_consistency(olds[k]), 2000), 1),
            "consistency_proof_verification_us": round(1e6 * timeit(
                lambda k: check_tree(consistency[k], size, root_hash, olds[k], old_roots[olds[k]]), 200), 1),
            "tlog_proof_document_us": round(1e6 * timeit(lambda k: lg.tlog_proof(indexes[k]), 200), 1),
            "tlog_proof_verification_with_signature_us": round(1e6 * timeit(
                lambda k: verify_proof(parse_proof(docs[k]), entries[indexes[k]], verifiers=[lg.verifier]), 200), 1),
            "proof_hashes": round(statistics.mean(len(p) for p in proofs), 1),
        }
        print(json.dumps(out["proofs"]))
        t = time.perf_counter()
        report = verify_log(root, lg.vkey)
        audit = time.perf_counter() - t
        assert report.ok, report.problems
        out["audit"] = {"entries": report.entries_checked, "checkpoints": report.checkpoints_checked,
                        "seconds": round(audit, 2), "entries_per_second": round(report.entries_checked / audit)}
        print(json.dumps(out["audit"]))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    out["command"] = "python bench/bench_ledger.py " + " ".join(sys.argv[1:])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
