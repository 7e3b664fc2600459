import pytest

from vigiles.events import Action, EventError, Gpu, Job, Network, Process, from_dict


def test_action_keeps_unknown_fields_and_gets_a_stable_id():
    raw = {"kind": "action", "ts": 5, "tool": "bash", "input": "ls", "model": "m-1", "step": 3}
    first, second = from_dict(dict(raw)), from_dict(dict(raw))
    assert isinstance(first, Action)
    assert first.id == second.id and first.id.startswith("ev-")
    assert first.extra == {"model": "m-1"}
    assert first.to_dict()["model"] == "m-1" and first.to_dict()["id"] == first.id


def test_ids_differ_when_content_differs_and_given_ids_are_kept():
    a = from_dict({"kind": "action", "ts": 5, "tool": "bash", "input": "ls"})
    b = from_dict({"kind": "action", "ts": 6, "tool": "bash", "input": "ls"})
    c = from_dict({"kind": "action", "ts": 6, "tool": "bash", "input": "ls", "id": "mine"})
    assert a.id != b.id and c.id == "mine"


@pytest.mark.parametrize("ts, expected", [
    (1700000000, 1700000000.0), ("1700000000.5", 1700000000.5),
    ("2023-11-14T22:13:20Z", 1700000000.0), ("2023-11-14T23:13:20+01:00", 1700000000.0),
])
def test_timestamps(ts, expected):
    assert from_dict({"kind": "gpu", "ts": ts, "gpu": 0}).ts == expected


@pytest.mark.parametrize("raw, message", [
    ({"kind": "action", "ts": 1}, "tool"),
    ({"kind": "action", "ts": 1, "tool": "bash", "input": 5}, "input"),
    ({"kind": "nope", "ts": 1}, "unknown kind"),
    ({"kind": "gpu", "gpu": 0}, "ts"),
    ({"kind": "gpu", "ts": "yesterday", "gpu": 0}, "RFC 3339"),
    ({"kind": "gpu", "ts": "2023-11-14T22:13:20", "gpu": 0}, "time zone"),
    ({"kind": "gpu", "ts": 1, "gpu": 0, "util": 140}, "percentage"),
    ({"kind": "process", "ts": 1, "pid": "x", "argv": ["ls"]}, "pid"),
    ({"kind": "process", "ts": 1, "pid": 3, "argv": "ls -l"}, "argv"),
    ({"kind": "network", "ts": 1, "dport": 22}, "dst"),
    ({"kind": "network", "ts": 1, "dst": "1.2.3.4", "direction": "sideways"}, "direction"),
    ({"kind": "job", "ts": 1, "gpus": [0]}, "id"),
    ({"kind": "file", "ts": 1, "path": "/x", "op": "explode"}, "op"),
    (["not", "an", "object"], "object"),
])
def test_bad_events_are_refused_with_a_reason(raw, message):
    with pytest.raises(EventError, match=message):
        from_dict(raw)


def test_every_kind_builds():
    assert isinstance(from_dict({"kind": "process", "ts": 1, "pid": 3, "ppid": 1, "argv": ["ssh", "-R", "1:a:2", "h"],
                                 "exe": "/usr/bin/ssh", "user": "root"}), Process)
    net = from_dict({"kind": "network", "ts": 1, "proto": "tcp", "src": "10.0.0.2", "sport": 5000,
                     "dst": "185.220.101.47", "dport": 443, "direction": "outbound", "bytes_out": 10})
    assert isinstance(net, Network) and net.dport == 443
    assert isinstance(from_dict({"kind": "gpu", "ts": 1, "gpu": 1, "pid": 9, "util": 99, "mem_mib": 2112}), Gpu)
    job = from_dict({"kind": "job", "ts": 1, "id": "train-7", "host": "n1", "gpus": [0, 1], "pids": [100]})
    assert isinstance(job, Job) and job.id == "train-7" and job.pids == [100]


def test_lone_surrogates_become_text_and_ids_stay_as_they_were():
    from vigiles.events import from_dict
    event = from_dict({"kind": "action", "ts": 1, "tool": "bash", "input": "echo \ud800", "args": {"k\udc80": ["\ud800"]}})
    assert event.input == "echo \\ud800" and event.args == {"k\\udc80": ["\\ud800"]}
    event.input.encode("utf-8")
    plain = from_dict({"kind": "action", "ts": 1, "tool": "bash", "input": "ls"})
    assert plain.id == from_dict({"kind": "action", "ts": 1, "tool": "bash", "input": "ls", "id": ""}).id
    assert plain.id == "ev-f8871c95634fded8d325e393"  # the id these fields always had
