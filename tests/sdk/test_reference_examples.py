"""Every example of the Prefect tasks page (../shared/reference/prefect-tasks-concepts.txt),
with `prefect` → `sdk` and `prefect.utilities.annotations` → `sdk.annotations`, run as a
script, prints what the page says."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_script(tmp_path: Path, source: str) -> subprocess.CompletedProcess:
    script = tmp_path / "example.py"
    script.write_text(textwrap.dedent(source))
    env = {k: v for k, v in os.environ.items() if k != "ORCHESTRATOR_API_URL"}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, env=env)


def test_explain_tasks_prints_with_log_prints(tmp_path):
    out = run_script(tmp_path, """
        from sdk import task

        @task(log_prints=True)
        def explain_tasks():
            print("run any python code here!")
            print("but maybe just a little bit")

        if __name__ == "__main__":
            explain_tasks()
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "run any python code here!\nbut maybe just a little bit\n"
    assert "Task run 'explain_tasks-" in out.stderr and "Finished in state Completed()" in out.stderr


def test_calling_a_task_directly_returns_3(tmp_path):
    out = run_script(tmp_path, """
        from sdk import task

        @task
        def add_integers(a: int, b: int) -> int:
            return a + b

        if __name__ == "__main__":
            result = add_integers(1, 2)  # blocks until complete, returns 3
            print(result)
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "3\n"


def test_submitting_a_task_returns_a_future_resolving_to_3(tmp_path):
    out = run_script(tmp_path, """
        from sdk import flow, task

        @task
        def add_integers(a: int, b: int) -> int:
            return a + b

        @flow
        def my_flow():
            future = add_integers.submit(1, 2)  # returns immediately
            # do other work...
            result = future.result()  # blocks until complete, returns 3
            print(result)

        my_flow()
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "3\n"


def test_delay_without_a_server_says_what_to_set(tmp_path):
    # The page's .delay() example needs a server and a task worker; without ORCHESTRATOR_API_URL it says so.
    out = run_script(tmp_path, """
        from sdk import task

        @task
        def send_email(to: str, subject: str):
            # send email...
            pass

        # In a web endpoint handler:
        future = send_email.delay("user@example.com", "Welcome!")  # returns immediately
    """)
    assert out.returncode == 1
    assert "ReportingOff: Background runs need the server: set ORCHESTRATOR_API_URL" in out.stderr


POST_INIT = """
    from dataclasses import dataclass

    from sdk import flow, task
    from sdk.annotations import opaque, quote


    init_count = 0


    @dataclass
    class Pipeline:
        base_rate: float
        adjusted_rate: float = None

        def __post_init__(self):
            global init_count
            init_count += 1
            if self.adjusted_rate is None:
                self.adjusted_rate = self.base_rate * 1.5


    @task
    def get_rate() -> float:
        return 100.0


    @task(log_prints=True)
    def run_pipeline(pipeline: Pipeline):
        print(f"init_count inside task = {init_count}")
        print(f"adjusted_rate = {pipeline.adjusted_rate}")


    @flow(log_prints=True)
    def my_flow():
        rate_future = get_rate.submit()
        pipeline = Pipeline(base_rate=42.0, adjusted_rate=rate_future)
        print(f"init_count before task = {init_count}")
        run_pipeline(WRAP(pipeline))


    my_flow()
"""


def test_post_init_runs_twice_with_default_resolution(tmp_path):
    out = run_script(tmp_path, POST_INIT.replace("WRAP(pipeline)", "pipeline"))
    assert out.returncode == 0, out.stderr
    assert out.stdout == "init_count before task = 1\ninit_count inside task = 2\nadjusted_rate = 100.0\n"


@pytest.mark.parametrize("wrapper", ["quote", "opaque"])
def test_post_init_runs_once_with_quote_or_opaque(tmp_path, wrapper):
    out = run_script(tmp_path, POST_INIT.replace("WRAP", wrapper))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == ["init_count before task = 1", "init_count inside task = 1"]


def test_skip_resolution_with_quote(tmp_path):
    out = run_script(tmp_path, """
        from dataclasses import dataclass

        from sdk import flow, task
        from sdk.annotations import quote


        @dataclass
        class Pipeline:
            base_rate: float
            adjusted_rate: float = 0.0

            def __post_init__(self):
                self.adjusted_rate = self.base_rate * 1.5


        @task(log_prints=True)
        def run_pipeline(pipeline: Pipeline):
            print(f"adjusted_rate = {pipeline.adjusted_rate}")


        @flow(log_prints=True)
        def my_flow():
            pipeline = Pipeline(base_rate=100.0)
            run_pipeline(quote(pipeline))


        my_flow()
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "adjusted_rate = 150.0\n"


def test_resolve_without_traversal_using_opaque(tmp_path):
    out = run_script(tmp_path, """
        from dataclasses import dataclass

        from sdk import flow, task
        from sdk.annotations import opaque


        @dataclass
        class Pipeline:
            base_rate: float
            adjusted_rate: float = 0.0

            def __post_init__(self):
                self.adjusted_rate = self.base_rate * 1.5


        @task
        def build_pipeline(base_rate: float) -> Pipeline:
            return Pipeline(base_rate=base_rate)


        @task(log_prints=True)
        def run_pipeline(pipeline: Pipeline):
            print(f"adjusted_rate = {pipeline.adjusted_rate}")


        @flow
        def my_flow():
            future = build_pipeline.submit(100.0)
            run_pipeline.submit(opaque(future))


        my_flow()
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "adjusted_rate = 150.0\n"
