"""The `vigiles` command line."""
from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from .. import __version__
from ..analysis.rules import CATEGORIES, SEVERITY_RANK, load

app = typer.Typer(no_args_is_help=True, add_completion=False,
                  help="vigiles: an independent watcher for AI agents.")
incidents_app = typer.Typer(no_args_is_help=True, help="Browse incidents kept in the store.")
compute_app = typer.Typer(no_args_is_help=True, help="GPU accounting: sanctioned jobs and GPU-seconds that belong to nobody.")
rules_app = typer.Typer(no_args_is_help=True, help="Inspect and check rule files.")
app.add_typer(incidents_app, name="incidents")
app.add_typer(rules_app, name="rules")
app.add_typer(compute_app, name="compute")

err = Console(stderr=True)
out = Console(highlight=False, soft_wrap=True)


class Format(str, Enum):
    table = "table"
    json = "json"
    markdown = "markdown"


class Severity(str, Enum):
    info = "info"
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


def _db_path(db: Optional[Path]) -> Path:
    from ..sinks.store import default_path
    return db or default_path()


def _load_rules(rules: List[Path], no_builtin: bool):
    ruleset = load(rules, builtin=not no_builtin)
    for problem in ruleset.problems:
        sys.stderr.write(f"rule problem: {_printable(problem)}\n")
    return ruleset


# The sanctioned-job options, shared by every command that accounts GPU use (scan, compute report,
# watch, sensor).
JOBS_OPTION = typer.Option(None, "--jobs", help="Sanctioned compute jobs (YAML policy).")
JOB_COMMAND_OPTION = typer.Option([], "--job-command", help="A sanctioned job's command-line pattern (glob).")
JOB_PID_OPTION = typer.Option([], "--job-pid", help="A sanctioned job's process-tree root pid.")
JOB_CGROUP_OPTION = typer.Option([], "--job-cgroup", help="A sanctioned job's cgroup path prefix.")


@app.command()
def scan(
    paths: List[Path] = typer.Argument(..., help="Transcript and log files or folders."),
    format: Format = typer.Option(Format.table, "--format", "-f", help="Output format."),
    fail_on: Optional[Severity] = typer.Option(None, "--fail-on", help="Exit 1 when a finding at or above this severity exists."),
    rules: List[Path] = typer.Option([], "--rules", help="Rule file or folder (vigiles or Sigma format); repeatable."),
    no_builtin: bool = typer.Option(False, "--no-builtin", help="Run only the rules given with --rules."),
    db: Optional[Path] = typer.Option(None, "--db", help="SQLite store (default $VIGILES_DB or ~/.local/share/vigiles/vigiles.db)."),
    no_store: bool = typer.Option(False, "--no-store", help="Keep nothing on disk."),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="Append every event and decision to this transparency log."),
    window: float = typer.Option(3600.0, "--window", help="Seconds of quiet that split one incident from the next."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
    jobs_policy: Optional[Path] = JOBS_OPTION,
    job_command: List[str] = JOB_COMMAND_OPTION,
    job_pid: List[int] = JOB_PID_OPTION,
    job_cgroup: List[str] = JOB_CGROUP_OPTION,
    alert: List[str] = typer.Option([], "--alert", help="Send alerts (medium and above): stdout, ocsf, webhook:URL, slack:URL, syslog:HOST:PORT."),
) -> None:
    """Scan recorded agent transcripts and host logs for instrumental-convergence behaviour."""
    from ..pipeline import scan as run_scan
    if no_builtin and not rules:
        err.print("--no-builtin needs at least one --rules PATH")
        raise typer.Exit(2)
    for path in rules:
        if not path.exists():
            err.print(f"rules path not found: {path}")
            raise typer.Exit(2)
    ruleset = _load_rules(rules, no_builtin)
    store = None
    if not no_store:
        from ..sinks.store import Store
        store = Store(_db_path(db))
    log = None
    if ledger is not None:
        from ..sinks.ledger import LedgerSink
        try:
            log = LedgerSink.open(ledger, store)
        except (OSError, ValueError) as exc:
            err.print(f"cannot open ledger {ledger}: {exc}")
            raise typer.Exit(2)
    progress = _progress(paths)
    try:
        with progress as bar:
            task = bar.add_task("scanning", total=_total_bytes(paths)) if bar is not None else None
            done = {"bytes": 0}

            def on_file(path: Path, _events: int) -> None:
                if bar is not None:
                    try:
                        done["bytes"] += path.stat().st_size
                    except OSError:
                        pass
                    bar.update(task, completed=done["bytes"])
            jobs = _jobs(jobs_policy, job_command, job_pid, job_cgroup)
            result = run_scan(paths, ruleset, store=store, ledger=log, window_s=window, on_file=on_file, jobs=jobs)
            if alert:
                _send_alerts(alert, result.findings, store)
    finally:
        if log is not None:
            log.close()
        if store is not None:
            store.close()
    for error in result.errors:
        sys.stderr.write(f"error: {_printable(str(error))}\n")
    hidden = result.stats["bad_lines"] + result.stats["bad_files"] - len(result.errors)
    if hidden > 0:
        sys.stderr.write(f"... and {hidden} more input errors\n")
    print_report(result, format, output)
    if result.unreadable:
        raise typer.Exit(2)
    exit_for(result, fail_on)


def print_report(result, format: Format, output: Optional[Path]) -> None:
    """The result in the chosen format, on stdout or in `output` (scan, watch and sensor share it)."""
    from ..sinks import report
    if format is Format.json:
        text = report.to_json(result)
    elif format is Format.markdown:
        text = report.to_markdown(result)
    else:
        text = None
    if text is not None:
        if output:
            output.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        report.print_table(result, Console(file=open(output, "w")) if output else out)


def exit_for(result, fail_on: Optional[Severity]) -> None:
    """Exit status 1 when a finding at or above `fail_on` exists."""
    if fail_on is not None:
        bar_rank = SEVERITY_RANK[fail_on.value]
        if any(SEVERITY_RANK[f.severity] >= bar_rank for f in result.findings):
            raise typer.Exit(1)


def _jobs(policy: Optional[Path], commands: List[str], pids: List[int], cgroups: List[str]):
    from ..analysis.compute import JobSpec, load_policy
    jobs = []
    if policy is not None:
        try:
            jobs.extend(load_policy(policy))
        except (OSError, ValueError) as exc:
            err.print(f"cannot read jobs policy: {exc}")
            raise typer.Exit(2)
    for index, command in enumerate(commands, 1):
        jobs.append(JobSpec(id=f"cli-command-{index}", command=command))
    if pids:
        jobs.append(JobSpec(id="cli-pids", pids=set(pids)))
    for index, cgroup in enumerate(cgroups, 1):
        jobs.append(JobSpec(id=f"cli-cgroup-{index}", cgroup=cgroup))
    return jobs


def _send_alerts(specs: List[str], findings, store) -> None:
    from ..sinks.alerts import Dispatcher, sink_from_spec
    try:
        sinks = [sink_from_spec(spec) for spec in specs]
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2)
    dispatcher = Dispatcher(sinks, store=store)
    for finding in sorted(findings, key=lambda f: f.ts):
        dispatcher.publish(finding)
    dispatcher.close(timeout=30)


def _printable(text: str) -> str:
    """One line, no terminal control characters: file names and messages may come from the agent."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def _total_bytes(paths: List[Path]) -> int:
    from ..sources import iter_files
    total = 0
    for item in iter_files(paths):
        if isinstance(item, Path):
            try:
                total += item.stat().st_size
            except OSError:
                pass
    return total


class _NoProgress:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def _progress(paths: List[Path]):
    """A progress bar on long scans, when a person is watching (stderr is a terminal)."""
    if not err.is_terminal or _total_bytes(paths) < 8 * 1024 * 1024:
        return _NoProgress()
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
    return Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                    TimeRemainingColumn(), console=err, transient=True)


@incidents_app.command("list")
def incidents_list(
    db: Optional[Path] = typer.Option(None, "--db"),
    severity: Optional[Severity] = typer.Option(None, "--severity", help="At or above this severity."),
    category: Optional[str] = typer.Option(None, "--category"),
    limit: int = typer.Option(50, "--limit"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """List incidents, newest first."""
    from rich.table import Table
    from rich.text import Text

    from ..sinks.store import Store

    if category and category not in CATEGORIES:
        err.print(f"unknown category {category!r}; one of {', '.join(CATEGORIES)}")
        raise typer.Exit(2)
    with Store(_db_path(db)) as store:
        items = store.incidents(severity.value if severity else None, category, limit)
    if json_out:
        import json
        sys.stdout.write(json.dumps(items, indent=2) + "\n")
        return
    table = Table()
    for column in ("id", "severity", "categories", "sandbox / run / episode", "findings", "title"):
        table.add_column(column, overflow="fold")
    for inc in items:
        where = " / ".join(str(p) for p in (inc["sandbox"], inc["run"], inc["episode"]) if p)
        table.add_row(inc["id"], inc["severity"], ", ".join(inc["categories"]), Text(where),
                      str(len(inc["finding_ids"])), Text(inc.get("title", "")))
    out.print(table)


@incidents_app.command("show")
def incidents_show(
    incident: str = typer.Argument(..., help="Incident id (a unique prefix is enough)."),
    db: Optional[Path] = typer.Option(None, "--db"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Show one incident: its timeline and the evidence of every finding."""
    from rich.text import Text

    from ..sinks.store import Store

    with Store(_db_path(db)) as store:
        inc = store.incident(incident)
        if inc is None:
            err.print(f"no incident {incident!r}")
            raise typer.Exit(2)
        findings = store.findings(inc["finding_ids"])
        events = store.events([e for f in findings for e in f["event_ids"]])
    if json_out:
        import json
        sys.stdout.write(json.dumps({"incident": inc, "findings": findings, "events": events}, indent=2) + "\n")
        return
    out.print(Text(f"Incident {inc['id']}: {inc.get('title', '')}", style="bold"))
    out.print(Text(f"severity {inc['severity']}; categories {', '.join(inc['categories'])}; "
                   f"sandbox {inc['sandbox']}; run {inc['run']}; episode {inc['episode']}"))
    for f in sorted(findings, key=lambda f: (f["ts"], f.get("step") or 0)):
        ev = f["evidence"]
        out.print(Text(f"\n[step {f.get('step')}] {f['severity']} {f['category']} {f['rule']}: {f['title']}", style="bold"))
        out.print(Text(f"  command: {ev.get('command', '')}"))
        if ev.get("via"):
            out.print(Text(f"  via: {' > '.join(ev['via'])}"))
        out.print(Text(f"  matched: {', '.join(str(m['field']) + '=' + str(m['value']) for m in ev.get('matched', []))}"))
        out.print(Text(f"  source: {ev.get('source')}"))
        out.print(Text("  snippet: " + str(ev.get("snippet", "")).replace("\n", "\n           ")))


@rules_app.command("list")
def rules_list(
    rules: List[Path] = typer.Option([], "--rules"),
    no_builtin: bool = typer.Option(False, "--no-builtin"),
    category: Optional[str] = typer.Option(None, "--category"),
) -> None:
    """List the rules that would run."""
    from rich.table import Table

    ruleset = _load_rules(rules, no_builtin)
    table = Table()
    for column in ("rule", "category", "severity", "ATT&CK", "title"):
        table.add_column(column, overflow="fold")
    for rule in ruleset.rules:
        if category and rule.category != category:
            continue
        table.add_row(rule.id, rule.category, rule.severity, ", ".join(rule.attack), rule.title)
    out.print(table)
    out.print(f"{len(ruleset.rules)} rules")


@rules_app.command("check")
def rules_check(
    rules: List[Path] = typer.Argument(..., help="Rule files or folders to check."),
) -> None:
    """Load rule files and report every problem; exit 1 when there is one."""
    ruleset = load(rules, builtin=True)
    slow = [r.id for r in ruleset.rules if r.needles is None and r.per_command]
    unscoped = [(r.id, sorted({"action", "process"} & set(r.kinds))) for r in ruleset.rules
                if not r.per_command and ("action" in r.kinds or "process" in r.kinds)]
    for problem in ruleset.problems:
        out.print(f"problem: {problem}", markup=False)
    for rule_id in slow:
        out.print(f"warning: rule {rule_id} has no prefilter literals; it runs on every command (add `prefilter:`)",
                  markup=False)
    for rule_id, kinds in unscoped:
        out.print(f"warning: rule {rule_id} reads no command field, so it runs on every {' and '.join(kinds)} "
                  "event, prefilter or not (`cmd.name exists and ...` scopes it to commands)", markup=False)
    for rule in ruleset.rules:
        if rule.prefilter_ignored:
            out.print(f"warning: rule {rule.id}: its `prefilter` is not used, as it does not cover every branch "
                      "of the condition; the literals inferred from the condition are (docs/rules.md#prefilter)",
                      markup=False)
    out.print(f"{len(ruleset.rules)} rules loaded, {len(ruleset.problems)} problems")
    if ruleset.problems:
        raise typer.Exit(1)


@compute_app.command("report")
def compute_report(
    paths: List[Path] = typer.Argument(..., help="Host, GPU and job logs (and transcripts, for attribution)."),
    jobs_policy: Optional[Path] = JOBS_OPTION,
    job_command: List[str] = JOB_COMMAND_OPTION,
    job_pid: List[int] = JOB_PID_OPTION,
    job_cgroup: List[str] = JOB_CGROUP_OPTION,
    json_out: bool = typer.Option(False, "--json"),
    ledger: Optional[Path] = typer.Option(None, "--ledger", help="Sign the accounting into this transparency log."),
) -> None:
    """GPU-seconds per sanctioned job and per process outside every job."""
    from rich.table import Table
    from rich.text import Text

    from ..pipeline import scan as run_scan

    ruleset = load()
    jobs = _jobs(jobs_policy, job_command, job_pid, job_cgroup)
    result = run_scan(paths, ruleset, jobs=jobs)
    report = result.compute
    if ledger is not None:
        from ..sinks.ledger import LedgerSink
        with LedgerSink.open(ledger) as log:
            index = log.add_record("compute_report", report)
            log.checkpoint()
        err.print(f"accounting signed into {ledger} as entry {index}")
    if json_out:
        import json
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
        return
    table = Table(title="GPU accounting")
    for column in ("owner", "GPU-seconds (busy)", "GPU-seconds (held)", "GPUs", "samples"):
        table.add_column(column)
    for job_id, usage in report.get("jobs", {}).items():
        table.add_row(f"job {job_id}", f"{usage['gpu_seconds']:.1f}", f"{usage['held_seconds']:.1f}",
                      ",".join(map(str, usage["gpus"])), str(usage["samples"]))
    for item in report.get("outside_jobs", []):
        table.add_row(Text(f"nobody: pid {item['pid']} on {item['host']} ({' '.join(item['argv'])[:60]})", style="bold red"),
                      f"{item['gpu_seconds']:.1f}", f"{item['held_seconds']:.1f}", ",".join(map(str, item["gpus"])),
                      str(item["samples"]))
    out.print(table)
    out.print(f"GPU-seconds in all: {report.get('gpu_seconds_total', 0):.1f}; outside every job: "
              f"{report.get('gpu_seconds_outside_jobs', 0):.1f}")


export_app = typer.Typer(no_args_is_help=True, help="Export evidence for auditors.")
app.add_typer(export_app, name="export")


@export_app.command("bundle")
def export_bundle_cmd(
    incident: str = typer.Argument(..., help="Incident id (a unique prefix is enough)."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to write the bundle to (must not exist or be empty)."),
    ledger: Path = typer.Option(..., "--ledger", help="The transparency log the scan wrote to."),
    db: Optional[Path] = typer.Option(None, "--db"),
) -> None:
    """Write an offline-verifiable bundle: the incident, every event and finding it rests on, an
    inclusion proof for each against a signed checkpoint, the verifier key, a policy and verify.py."""
    from ..ledger import BundleError, LedgerError, Log, decode_record
    from ..sinks.store import Store

    with Store(_db_path(db)) as store:
        inc = store.incident(incident)
        if inc is None:
            err.print(f"no incident {incident!r}")
            raise typer.Exit(2)
        findings = store.findings(inc["finding_ids"])
        refs = [("finding", f["id"]) for f in findings]
        refs += [("event", e) for f in findings for e in f["event_ids"]]
        refs.append(("incident", inc["id"]))
        indices = [(kind, ident, store.ledger_ref(kind, ident)) for kind, ident in dict.fromkeys(refs)]
    missing = [f"{kind} {ident}" for kind, ident, index in indices if index is None]
    if missing:
        err.print(f"not in the ledger (was the scan run with --ledger {ledger}?): {', '.join(missing[:5])}")
        raise typer.Exit(2)
    try:
        with Log.open(ledger) as log:
            items = []
            for kind, _, index in indices:
                record = decode_record(log.entry(index))["record"]
                items.append((kind, record, index))
            from ..ledger import export_bundle
            path = export_bundle(log, inc, items, output)
    except (LedgerError, BundleError, OSError) as exc:
        err.print(f"cannot export: {exc}")
        raise typer.Exit(2)
    out.print(f"bundle for {inc['id']} written to {path} ({len(items)} entries); "
              f"check it with: python3 {path}/verify.py {path} --vkey {path}/log.vkey")


@app.command("verify")
def verify_bundle_cmd(
    bundle: Path = typer.Argument(..., help="A bundle folder written by `vigiles export bundle`."),
    vkey: str = typer.Option(..., "--vkey", help="The log's verifier key, or a file holding it (obtained independently)."),
) -> None:
    """Check an incident bundle offline: signatures, inclusion proofs, and that the records match."""
    from ..ledger import verify_bundle

    key = Path(vkey).read_text().strip() if Path(vkey).is_file() else vkey
    if not bundle.is_dir():
        err.print(f"not a bundle folder: {bundle}")
        raise typer.Exit(2)
    problems = verify_bundle(bundle, key)
    if problems:
        for problem in problems:
            out.print(f"FAIL: {problem}", markup=False)
        raise typer.Exit(1)
    out.print(f"OK: {bundle} verifies against {key.split('+')[0]}", markup=False)


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


def _mount_optional() -> None:
    try:
        from .ledger import app as ledger_app
        app.add_typer(ledger_app, name="ledger", help="The signed transparency log.")
    except ImportError:
        pass
    try:
        from .ledger import witness_app
        app.add_typer(witness_app, name="witness", help="Run or talk to a transparency-log witness.")
    except ImportError:
        pass
    for module in ("service", "live"):
        # Commands whose dependencies are optional extras (the service needs FastAPI) register
        # themselves; without the extra, the rest of the command line still works.
        try:
            register = __import__(f"vigiles.cli.{module}", fromlist=["register"]).register
        except (ImportError, AttributeError):
            continue  # no extra installed, or that module is the one importing us (it registers itself)
        register(app)


if __name__ != "__main__":
    _mount_optional()


def main() -> None:
    app()


if __name__ == "__main__":
    # Run through the importable module, so that command groups importing it see one copy.
    from vigiles.cli.main import main as _main
    _main()
