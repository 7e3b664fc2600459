"""Scan results as JSON (a contract, docs/events.md), Markdown (an analyst's report) or a terminal table."""
from __future__ import annotations

import json
from typing import Any

import msgspec

from ..analysis.rules import CATEGORIES, SEVERITY_RANK
from ..pipeline import ScanResult

ALERT_RANK = SEVERITY_RANK["medium"]


def finding_json(f) -> dict[str, Any]:
    return {"id": f.id, "rule": f.rule, "title": f.title, "category": f.category, "severity": f.severity,
            "attack": list(f.attack), "event_ids": list(f.event_ids), "sandbox": f.sandbox, "run": f.run,
            "episode": f.episode, "step": f.step, "ts": f.ts, "alert": SEVERITY_RANK[f.severity] >= ALERT_RANK,
            "evidence": f.evidence}


def incident_json(i) -> dict[str, Any]:
    return {"id": i.id, "severity": i.severity, "categories": list(i.categories), "sandbox": i.sandbox,
            "run": i.run, "episode": i.episode, "first_ts": i.first_ts, "last_ts": i.last_ts,
            "finding_ids": list(i.finding_ids), "title": i.title}


def to_json(result: ScanResult) -> str:
    doc = {
        "findings": [finding_json(f) for f in result.findings],
        "incidents": [incident_json(i) for i in result.incidents],
        "stats": result.stats,
        "compute": result.compute,
        "errors": [{"file": e.file, "line": e.line, "message": e.message} for e in result.errors],
    }
    # msgspec rather than json: a scan of 200k events has tens of thousands of findings to write
    try:
        return msgspec.json.format(msgspec.json.encode(doc), indent=2).decode("utf-8")
    except UnicodeEncodeError:
        # argv read from /proc keeps undecodable bytes as lone surrogates: write them as \\u escapes
        return json.dumps(doc, indent=2, ensure_ascii=True)


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell or inline code: no pipes, no newlines, no backticks."""
    value = str(text if text is not None else "")
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("`", "'").replace("<", "&lt;")


def _ts(value: float) -> str:
    import datetime
    return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def to_markdown(result: ScanResult) -> str:
    by_id = {f.id: f for f in result.findings}
    lines = ["# vigiles scan report", ""]
    stats = result.stats
    lines.append(f"{stats.get('events', 0)} events read, {stats.get('bad_lines', 0)} bad lines, "
                 f"{len(result.findings)} findings, {len(result.incidents)} incidents.")
    lines += ["", "## Behaviours observed", "", "| category | observed | findings | highest severity | rules |",
              "|---|---|---|---|---|"]
    for category in CATEGORIES:
        hits = [f for f in result.findings if f.category == category]
        if hits:
            worst = max((f.severity for f in hits), key=SEVERITY_RANK.__getitem__)
            rules = ", ".join(sorted({f.rule for f in hits}))
            lines.append(f"| {category} | **yes** | {len(hits)} | {worst} | {_md(rules)} |")
        else:
            lines.append(f"| {category} | no | 0 | | |")
    for inc in result.incidents:
        lines += ["", f"## Incident {inc.id}: {_md(inc.title)}", "",
                  f"- severity: **{inc.severity}**; categories: {', '.join(inc.categories)}",
                  f"- sandbox: {_md(inc.sandbox)}; run: {_md(inc.run)}; episode: {_md(inc.episode)}",
                  f"- from {_ts(inc.first_ts)} to {_ts(inc.last_ts)} UTC", "",
                  "| step | time (UTC) | severity | category | rule | command | source |", "|---|---|---|---|---|---|---|"]
        for fid in inc.finding_ids:
            f = by_id.get(fid)
            if f is None:
                continue
            ev = f.evidence
            lines.append(f"| {f.step if f.step is not None else ''} | {_ts(f.ts)} | {f.severity} | {f.category} | "
                         f"{_md(f.rule)} | `{_md(ev.get('command') or ev.get('snippet', ''))[:200]}` | "
                         f"{_md(ev.get('source'))} |")
    if result.errors:
        lines += ["", "## Input problems", ""]
        lines += [f"- {_md(e)}" for e in result.errors[:50]]
    return "\n".join(lines) + "\n"


def print_table(result: ScanResult, console) -> None:
    from rich.table import Table
    from rich.text import Text

    if result.incidents:
        table = Table(title="Incidents", show_lines=False)
        for column in ("incident", "severity", "categories", "sandbox / run / episode", "findings"):
            table.add_column(column)
        for inc in result.incidents:
            where = " / ".join(str(p) for p in (inc.sandbox, inc.run, inc.episode) if p)
            table.add_row(inc.id, inc.severity, ", ".join(inc.categories), Text(where), str(len(inc.finding_ids)))
        console.print(table)
    if result.findings:
        table = Table(title="Findings")
        for column in ("step", "severity", "category", "rule", "command", "source"):
            table.add_column(column, overflow="fold")
        for f in sorted(result.findings, key=lambda f: (f.ts, f.step or 0)):
            ev = f.evidence
            table.add_row(str(f.step if f.step is not None else ""), f.severity, f.category, f.rule,
                          Text(str(ev.get("command") or ev.get("snippet", ""))[:160]), Text(str(ev.get("source") or "")))
        console.print(table)
    else:
        console.print("No findings.")
    s = result.stats
    console.print(f"{s.get('events', 0)} events, {s.get('bad_lines', 0)} bad lines, {s.get('bad_files', 0)} bad files, "
                  f"{s.get('findings', 0)} findings, {s.get('incidents', 0)} incidents in {s.get('seconds', 0)} s")
