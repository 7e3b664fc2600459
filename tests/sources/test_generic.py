import json

from vigiles.events import Action
from vigiles.sources import ReadError, detect, read_paths
from vigiles.sources.base import MAX_LINE_BYTES


def test_reads_events_and_reports_bad_lines_by_number(tmp_path):
    path = tmp_path / "run.jsonl"
    lines = [
        json.dumps({"kind": "action", "ts": 1, "tool": "bash", "input": "ls"}),
        '{"kind": "action", "ts": 2, "tool": "bash", "input": "ls"',  # truncated
        json.dumps({"kind": "action", "ts": 3, "tool": 7}),  # wrong type
        "",
        json.dumps({"kind": "gpu", "ts": 4, "gpu": 0}),
    ]
    path.write_text("\n".join(lines) + "\n")
    items = list(read_paths([path]))
    events = [i for i in items if not isinstance(i, ReadError)]
    errors = [i for i in items if isinstance(i, ReadError)]
    assert [e.ts for e in events] == [1.0, 4.0]
    assert [(e.line, e.file) for e in errors] == [(2, str(path)), (3, str(path))]
    assert "not valid JSON" in errors[0].message and "tool" in errors[1].message
    assert events[0].source.line == 1 and events[1].source.line == 5


def test_a_huge_line_is_skipped_without_losing_its_neighbours(tmp_path):
    path = tmp_path / "big.jsonl"
    good = json.dumps({"kind": "action", "ts": 1, "tool": "bash", "input": "id"})
    with open(path, "w") as f:
        f.write(good + "\n")
        f.write('{"kind": "action", "ts": 2, "tool": "bash", "input": "' + "A" * (10 * 1024 * 1024) + '"}\n')
        f.write(good.replace('"ts": 1', '"ts": 3') + "\n")
    items = list(read_paths([path]))
    assert [i.ts for i in items if isinstance(i, Action)] == [1.0, 3.0]
    (error,) = [i for i in items if isinstance(i, ReadError)]
    assert error.line == 2 and str(MAX_LINE_BYTES) in error.message


def test_garbage_empty_and_missing_files_are_reported(tmp_path):
    (tmp_path / "garbage.bin").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "empty.jsonl").write_text("")
    items = list(read_paths([tmp_path, tmp_path / "missing.jsonl"]))
    messages = {i.file.rsplit("/", 1)[-1]: i.message for i in items}
    assert "not recognised" in messages["garbage.bin"]
    assert messages["empty.jsonl"] == "empty file"
    assert messages["missing.jsonl"] == "no such file or folder"


def test_generic_format_is_detected_by_content_not_name(tmp_path):
    path = tmp_path / "no-extension"
    path.write_text(json.dumps({"kind": "file", "ts": 1, "path": "/etc/crontab", "op": "write"}) + "\n")
    assert detect(path).name == "generic"


def test_invalid_utf8_is_a_bad_line_not_a_crash(tmp_path):
    path = tmp_path / "bad-utf8.jsonl"
    good = json.dumps({"kind": "action", "ts": 1, "tool": "bash", "input": "id"}).encode()
    path.write_bytes(b'{"kind":"action","ts":1,"tool":"b\xffash"}\n' + good + b"\n")
    items = list(read_paths([path]))
    assert [type(i).__name__ for i in items] == ["ReadError", "Action"]
    assert items[0].line == 1 and "not valid JSON" in items[0].message
