"""`make up`'s command on a fresh database and a fresh ORCHESTRATOR_HOME (`manage.py up --exit-after-start`)."""
from __future__ import annotations

import hashlib
import stat

import pytest

from tests.up.helpers import Place, printed_key, run_up

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def first_up(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("up-fresh")
    place = Place(home=tmp / "home", database=tmp / "db.sqlite3")
    result = run_up(place)
    assert result.returncode == 0, f"make up failed:\n{result.stdout}\n{result.stderr}"
    return place, result


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_migrates_and_creates_the_admin_login(first_up):
    place, result = first_up
    assert place.query("SELECT username, is_superuser FROM auth_user") == [("admin", 1)]
    assert "login: admin / admin" in result.stdout


def test_creates_an_admin_key_that_is_stored_only_as_a_hash(first_up):
    place, result = first_up
    key = printed_key(result.stdout)
    stored = place.query("SELECT scope FROM api_apikey WHERE hashed_key = ?", hashlib.sha256(key.encode()).hexdigest())
    assert stored == [("admin",)]


def test_the_server_answered_and_stored_the_demo_runs(first_up):
    place, _ = first_up
    server_log = (place.home / "logs" / "server.log").read_text()
    assert '"GET /healthz" 200' in server_log
    assert '"POST /api/events/" 200' in server_log
    assert place.flow_runs() == [("daily-revenue", "Completed"), ("warehouse-sync", "Failed")]


def test_the_demo_includes_a_failed_task_for_retry(first_up):
    place, _ = first_up
    failed = place.query("SELECT task_name, state_name FROM orchestrator_taskrun WHERE state_type = 'FAILED'")
    assert ("load-rows", "Failed") in failed


def test_the_summary_comes_last_with_the_sdk_install_line(first_up):
    _, result = first_up
    out = result.stdout
    summary = out[out.index("Orchestrator is up: http://127.0.0.1:"):]
    assert "pip install " in summary and "export ORCHESTRATOR_API_URL=http://127.0.0.1:" in summary
    assert "Press Ctrl-C to stop." in summary
    # Children's output goes to log files, not between the user and the summary.
    assert "celery@" not in out and "ready." not in out and "Task run" not in out
    assert "logs: " in out and "/logs/" in out
    assert result.stderr.strip() == ""


def test_children_log_to_files_under_orchestrator_home(first_up):
    place, _ = first_up
    logs = place.home / "logs"
    assert "ready." in (logs / "worker.log").read_text()
    assert "warehouse-sync" in (logs / "demo.log").read_text()


def test_key_file_and_folders_are_private(first_up):
    place, result = first_up
    assert mode(place.home) == 0o700
    assert mode(place.home / "broker") == 0o700
    assert mode(place.home / "logs") == 0o700
    [key_file] = (place.home / "demo-api-keys").glob("*.key")
    assert mode(key_file) == 0o600
    assert key_file.read_text().strip() == printed_key(result.stdout)
