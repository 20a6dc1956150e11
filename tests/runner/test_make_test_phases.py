"""`make test` (tests/run.py): a phase that collects nothing fails, and the PostgreSQL-only
tests the SQLite phase deselects are recorded so the closing lines count and name them."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import run as make_test

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(make_test, "RESULTS", tmp_path)
    return tmp_path


def test_a_phase_that_collects_no_tests_fails(results, tmp_path, capsys):
    empty = tmp_path / "no_tests_here"
    empty.mkdir()
    rc = make_test.run_phase("empty", [str(empty)], {}, [])
    assert rc != 0
    assert "phase empty collected no tests" in capsys.readouterr().err


def test_deselected_postgres_tests_are_recorded_by_name(results, tmp_path):
    module = tmp_path / "test_marked.py"
    module.write_text(textwrap.dedent("""
        import pytest

        @pytest.mark.postgres
        def test_needs_postgres():
            pass

        def test_runs_anywhere():
            pass

        def test_left_out_by_name():
            pass
    """))
    env = {**os.environ, "MAKE_TEST_DESELECTED_FILE": str(results / "phase.deselected")}
    out = subprocess.run([sys.executable, "-m", "pytest", str(module), "-m", "not postgres", "-k", "not by_name",
                          "-p", "tests.deselection_report", "-q", "-p", "no:django", "--rootdir", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    recorded = make_test.read_deselected("phase")
    assert [node.rpartition("::")[2] for node in recorded] == ["test_needs_postgres"]  # not the -k one


def test_closing_lines_name_each_deselected_test_by_module():
    lines = make_test.describe_tests(["tests/a/test_x.py::test_one", "tests/a/test_x.py::test_two",
                                      "tests/b/test_y.py::test_three"])
    assert lines == ["tests/a/test_x.py: test_one, test_two", "tests/b/test_y.py: test_three"]
