"""`make up` on a port another program holds stops at once, says so, and exits non-zero."""
from __future__ import annotations

import socket

from tests.up.helpers import Place, run_up


def test_busy_port_fails_with_the_port_and_the_fix(tmp_path):
    place = Place(home=tmp_path / "home", database=tmp_path / "db.sqlite3")
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        result = run_up(place, port=port, timeout=120)
    assert result.returncode != 0
    assert f"Port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "PORT=" in result.stderr and "make up" in result.stderr and "--port" in result.stderr
    assert "Orchestrator is up" not in result.stdout
