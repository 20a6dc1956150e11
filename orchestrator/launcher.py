"""Start a few long-running child processes, check each came up, watch them, stop them.

`manage.py up` describes its children (the server, the worker) as `ChildSpec`s and hands
them to one `Supervisor`. Children run in their own session, so a Ctrl-C in the terminal
reaches only the supervisor, which decides how they stop: the first Ctrl-C (or SIGTERM)
asks them to stop and says what it waits for, the second kills them at once.
Each child's output goes to its own log file; a child that dies is reported with the
last lines of that file.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

_PR_SET_PDEATHSIG = 1


class ChildFailed(Exception):
    """A child exited, or did not come up; the message says which and shows its last log lines."""


class PortBusy(ChildFailed):
    """Something other than the server we started holds its port."""


@dataclass
class ChildSpec:
    name: str  # how messages call it: "server", "worker"
    argv: list[str]
    log_path: Path
    # Called repeatedly while starting: True once the child serves; may raise ChildFailed.
    ready: Callable[["Child"], bool]
    env: dict[str, str] = field(default_factory=dict)  # added to the supervisor's environment
    cwd: Path | None = None
    stopping_note: str = "to stop"  # "Stopping: waiting for the <name> <stopping_note>"
    start_timeout: float = 90.0
    stop_timeout: float = 30.0  # after this, a child that ignores SIGTERM is killed


@dataclass
class Child:
    spec: ChildSpec
    process: subprocess.Popen
    log_offset: int  # where this start's output begins in the (appended) log file

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        try:
            with open(self.spec.log_path, "rb") as log:
                log.seek(self.log_offset)
                return log.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def last_lines(self, count: int = 15) -> str:
        lines = self.log_text().rstrip().splitlines()[-count:]
        return "\n".join("    " + line for line in lines) or "    (it wrote nothing)"


def _die_with_parent() -> None:
    """In the child before exec: Linux sends SIGTERM when the supervisor dies, even by SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


class Supervisor:
    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.children: list[Child] = []
        self._killed_at_once = False

    def start(self, spec: ChildSpec) -> Child:
        """Start one child and wait until it is ready; raise ChildFailed if it dies or never gets ready."""
        spec.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(spec.log_path, "ab") as log:
            log.write(f"\n===== {spec.name} starting at {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
            log.flush()
            offset = log.tell()
            process = subprocess.Popen(
                spec.argv,
                cwd=spec.cwd,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **spec.env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
            )
        child = Child(spec, process, offset)
        self.children.append(child)
        deadline = time.monotonic() + spec.start_timeout
        while not spec.ready(child):
            self.check_alive(child)
            if time.monotonic() > deadline:
                raise ChildFailed(
                    f"the {spec.name} did not come up within {spec.start_timeout:.0f} s; "
                    f"last lines of {spec.log_path}:\n{child.last_lines()}"
                )
            time.sleep(0.1)
        return child

    def check_alive(self, child: Child) -> None:
        if not child.alive:
            raise ChildFailed(
                f"the {child.spec.name} exited with code {child.process.returncode}; "
                f"last lines of {child.spec.log_path}:\n{child.last_lines()}"
            )

    def watch(self) -> None:
        """Block until a child exits (raise ChildFailed) or the user interrupts (KeyboardInterrupt)."""
        while True:
            for child in self.children:
                self.check_alive(child)
            time.sleep(0.2)

    def stop(self) -> None:
        """Ask every child to stop (SIGTERM) and wait; a second Ctrl-C or SIGTERM kills them at once."""
        signal.signal(signal.SIGINT, self._kill_at_once)
        signal.signal(signal.SIGTERM, self._kill_at_once)
        running = [c for c in self.children if c.alive]
        try:
            if running:
                self._stop(running)
        finally:
            for child in self.children:  # helpers a dead child left behind (a Celery pool process)
                self._signal(child, signal.SIGKILL)

    def _stop(self, running: list[Child]) -> None:
        notes = [f"the {c.spec.name} {c.spec.stopping_note}" for c in running]
        waiting_for = ", ".join(notes[:-1]) + " and " + notes[-1] if len(notes) > 1 else notes[0]
        self.say(f"Stopping: waiting for {waiting_for} (Ctrl-C again to stop at once).")
        for child in running:
            child.process.send_signal(signal.SIGTERM)  # the child stops its own helpers (Celery's pool)
        for child in running:
            deadline = time.monotonic() + child.spec.stop_timeout
            while child.alive and time.monotonic() < deadline:
                time.sleep(0.05)
            if child.alive:
                self.say(f"The {child.spec.name} did not stop within {child.spec.stop_timeout:.0f} s; killing it.")
                self._signal(child, signal.SIGKILL)
                child.process.wait(10)
        self.say("\nStopped at once." if self._killed_at_once else "Stopped.")

    def _kill_at_once(self, signum, frame) -> None:
        self._killed_at_once = True
        for child in self.children:
            if child.alive:
                self._signal(child, signal.SIGKILL)

    @staticmethod
    def _signal(child: Child, signum: int) -> None:
        try:
            os.killpg(child.process.pid, signum)  # the child's whole session: its own helpers too
        except (ProcessLookupError, PermissionError):
            pass


# Readiness checks.

def local_address(host: str) -> str:
    """The address to reach a server bound to `host` from this machine."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "::1"
    return host


def port_in_use(host: str, port: int) -> bool:
    """True when a listening socket holds host:port (binding the way Daphne does would fail)."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False  # the server will report the unknown host itself
    for family, kind, proto, _, address in infos:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError:
                return True
    return False


def busy_port_message(host: str, port: int) -> str:
    return (
        f"Port {port} on {host} is already in use by another program.\n"
        f"Stop that program, or start on another port: PORT={port + 10} make up "
        f"(or: .venv/bin/python manage.py up --port {port + 10})."
    )


def server_answers(
    url: str, instance: str, host: str, port: int, host_header: str | None = None
) -> Callable[[Child], bool]:
    """Ready when `url` (our /healthz) answers with our instance token; PortBusy when another program answers."""
    request = urllib.request.Request(url, headers={"Host": host_header} if host_header else {})

    def ready(child: Child) -> bool:
        if "Address already in use" in child.log_text():
            raise PortBusy(busy_port_message(host, port))
        status = 200
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                body = response.read(4096)
        except urllib.error.HTTPError as error:  # an answer: ours while the database is not reachable yet?
            status, body = error.code, error.read(4096)
        except (OSError, ValueError):
            return False  # not listening yet
        try:
            answered = json.loads(body).get("instance")
        except (ValueError, AttributeError):
            answered = None
        if answered != instance:
            raise PortBusy(busy_port_message(host, port))
        return status == 200

    return ready


def log_says(text: str) -> Callable[[Child], bool]:
    """Ready once the child's log (from this start) contains `text`."""
    return lambda child: text in child.log_text()
