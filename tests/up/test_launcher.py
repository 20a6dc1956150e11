"""The supervisor behind `make up`: a child that dies or never comes up is named with its last log lines;
a server answering on the port is only taken for ours when it echoes our instance token."""
from __future__ import annotations

import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from orchestrator.launcher import (
    ChildFailed,
    ChildSpec,
    PortBusy,
    Supervisor,
    log_says,
    port_in_use,
    server_answers,
)


@pytest.fixture
def supervisor():
    said: list[str] = []
    sup = Supervisor(say=said.append)
    sup.said = said
    yield sup
    sup.stop()


def python_child(tmp_path, name: str, code: str, ready, timeout: float = 60) -> ChildSpec:
    return ChildSpec(name=name, argv=[sys.executable, "-c", code], log_path=tmp_path / f"{name}.log",
                     ready=ready, start_timeout=timeout)


def test_a_child_that_exits_while_starting_is_named_with_its_last_lines(tmp_path, supervisor):
    code = "import sys\nprint('loading settings')\nprint('ImproperlyConfigured: no broker', flush=True)\nsys.exit(3)"
    with pytest.raises(ChildFailed) as failure:
        supervisor.start(python_child(tmp_path, "worker", code, log_says("never printed")))
    message = str(failure.value)
    assert "the worker exited with code 3" in message
    assert "ImproperlyConfigured: no broker" in message and str(tmp_path / "worker.log") in message


def test_a_child_that_never_gets_ready_is_reported(tmp_path, supervisor):
    code = "import time\nprint('still thinking', flush=True)\ntime.sleep(600)"
    with pytest.raises(ChildFailed, match="the server did not come up within 2 s") as failure:
        supervisor.start(python_child(tmp_path, "server", code, log_says("never printed"), timeout=2))
    assert "still thinking" in str(failure.value)


def test_a_child_that_dies_after_starting_stops_the_watch(tmp_path, supervisor):
    code = "import sys, time\nprint('ready', flush=True)\ntime.sleep(0.5)\nprint('worker lost', flush=True)\nsys.exit(7)"
    supervisor.start(python_child(tmp_path, "worker", code, log_says("ready")))
    with pytest.raises(ChildFailed, match="the worker exited with code 7") as failure:
        supervisor.watch()
    assert "worker lost" in str(failure.value)


def test_log_of_an_earlier_start_is_not_mistaken_for_this_one(tmp_path, supervisor):
    (tmp_path / "worker.log").write_text("ready\n")  # what the previous run wrote
    code = "import sys\nsys.exit(1)"
    with pytest.raises(ChildFailed, match="exited with code 1"):
        supervisor.start(python_child(tmp_path, "worker", code, log_says("ready")))


class Answering:
    """A small HTTP server on a free loopback port that answers every GET with `status` and `body`."""

    def __init__(self, status: int, body: bytes) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def check(tmp_path, answering: Answering, instance: str) -> bool:
    log = tmp_path / "server.log"
    log.write_text("")
    child = type("FakeChild", (), {"log_text": lambda self: log.read_text()})()
    ready = server_answers(f"http://127.0.0.1:{answering.port}/healthz", instance, "127.0.0.1", answering.port)
    return ready(child)


@pytest.mark.parametrize("status, body", [(501, b"Unsupported method"), (200, b'{"status": "ok", "instance": "theirs"}'),
                                          (200, b"<html>another app</html>")])
def test_another_program_on_the_port_is_not_taken_for_our_server(tmp_path, status, body):
    answering = Answering(status, body)
    try:
        with pytest.raises(PortBusy, match=f"Port {answering.port} on 127.0.0.1 is already in use"):
            check(tmp_path, answering, "ours")
    finally:
        answering.close()


def test_our_server_is_recognised_by_its_instance_token(tmp_path):
    answering = Answering(200, json.dumps({"status": "ok", "instance": "ours"}).encode())
    try:
        assert check(tmp_path, answering, "ours") is True
    finally:
        answering.close()


def test_our_server_without_its_database_is_not_ready_yet(tmp_path):
    answering = Answering(503, json.dumps({"status": "database unavailable", "instance": "ours"}).encode())
    try:
        assert check(tmp_path, answering, "ours") is False
    finally:
        answering.close()


def test_port_in_use_sees_a_listening_socket():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert port_in_use("127.0.0.1", port)
    assert not port_in_use("127.0.0.1", port)
