"""The hand-over between the sensor threads and the consumer (vigiles/sensors/run.py)."""
import threading
import time

from vigiles.events import Process
from vigiles.sensors.run import Sensor


def _event(pid: int) -> Process:
    return Process(ts=1.0, pid=pid, argv=["true"])


def test_get_waits_for_an_event_from_another_thread_and_wakes_at_once():
    sensor = Sensor(net=False, gpu=False)
    timer = threading.Timer(0.05, sensor.emit, args=(_event(1),))
    started = time.monotonic()
    timer.start()
    event = sensor.get(timeout=5)
    assert event is not None and event.pid == 1
    assert time.monotonic() - started < 2  # woken by the emit, not by the timeout
    timer.join()


def test_get_times_out_empty_and_events_come_out_in_order():
    sensor = Sensor(net=False, gpu=False, queue_size=3)
    assert sensor.get(timeout=0.01) is None and sensor.get(timeout=0) is None
    for pid in range(5):
        sensor.emit(_event(pid))
    assert sensor.dropped == 2
    assert sensor.get(timeout=0).pid == 0
    assert [e.pid for e in sensor.drain()] == [1, 2]
    assert sensor.get(timeout=0) is None


def test_the_consumer_pauses_to_gather_events_only_when_the_sensor_does_not_batch(monkeypatch):
    from vigiles.cli import live

    pauses = []
    monkeypatch.setattr(live.time, "sleep", pauses.append)
    handled = []

    class Consumer:
        def handle(self, event):
            handled.append(event.pid)

    for batched, expected in ((False, [live.COALESCE_S]), (True, [])):
        sensor = Sensor(net=False, gpu=False)
        sensor.batched = batched
        sensor.emit(_event(1))
        sensor.emit(_event(2))
        pauses.clear()
        assert live._pump(sensor, Consumer(), timeout=0) is True
        assert pauses == expected
    assert handled == [1, 2, 1, 2]


def test_the_queue_is_bounded_in_bytes_of_argv_too():
    sensor = Sensor(net=False, gpu=False, queue_bytes=1000)
    for pid in range(3):
        sensor.emit(Process(ts=1.0, pid=pid, argv=["x" * 400]))
    assert sensor.dropped == 1 and sensor.queued_bytes == 800
    assert sensor.get(timeout=0).pid == 0 and sensor.queued_bytes == 400
    sensor.emit(Process(ts=1.0, pid=9, argv=["y" * 500]))
    assert [e.pid for e in sensor.drain()] == [1, 9] and sensor.queued_bytes == 0
