"""Workloads and small doubles for the shipping tests."""
from __future__ import annotations

import json
import logging
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sdk.shipping import ShippingSink
from sdk.shipping.spool import read_records


def spooled_events(directory: Path) -> list[dict]:
    """Every event in a spool directory, file by file (oldest first); [] when there is none."""
    if not directory.exists():
        return []
    found: list[dict] = []
    for name in sorted(directory.iterdir()):
        with open(name, "rb") as f:
            found += [event for event, _ in read_records(f)]
    return found


def now() -> str:
    return datetime.now(timezone.utc).isoformat()


def log_event(message: str = "hello", event_id: str | None = None, **fields) -> dict:
    return {"id": event_id or str(uuid.uuid4()), "type": "log", "occurred": now(), "seq": 1,
            "flow_run_id": None, "task_run_id": None, "level": 20, "logger": "test", "message": message, **fields}


PENDING = {"state_type": "PENDING", "state_name": "Pending", "state_message": None}  # created events carry it


def state(run_key: str, run_id: str, seq: int, type_: str, name: str, flow_run_id: str | None = None) -> dict:
    ts = now()
    event = {"id": str(uuid.uuid4()), "type": f"{run_key}.state", "occurred": ts, "seq": seq,
             f"{run_key}_id": run_id, "run_count": 1 if type_ != "PENDING" else 0,
             "state_type": type_, "state_name": name, "state_message": None}
    if run_key == "task_run":
        event["flow_run_id"] = flow_run_id
    return event


def synthetic_task(flow_run_id: str, i: int) -> list[dict]:
    """What the engine emits for one trivial task run: created (with Pending), 2 states, one log line."""
    task_run_id = str(uuid.uuid4())
    return [
        {"id": str(uuid.uuid4()), "type": "task_run.created", "occurred": now(), "seq": 0,
         "task_run_id": task_run_id, "flow_run_id": flow_run_id, "task_key": "add-0123abcd", "task_name": "add",
         "name": f"add-{i:03x}", "parameters": {"i": i}, "tags": [], "parent_task_run_id": None,
         "upstream_task_run_ids": [], **PENDING},
        state("task_run", task_run_id, 1, "RUNNING", "Running", flow_run_id),
        log_event(f"task {i}", flow_run_id=flow_run_id, task_run_id=task_run_id, seq=2),
        state("task_run", task_run_id, 3, "COMPLETED", "Completed", flow_run_id),
    ]


def synthetic_flow(n_tasks: int):
    """Yield the events of a flow run of `n_tasks` trivial tasks, in engine order."""
    flow_run_id = str(uuid.uuid4())
    yield {"id": str(uuid.uuid4()), "type": "flow_run.created", "occurred": now(), "seq": 0,
           "flow_run_id": flow_run_id, "flow_name": "synthetic", "name": "brave-otter", "parameters": {},
           "tags": [], "parent_task_run_id": None, "parent_flow_run_id": None, "version": None, **PENDING}
    yield state("flow_run", flow_run_id, 1, "RUNNING", "Running")
    for i in range(n_tasks):
        yield from synthetic_task(flow_run_id, i)
    yield state("flow_run", flow_run_id, 2, "COMPLETED", "Completed")


class RecordingSink:
    """Passes events to a real sink and keeps a copy: what the SDK emitted is what must arrive."""

    def __init__(self, sink: ShippingSink) -> None:
        self.sink = sink
        self.events: list[dict] = []
        self._lock = threading.Lock()

    def emit(self, event: dict) -> None:
        with self._lock:
            self.events.append(event)
        self.sink.emit(event)

    def flush(self, timeout: float | None = None) -> bool:
        return self.sink.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        self.sink.close(timeout)


class LogRecords(logging.Handler):
    """Collects what an SDK logger says (the `sdk` logger does not propagate to pytest's)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    @property
    def warnings(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= logging.WARNING]

    @property
    def text(self) -> str:
        return "\n".join(r.getMessage() for r in self.records)

    def about(self, words: str) -> list[logging.LogRecord]:
        return [r for r in self.records if words in r.getMessage()]


class StubServer:
    """A tiny HTTP server on a free loopback port for answers the real server never gives.
    Subclasses say how to answer a POST body in `answer(body) -> (status, json_body)`."""

    def __init__(self) -> None:
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, body = outer.answer_request(dict(self.headers), body)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/api"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def answer(self, body: bytes) -> tuple[int, dict]:
        raise NotImplementedError

    def answer_request(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        """Override to look at the request's headers too."""
        return self.answer(body)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FailingServer(StubServer):
    """Answers every request with one fixed status (for 5xx cases)."""

    def __init__(self, status: int = 500) -> None:
        self.status = status
        super().__init__()

    def answer(self, body: bytes) -> tuple[int, dict]:
        self.requests += 1
        return self.status, {"error": "internal error"}
