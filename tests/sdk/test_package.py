"""The package surface: public names, import cost, no Django, and what is not available yet."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import sdk
import sdk.events

ROOT = Path(__file__).resolve().parents[2]


def python(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)


def test_public_names_of_the_spec_import():
    from sdk import allow_failure, flow, flush, get_run_logger, opaque, quote, serve, tags, task, unmapped  # noqa: F401
    from sdk.annotations import allow_failure, opaque, quote, unmapped  # noqa: F401,F811
    from sdk.exceptions import FlowRunTimeout, MissingContextError, TaskRunTimeout, UpstreamTaskError  # noqa: F401
    from sdk.futures import TaskRunFuture, as_completed, wait  # noqa: F401
    from sdk.states import State, StateType  # noqa: F401
    from sdk.task_runners import ThreadPoolTaskRunner  # noqa: F401
    from sdk import cache_policies

    assert {"DEFAULT", "INPUTS", "TASK_SOURCE", "FLOW_PARAMETERS", "RUN_ID", "NO_CACHE"} <= set(dir(cache_policies))


class UnacknowledgingSink(sdk.events.NullSink):
    """A sink whose server never acknowledges: flush reports it and the timeout it was given."""

    def __init__(self) -> None:
        self.timeouts: list[float | None] = []

    def flush(self, timeout: float | None = None) -> bool:
        self.timeouts.append(timeout)
        return False


def test_flush_asks_the_active_sink_and_returns_its_answer():
    sink = UnacknowledgingSink()
    old = sdk.events.set_sink(sink)
    try:
        assert sdk.flush is sdk.events.flush
        assert sdk.flush(timeout=1) is False
    finally:
        sdk.events.set_sink(old)
    assert sink.timeouts == [1]


def test_import_sdk_works_without_django():
    out = python("import sys; sys.modules['django'] = None; import sdk\n"
                 "from sdk import flow, task\n"
                 "print(flow(lambda: task(lambda: 41, name='t')() + 1, name='f')())")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "42"


def test_import_sdk_imports_nothing_heavy():
    out = python("import sys, sdk; print(sorted(m for m in ('django', 'httpx', 'pydantic', 'celery', 'asyncio') if m in sys.modules))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_serve_is_not_available_yet():
    with pytest.raises(NotImplementedError, match="not available yet"):
        sdk.serve()


def test_delay_is_not_available_yet():
    with pytest.raises(NotImplementedError, match="not available yet"):
        sdk.task(lambda: 1, name="bg").delay()


def test_python_m_sdk_serve_says_workers_are_not_available_yet():
    out = subprocess.run([sys.executable, "-m", "sdk", "serve", "mod:task"], capture_output=True, text=True,
                         timeout=60, cwd=ROOT)
    assert out.returncode == 1 and "not available yet" in out.stderr
