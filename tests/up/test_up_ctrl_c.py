"""Ctrl-C stops `make up`: the first says what it waits for, the second stops the children at once, quietly."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from tests.shipping.live_server import free_port, wait_until
from tests.up.helpers import ROOT, Place
from tests.up.output import Lines, children_of, gone

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def start_in_terminal(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Like a shell would: its own process group, which a terminal's Ctrl-C signals as a whole."""
    return subprocess.Popen(
        argv, cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )


def ctrl_c(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGINT)


@pytest.mark.slow
def test_make_up_stops_on_ctrl_c_twice_without_a_traceback(tmp_path):
    place = Place(home=tmp_path / "home", database=tmp_path / "db.sqlite3")
    up = start_in_terminal(
        [sys.executable, "manage.py", "up", "--no-demo", "--port", str(free_port())], place.env()
    )
    output = Lines(up)
    try:
        output.wait_for("Press Ctrl-C to stop.", timeout=240)
        children = children_of(up.pid)
        assert len(children) == 2  # the server and the worker
        ctrl_c(up)
        line = output.wait_for("Stopping: waiting for", timeout=30)
        assert "the worker to finish its running task" in line and "Ctrl-C again to stop at once" in line
        ctrl_c(up)
        assert up.wait(timeout=60) == 0
        text = output.rest(timeout=10)
        assert "Traceback" not in text and "KeyboardInterrupt" not in text
        assert "Stopped" in text
        wait_until(lambda: all(gone(pid) for pid in children), 30, message="the children to exit")
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait(10)


STUBBORN_DRIVER = textwrap.dedent("""
    import sys
    from pathlib import Path
    from orchestrator.launcher import ChildSpec, Supervisor, log_says

    code = "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\\nprint('ready', flush=True)\\ntime.sleep(600)"
    supervisor = Supervisor(say=lambda text: print(text, flush=True))
    supervisor.start(ChildSpec("worker", [sys.executable, "-c", code], Path(sys.argv[1]), ready=log_says("ready"),
                               stopping_note="to finish its running task", stop_timeout=300))
    try:
        print("child", supervisor.children[0].process.pid, flush=True)
        supervisor.watch()
    except KeyboardInterrupt:
        supervisor.stop()
""")


def test_second_ctrl_c_kills_a_child_that_is_still_stopping(tmp_path):
    driver = start_in_terminal([sys.executable, "-c", STUBBORN_DRIVER, str(tmp_path / "worker.log")], dict(os.environ))
    output = Lines(driver)
    try:
        child = int(output.wait_for("child ", timeout=60).split()[1])
        ctrl_c(driver)
        line = output.wait_for("Stopping: waiting for", timeout=30)
        assert "the worker to finish its running task (Ctrl-C again to stop at once)" in line
        assert not gone(child) and driver.poll() is None  # the first Ctrl-C waits for it
        ctrl_c(driver)
        assert driver.wait(timeout=30) == 0
        text = output.rest(timeout=10)
        assert "Stopped at once." in text and "Traceback" not in text
        assert gone(child)
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(10)


def test_sigterm_stops_make_up_like_a_first_ctrl_c(tmp_path):
    place = Place(home=tmp_path / "home", database=tmp_path / "db.sqlite3")
    up = start_in_terminal(
        [sys.executable, "manage.py", "up", "--no-demo", "--no-worker", "--port", str(free_port())], place.env()
    )
    output = Lines(up)
    try:
        output.wait_for("Press Ctrl-C to stop.", timeout=240)
        [server] = children_of(up.pid)
        up.terminate()
        output.wait_for("Stopping: waiting for the server to close its connections", timeout=30)
        assert up.wait(timeout=60) == 0
        assert "Traceback" not in output.rest(timeout=10)
        wait_until(lambda: gone(server), 30, message="the server to exit")
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait(10)
