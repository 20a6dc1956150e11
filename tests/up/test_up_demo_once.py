"""`make up` loads the demo once per database; `manage.py up --demo` adds more runs."""
from __future__ import annotations

import pytest

from tests.up.helpers import Place, printed_key, run_up

pytestmark = pytest.mark.slow

DEMO_RUNS = [("daily-revenue", "Completed"), ("warehouse-sync", "Failed")]


def test_restart_keeps_the_demo_runs_the_key_and_the_password(tmp_path):
    place = Place(home=tmp_path / "home", database=tmp_path / "db.sqlite3")
    first = run_up(place, "--no-worker")
    assert first.returncode == 0, first.stdout + first.stderr
    assert place.flow_runs() == DEMO_RUNS

    again = run_up(place, "--no-worker")
    assert again.returncode == 0, again.stdout + again.stderr
    assert place.flow_runs() == DEMO_RUNS  # not loaded a second time
    assert "demo: already loaded in this database" in again.stdout and "manage.py up --demo" in again.stdout
    assert printed_key(again.stdout) == printed_key(first.stdout)
    assert "login: admin / (your existing password)" in again.stdout

    more = run_up(place, "--no-worker", "--demo")
    assert more.returncode == 0, more.stdout + more.stderr
    assert place.flow_runs() == sorted(DEMO_RUNS * 2)
