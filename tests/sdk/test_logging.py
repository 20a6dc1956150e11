"""get_run_logger, log_prints (inherited flow → task), and the console lines."""
from __future__ import annotations

import logging
import re

import pytest

from sdk import flow, get_run_logger, task
from sdk.exceptions import MissingContextError

from .conftest import created

LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3} \| (INFO|ERROR|WARNING|DEBUG|CRITICAL) *\| .+ - .+$")


def logs(sink):
    return sink.of_type("log")


def test_get_run_logger_outside_a_run_raises_missing_context_error():
    with pytest.raises(MissingContextError, match="flow or task"):
        get_run_logger()


def test_get_run_logger_in_a_task_ships_a_log_event_for_the_task_run(sink):
    @task
    def talk():
        get_run_logger().warning("careful %s", "now")

    @flow
    def f():
        talk()

    f()
    (run,) = created(sink, "task_run", "talk")
    (event,) = [e for e in logs(sink) if e["message"] == "careful now"]
    assert event["task_run_id"] == run["task_run_id"] and event["flow_run_id"] == run["flow_run_id"]
    assert event["level"] == logging.WARNING and event["logger"] == "sdk.task_runs"


def test_get_run_logger_in_a_flow_ships_a_log_event_for_the_flow_run(sink):
    @flow
    def f():
        get_run_logger().info("hello from flow")

    f()
    (run,) = created(sink, "flow_run", "f")
    (event,) = [e for e in logs(sink) if e["message"] == "hello from flow"]
    assert event["flow_run_id"] == run["flow_run_id"] and event["task_run_id"] is None


def test_run_logger_writes_a_prefect_style_console_line(capsys):
    @flow(flow_run_name="crimson-otter")
    def f():
        get_run_logger().info("hi there")

    f()
    err = capsys.readouterr().err
    assert any(LINE.match(line) and "| Flow run 'crimson-otter' - hi there" in line for line in err.splitlines())


def test_console_shows_flow_run_creation_and_final_state(capsys):
    @flow(flow_run_name="crimson-otter")
    def my_flow():
        return 1

    my_flow()
    lines = capsys.readouterr().err.splitlines()
    assert any(line.endswith("| INFO    | sdk.engine - Created flow run 'crimson-otter' for flow 'my-flow'") for line in lines)
    finished = [line for line in lines if line.endswith("| INFO    | Flow run 'crimson-otter' - Finished in state Completed()")]
    assert finished and LINE.match(finished[0])


def test_console_shows_task_final_state(capsys):
    task(lambda: 1, name="quick", task_run_name="quick-run")()
    assert "| INFO    | Task run 'quick-run' - Finished in state Completed()" in capsys.readouterr().err


def test_failed_task_logs_the_traceback_at_error(capsys):
    def bad():
        raise ValueError("kaput")

    task(bad)(return_state=True)
    err = capsys.readouterr().err
    assert "| ERROR   | Task run 'bad-" in err and "Traceback" in err and "ValueError: kaput" in err


def test_log_prints_on_a_task_makes_a_log_event_and_still_prints(sink, capsys):
    @task(log_prints=True)
    def shout():
        print("loud", 1)

    shout()
    assert capsys.readouterr().out == "loud 1\n"
    (event,) = [e for e in logs(sink) if e["message"] == "loud 1"]
    assert event["level"] == logging.INFO and event["task_run_id"] is not None


def test_log_prints_is_inherited_from_the_flow(sink):
    @task
    def quiet():
        print("from task")

    @flow(log_prints=True)
    def f():
        print("from flow")
        quiet()

    f()
    messages = {e["message"]: e for e in logs(sink)}
    assert messages["from flow"]["task_run_id"] is None
    assert messages["from task"]["task_run_id"] is not None


def test_task_can_turn_off_inherited_log_prints(sink):
    @task(log_prints=False)
    def quiet():
        print("not logged")

    @flow(log_prints=True)
    def f():
        quiet()

    f()
    assert [e for e in logs(sink) if e["message"] == "not logged"] == []


def test_print_without_log_prints_is_not_logged(sink, capsys):
    @task
    def plain():
        print("just stdout")

    plain()
    assert capsys.readouterr().out == "just stdout\n"
    assert logs(sink) == []


def test_print_to_another_file_is_not_logged(sink, capsys):
    import sys

    @task(log_prints=True)
    def to_err():
        print("to stderr", file=sys.stderr)

    to_err()
    assert [e for e in logs(sink) if e["message"] == "to stderr"] == []


def test_logged_prints_do_not_repeat_on_the_console(capsys):
    @task(log_prints=True)
    def shout():
        print("only once")

    shout()
    captured = capsys.readouterr()
    assert captured.out.count("only once") == 1 and "only once" not in captured.err


def test_console_level_follows_the_sdk_logger_level(capsys):
    logger = logging.getLogger("sdk")
    old = logger.level
    logger.setLevel(logging.WARNING)
    try:
        task(lambda: 1, name="hushed")()
    finally:
        logger.setLevel(old)
    assert "hushed" not in capsys.readouterr().err
