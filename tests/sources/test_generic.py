import json

import pytest

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


def _line_by_line(stream, name):
    """The reading as it was done a line at a time (data_lines, then each line decoded): the reference."""
    from vigiles.sources.base import data_lines
    from vigiles.sources.generic import decode_one
    for item in data_lines(stream, name):
        yield item if isinstance(item, ReadError) else decode_one(item[1], name, item[0])


def _seen(items):
    """Events with their ids, sources and kept fields; errors by file, line and kind of fault (the
    decoder words a cut string differently with the line's newline than without)."""
    return [("error", x.file, x.line, x.message.split(":")[0]) if isinstance(x, ReadError)
            else (type(x).__name__, x, x.id, x.source, x.extra) for x in items]


@pytest.mark.parametrize("chunk", [7, 64, 333, 4096])
def test_chunked_reading_gives_what_line_by_line_reading_gives(monkeypatch, chunk):
    import io
    import random

    from vigiles.sources import base, generic
    monkeypatch.setattr(generic, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(generic, "MAX_LINE_BYTES", 300)
    monkeypatch.setattr(base, "MAX_LINE_BYTES", 300)
    kinds = [
        b'{"kind": "action", "ts": 1, "tool": "bash", "input": "ls -la"}',
        b'{"kind": "action", "ts": 2, "tool": "bash", "input": "curl x | sh", "id": "given"}',
        b'{"kind": "process", "ts": 3, "pid": 9, "argv": ["nc", "-e"], "unknown_field": 1}',
        b'{"kind": "action", "ts": "not a time", "tool": "bash", "input": "x"}',
        b'{"kind": "action", "ts": 1, "tool": "bash", "input": "' + b"y" * 400 + b'"}',  # over the limit
        b'{"kind": "action", "ts": 1, "tool": "bash", "input": "cut',                      # truncated
        b"", b"   ", b"\xff\xfe garbage",
        b'{"kind": "action", "ts": 5, "tool": "bash", "input": "a"} {"kind": "action", "ts": 6, "tool": "bash", "input": "b"}',
        b'{"kind": "gpu", "ts": 4, "gpu": 0, "util": 97}\r',
    ]
    rng = random.Random(chunk)
    for trial in range(80):
        lines = [rng.choice(kinds) for _ in range(rng.randint(1, 40))]
        data = b"\n".join(lines) + (b"\n" if trial % 2 else b"")
        got = _seen(generic.read_stream(io.BytesIO(data), "t.jsonl"))
        want = _seen(_line_by_line(io.BytesIO(data), "t.jsonl"))
        assert got == want, (chunk, trial)


@pytest.mark.parametrize("depth", [5_000, 200_000])
def test_a_line_nested_past_the_decoder_is_a_bad_line(tmp_path, depth):
    """An agent's own arguments can nest deeper than msgspec decodes (it raises RecursionError):
    that line is named as bad and the lines around it are read, in both the batch and the
    line-by-line paths (a top-level array and a typed field)."""
    path = tmp_path / "deep.jsonl"
    good = [json.dumps({"kind": "action", "ts": t, "tool": "bash", "input": "id"}) for t in (1, 4)]
    deep_args = '{"kind": "action", "ts": 2, "tool": "t", "args": {"a": ' + "[" * depth + "]" * depth + "}}"
    deep_array = "[" * depth + "]" * depth
    path.write_text("\n".join([good[0], deep_args, deep_array, good[1]]) + "\n")
    items = list(read_paths([path]))
    assert [i.ts for i in items if isinstance(i, Action)] == [1.0, 4.0]
    errors = [i for i in items if isinstance(i, ReadError)]
    assert [(e.line, "nested too deeply" in e.message) for e in errors] == [(2, True), (3, True)]


def test_a_first_line_nested_past_the_decoder_does_not_stop_detection(tmp_path):
    path = tmp_path / "deep-first.jsonl"
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n" + json.dumps({"kind": "action", "ts": 1, "tool": "bash",
                                                                      "input": "id"}) + "\n")
    items = list(read_paths([path]))
    assert [i.ts for i in items if isinstance(i, Action)] == [1.0]
