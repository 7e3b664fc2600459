"""Events a running sensor lost, reported as findings (vigiles/sensors/heartbeat.py BlindSpots)."""
from vigiles.sensors.heartbeat import BlindSpots


def test_a_loss_is_reported_at_once_then_at_most_once_a_minute_with_what_was_lost_since():
    spots = BlindSpots()
    assert spots.check({"bpf_ring_dropped": 0, "queue_dropped": 0, "lost_exec_details": 3}, now=100.0) == []
    first = spots.check({"bpf_ring_dropped": 40, "queue_dropped": 0}, now=101.0)
    assert [f.rule for f in first] == ["sensor_events_lost"]
    assert first[0].category == "supervision_evasion" and first[0].severity == "medium"
    assert first[0].evidence["lost"] == {"bpf_ring_dropped": 40} and first[0].event_ids == []
    assert spots.check({"bpf_ring_dropped": 90, "queue_dropped": 5}, now=130.0) == []  # within the minute
    later = spots.check({"bpf_ring_dropped": 95, "queue_dropped": 5}, now=162.0)
    assert later[0].evidence["lost"] == {"bpf_ring_dropped": 55, "queue_dropped": 5}
    assert later[0].evidence["since"] == 101.0 and later[0].id != first[0].id
    assert spots.check({"bpf_ring_dropped": 95, "queue_dropped": 5}, now=300.0) == []  # nothing new


def test_programs_that_exit_before_the_connector_reads_them_are_no_overload():
    spots = BlindSpots()
    assert spots.check({"lost_exec_details": 500, "netlink_overruns": 0}, now=1.0) == []
    assert [f.rule for f in spots.check({"lost_exec_details": 500, "netlink_overruns": 2}, now=2.0)] == \
        ["sensor_events_lost"]
