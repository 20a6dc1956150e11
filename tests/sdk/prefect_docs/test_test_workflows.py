"""Prefect's "test workflows" page (how-to-guides/workflows/test-workflows): the test harness,
`.fn()`, `disable_run_logger()` and capturing run logs with caplog."""
from __future__ import annotations

import logging
import os

import pytest

from sdk import flow, get_run_logger, task
from sdk.events import get_sink
from sdk.exceptions import MissingContextError
from sdk.logging import disable_run_logger
from sdk.testing.utilities import prefect_test_harness


@task
def my_favorite_task():
    return 42


@flow
def my_favorite_flow():
    return my_favorite_task()


def test_the_harness_runs_a_flow():
    with prefect_test_harness():
        assert my_favorite_flow() == 42


def test_the_harness_isolates_home_and_events_and_restores_them():
    home_before, sink_before = os.environ["ORCHESTRATOR_HOME"], get_sink()
    with prefect_test_harness(server_startup_timeout=60) as events:
        assert os.environ["ORCHESTRATOR_HOME"] != home_before
        assert "ORCHESTRATOR_API_URL" not in os.environ
        my_favorite_flow()
        assert [e["flow_name"] for e in events.of_type("flow_run.created")] == ["my-favorite-flow"]
    assert os.environ["ORCHESTRATOR_HOME"] == home_before
    assert get_sink() is sink_before


@pytest.fixture
def harness():
    with prefect_test_harness():
        yield


def test_the_harness_as_a_fixture(harness):
    assert my_favorite_flow() == 42


def test_fn_calls_the_function_without_the_engine(sink):
    assert my_favorite_task.fn() == 42
    assert sink.events == []


@task
def logging_task():
    get_run_logger().info("hello from the task")
    return 42


def test_fn_with_a_run_logger_needs_disable_run_logger():
    with pytest.raises(MissingContextError):
        logging_task.fn()
    with disable_run_logger():
        assert logging_task.fn() == 42
    with pytest.raises(MissingContextError):  # restored after the block
        logging_task.fn()


@task
def log_message() -> None:
    get_run_logger().info("Logging from task")


@flow
def parent_flow() -> None:
    get_run_logger().info("Logging from flow")
    log_message()


def test_caplog_captures_flow_and_task_log_lines(caplog, harness):
    caplog.set_level(logging.INFO)
    sdk_logger = logging.getLogger("sdk")
    sdk_logger.addHandler(caplog.handler)  # our loggers do not propagate to the root logger
    try:
        parent_flow()
    finally:
        sdk_logger.removeHandler(caplog.handler)
    assert "Logging from flow" in caplog.messages
    assert "Logging from task" in caplog.messages
