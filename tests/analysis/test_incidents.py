from vigiles.analysis.findings import Finding
from vigiles.analysis.incidents import group


def finding(ident, ts, severity="high", category="network_access", sandbox="s", run="r", episode="e"):
    return Finding(id=ident, rule="x", title=f"t{ident}", category=category, severity=severity, attack=[],
                   event_ids=[ident], ts=ts, sandbox=sandbox, run=run, episode=episode)


def test_grouping_by_context_and_window():
    findings = [finding("a", 0), finding("b", 100, "critical", "compute_acquisition"), finding("c", 10_000),
                finding("d", 50, episode="other")]
    incidents = group(findings, window_s=3600)
    assert len(incidents) == 3
    first = next(i for i in incidents if "a" in i.finding_ids)
    assert first.finding_ids == ["a", "b"] and first.severity == "critical"
    assert first.categories == ["network_access", "compute_acquisition"]
    assert (first.first_ts, first.last_ts) == (0, 100)
    assert incidents[0] is first  # most severe first


def test_incident_ids_are_stable():
    ids = [i.id for i in group([finding("a", 0), finding("b", 5)])]
    assert ids == [i.id for i in group([finding("b", 5), finding("a", 0)])]
