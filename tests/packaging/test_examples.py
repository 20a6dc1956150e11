"""What the README shows works as shown: its code example, saved anywhere, reports to a server;
`examples/demo_flow.py` stores a completed run and a failed one, and the failed one succeeds when run again."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.packaging.conftest import stored_runs, task_runs_of

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def readme_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
    assert blocks, "the README shows no Python example"
    return blocks[0]


def run_python(path: Path, server, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ORCHESTRATOR_HOME": str(home / ".orchestrator"),
           "ORCHESTRATOR_API_URL": server.url, "ORCHESTRATOR_API_KEY": server.key}
    result = subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{path} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_readme_example_saved_outside_the_clone_reports_its_runs(tmp_path, server):
    project = tmp_path / "my_project"
    project.mkdir()
    script = project / "pipeline.py"
    # The example ends with the flow call; the flush makes the test wait for the server's acknowledgement.
    script.write_text(readme_example() + "\nimport sdk\nassert sdk.flush(timeout=30)\n")
    result = run_python(script, server, tmp_path, cwd=project)
    assert result.stdout.split() == ["36"]  # print(sum(...)) of add.map([1, 2, 3], 10)
    assert stored_runs(server, "pipeline") == [("pipeline", "Completed")]
    assert task_runs_of(server, "pipeline") == 3
    assert server.db._query("SELECT COUNT(*) FROM orchestrator_log WHERE message = 'submitted 3 tasks'")[0][0] == 1


def test_the_demo_flows_store_a_failure_that_running_again_fixes(tmp_path, server):
    run_python(ROOT / "examples" / "demo_flow.py", server, tmp_path, cwd=tmp_path)
    demo = ("daily-revenue", "warehouse-sync")
    assert stored_runs(server, *demo) == [("daily-revenue", "Completed"), ("warehouse-sync", "Failed")]
    failed = server.db._query("SELECT task_name, state_message FROM orchestrator_taskrun WHERE state_type = 'FAILED'")
    assert {name for name, _ in failed} == {"load-rows", "notify_sales"}
    assert any("press Retry" in message for _, message in failed)

    # What a retry does: the same flow again, in another process; the warehouse is back.
    again = tmp_path / "retry.py"
    again.write_text(textwrap.dedent(f"""
        import sys, sdk
        sys.path.insert(0, {str(ROOT / 'examples')!r})
        from demo_flow import warehouse_sync
        assert warehouse_sync() == 5
        assert sdk.flush(timeout=30)
    """))
    run_python(again, server, tmp_path, cwd=tmp_path)
    assert ("warehouse-sync", "Completed") in stored_runs(server, *demo)
