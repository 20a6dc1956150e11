"""The demo API key is kept per database: `make up` against another database (or from another clone
sharing ORCHESTRATOR_HOME) never replaces a key printed for the first one."""
from __future__ import annotations

import hashlib

import pytest

from orchestrator.local_setup import demo_key_path
from tests.up.helpers import Place, printed_key, run_up

pytestmark = pytest.mark.slow


def stored(place: Place, key: str) -> bool:
    digest = hashlib.sha256(key.encode()).hexdigest()
    return bool(place.query("SELECT 1 FROM api_apikey WHERE hashed_key = ? AND revoked_at IS NULL", digest))


def test_a_second_database_gets_its_own_key_and_the_first_key_keeps_working(tmp_path):
    home = tmp_path / "home"
    first, second = Place(home, tmp_path / "one.sqlite3"), Place(home, tmp_path / "two.sqlite3")
    one = run_up(first, "--no-worker", "--no-demo")
    two = run_up(second, "--no-worker", "--no-demo")
    assert one.returncode == 0 and two.returncode == 0, one.stdout + one.stderr + two.stdout + two.stderr
    key_one, key_two = printed_key(one.stdout), printed_key(two.stdout)
    assert key_one != key_two
    assert stored(first, key_one) and stored(second, key_two)

    back = run_up(first, "--no-worker", "--no-demo")
    assert back.returncode == 0, back.stdout + back.stderr
    assert printed_key(back.stdout) == key_one  # still the key printed the first time


def test_the_key_file_is_named_for_its_database(tmp_path):
    sqlite = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db.sqlite3")}
    postgres = {"ENGINE": "django.db.backends.postgresql", "NAME": "orch", "USER": "postgres", "HOST": "127.0.0.1",
                "PORT": "5432"}
    assert demo_key_path(tmp_path, sqlite) == demo_key_path(tmp_path, dict(sqlite))
    assert demo_key_path(tmp_path, sqlite) != demo_key_path(tmp_path, {**sqlite, "NAME": str(tmp_path / "other")})
    assert demo_key_path(tmp_path, postgres) != demo_key_path(tmp_path, {**postgres, "NAME": "orch2"})
    assert demo_key_path(tmp_path, postgres) != demo_key_path(tmp_path, {**postgres, "PORT": "5433"})
