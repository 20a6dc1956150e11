"""Prefect's "add logging" page (how-to-guides/workflows/add-logging): run loggers from
`sdk.logging`, loggers for a run held by a hook, `get_logger()`, and `log_prints` inherited
by tasks and opted out of."""
from __future__ import annotations

import logging

import pytest

from sdk import flow, task
from sdk.exceptions import MissingContextError
from sdk.logging import get_logger, get_run_logger
from sdk.logging.loggers import flow_run_logger, task_run_logger


def log_messages(sink, **match):
    return [(e["level"], e["message"]) for e in sink.of_type("log")
            if all(e.get(k) == v for k, v in match.items())]


def test_flow_and_task_loggers_send_their_lines_with_the_run(sink):
    @task(name="log-example-task")
    def logger_task():
        logger = get_run_logger()
        logger.info("INFO level log message from a task.")
        logger.debug("DEBUG level log message from a task.")

    @flow(name="log-example-flow")
    def logger_flow():
        logger = get_run_logger()
        logger.info("INFO level log message.")
        logger.debug("DEBUG level log message.")
        logger.error("ERROR level log message.")
        logger.critical("CRITICAL level log message.")
        logger_task()

    logger_flow()
    task_lines = [e for e in sink.of_type("log") if e["task_run_id"] is not None]
    assert [(e["level"], e["message"]) for e in task_lines] == [(20, "INFO level log message from a task.")]
    flow_lines = [(e["level"], e["message"]) for e in sink.of_type("log")
                  if e["task_run_id"] is None and e["logger"] == "sdk.flow_runs" and "state" not in e["message"]]
    assert flow_lines == [(20, "INFO level log message."), (40, "ERROR level log message."),
                          (50, "CRITICAL level log message.")]


def test_get_run_logger_in_a_hook_raises_and_flow_run_logger_works(sink):
    errors = []

    def my_hook(flow_obj, flow_run, state):
        try:
            get_run_logger()
        except MissingContextError as exc:
            errors.append(exc)
        flow_run_logger(flow_run, flow_obj).info("This log appears in the Prefect UI")

    def my_task_hook(task_obj, task_run, state):
        task_run_logger(task_run, task_obj).warning("from the task hook")

    @task(on_completion=[my_task_hook])
    def child():
        return 1

    @flow(on_completion=[my_hook])
    def hooked():
        return child()

    hooked()
    assert len(errors) == 1
    assert [m for _, m in log_messages(sink) if "UI" in m] == ["This log appears in the Prefect UI"]
    (task_line,) = [e for e in sink.of_type("log") if e["message"] == "from the task hook"]
    assert task_line["task_run_id"] is not None and task_line["level"] == 30


def test_get_logger_is_a_plain_logger_that_sends_nothing(sink):
    logger = get_logger("my.module")
    assert isinstance(logger, logging.Logger) and logger.name == "sdk.my.module"

    @flow
    def uses_plain():
        logger.warning("not a run log")

    uses_plain()
    assert not [e for e in sink.of_type("log") if e["message"] == "not a run log"]


def test_log_prints_is_inherited_and_can_be_turned_off(sink, capsys):
    @task
    def inherits():
        print("we're logging print statements from a task")

    @task(log_prints=False)
    def opts_out():
        print("not logging print statements in this task")

    @flow(log_prints=True)
    def my_flow():
        print("we're logging print statements from a flow")
        inherits()
        opts_out()

    my_flow()
    messages = [e["message"] for e in sink.of_type("log")]
    assert "we're logging print statements from a flow" in messages
    assert "we're logging print statements from a task" in messages
    assert "not logging print statements in this task" not in messages
    assert "not logging print statements in this task" in capsys.readouterr().out


def test_get_run_logger_outside_a_run_raises():
    with pytest.raises(MissingContextError):
        get_run_logger()
