"""`prefect_test_harness()`: run flows and tasks in a test without touching anything real.

    @pytest.fixture(autouse=True, scope="session")
    def harness():
        with prefect_test_harness():
            yield

Inside the block the SDK uses a fresh temporary ORCHESTRATOR_HOME (so cached
results and the spool start empty), sends nothing to a server, and keeps every
event in a `MemorySink`, which the block yields. Everything is restored after.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from typing import Iterator

from sdk.events import MemorySink, set_sink

__all__ = ["prefect_test_harness"]

_ISOLATED = ("ORCHESTRATOR_HOME", "ORCHESTRATOR_API_URL")


@contextmanager
def prefect_test_harness(server_startup_timeout: int | None = 30) -> Iterator[MemorySink]:
    """An isolated home and an in-memory sink for the block (`server_startup_timeout` is
    accepted for Prefect's signature; there is no server to start)."""
    saved = {name: os.environ.get(name) for name in _ISOLATED}
    home = tempfile.mkdtemp(prefix="sdk-test-harness-")
    os.environ["ORCHESTRATOR_HOME"] = home
    os.environ.pop("ORCHESTRATOR_API_URL", None)
    sink = MemorySink()
    previous = set_sink(sink)
    try:
        yield sink
    finally:
        set_sink(previous)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(home, ignore_errors=True)
