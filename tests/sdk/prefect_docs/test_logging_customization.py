"""Prefect's logging customization page (advanced/logging-customization): standard logging
configuration applies, and run records carry Prefect's formatter variables (`flow_run_id`,
`flow_run_name`, `flow_name`, `task_run_id`, `task_run_name`, `task_name`)."""
from __future__ import annotations

import logging

from sdk import flow, task
from sdk.logging import get_run_logger


class Capture(logging.Handler):
    def __init__(self, fmt: str) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(fmt))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_flow_and_task_records_carry_prefects_formatter_variables():
    flow_lines = Capture("%(flow_run_id)s|%(flow_run_name)s|%(flow_name)s - %(message)s")
    task_lines = Capture("%(task_run_id)s|%(task_run_name)s|%(task_name)s|%(flow_run_name)s - %(message)s")
    logging.getLogger("sdk.flow_runs").addHandler(flow_lines)
    logging.getLogger("sdk.task_runs").addHandler(task_lines)

    @task
    def child():
        get_run_logger().info("from the task")
        return 1

    @flow(flow_run_name="custom-run")
    def parent():
        get_run_logger().info("from the flow")
        state = child(return_state=True)
        return state.task_run_id, state.flow_run_id

    try:
        task_run_id, flow_run_id = parent()
    finally:
        logging.getLogger("sdk.flow_runs").removeHandler(flow_lines)
        logging.getLogger("sdk.task_runs").removeHandler(task_lines)
    assert f"{flow_run_id}|custom-run|parent - from the flow" in flow_lines.lines
    assert any(line.startswith(f"{task_run_id}|child-") and line.endswith("|child|custom-run - from the task")
               for line in task_lines.lines)


def test_the_level_is_set_with_standard_logging(sink):
    @flow
    def chatty():
        get_run_logger().info("info line")
        get_run_logger().warning("warning line")

    logger = logging.getLogger("sdk.flow_runs")
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        chatty()
    finally:
        logger.setLevel(before)
    messages = [e["message"] for e in sink.of_type("log")]
    assert "warning line" in messages and "info line" not in messages
