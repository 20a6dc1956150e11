"""The SDK is a distribution of its own: its wheel installs into a fresh virtualenv outside the
repository, with httpx as its only dependency, and a flow run there reports to a live server."""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.packaging.conftest import stored_runs, task_runs_of

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def run(*argv, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, f"{' '.join(map(str, argv))} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def outside():
    """A temporary folder outside the repository."""
    folder = Path(tempfile.mkdtemp(prefix="orch-sdk-wheel-"))
    assert ROOT not in folder.parents
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def wheel(outside) -> Path:
    build = outside / "build"
    shutil.copytree(ROOT, build, ignore=shutil.ignore_patterns(".venv", ".git", "*.sqlite3*", "test-results",
                                                                "__pycache__", "build", "*.egg-info", "staticfiles"))
    # A copy, so the in-tree build leaves nothing in the clone.
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", outside / "dist", build)
    [built] = (outside / "dist").glob("orchestrator_sdk-*.whl")
    return built


def test_the_wheel_holds_the_sdk_only(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "sdk/__init__.py" in names and "sdk/flows.py" in names
    assert not [n for n in names if n.split("/")[0] in ("orchestrator", "api", "dashboard", "tests", "examples")]
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    assert len(requires) == 1 and requires[0].startswith("Requires-Dist: httpx")
    assert "\nVersion: " in text


def test_a_flow_in_a_fresh_virtualenv_reports_to_the_server(wheel, outside, server):
    # httpx and its dependencies as wheels (pip's cache answers when they were installed before),
    # so the install below takes nothing from an index: the wheel must declare what it needs.
    wheels = outside / "wheels"
    run(sys.executable, "-m", "pip", "download", "--only-binary=:all:", "-d", wheels, f"httpx=={version('httpx')}")
    venv = outside / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)  # this pip installs into it: faster than ensurepip
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-index", "--find-links", wheels, wheel)

    project = outside / "my_project"
    project.mkdir()
    (project / "etl.py").write_text(textwrap.dedent("""
        import sdk
        from sdk import flow, task

        @task
        def double(x: int) -> int:
            return 2 * x

        @flow(name="installed-from-a-wheel")
        def etl() -> int:
            return sum(double.map([1, 2, 3]).result())

        assert etl() == 12
        assert sdk.flush(timeout=30), "the server did not acknowledge the events"
        print("sdk from", sdk.__file__)
    """))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(outside), "ORCHESTRATOR_HOME": str(outside / "home"),
           "ORCHESTRATOR_API_URL": server.url, "ORCHESTRATOR_API_KEY": server.key}
    result = run(python, project / "etl.py", cwd=project, env=env)
    assert f"sdk from {venv}" in result.stdout  # the installed SDK, not the clone's
    assert stored_runs(server, "installed-from-a-wheel") == [("installed-from-a-wheel", "Completed")]
    assert task_runs_of(server, "installed-from-a-wheel") == 3
