"""A child of `make up` that dies while starting: `make up` names it, shows its last lines, stops the
others and exits non-zero."""
from __future__ import annotations

from tests.up.helpers import Place, run_up


def test_a_worker_that_cannot_start_is_reported_with_its_last_lines(tmp_path):
    place = Place(home=tmp_path / "home", database=tmp_path / "db.sqlite3",
                  extra_env={"CELERY_BROKER_URL": "no-such-transport://"})
    result = run_up(place, "--no-demo", timeout=180)
    assert result.returncode == 1
    assert "the worker exited with code" in result.stderr
    assert "No such transport" in result.stderr  # its last log lines
    assert str(place.home / "logs" / "worker.log") in result.stderr
    assert "Orchestrator is up" not in result.stdout
    assert "Stopped." in result.stdout  # the server it had started was stopped
