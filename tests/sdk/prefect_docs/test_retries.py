"""Prefect's retries page (how-to-guides/workflows/retries): flow and task retries, delays as a
number, a list or `exponential_backoff`, a retry condition, and jitter."""
from __future__ import annotations

import pytest

from sdk import flow, task
from sdk.tasks import exponential_backoff
from tests.sdk.conftest import created, state_names


def test_flow_retries_rerun_the_flow(sink):
    attempts = []

    @flow(retries=3, retry_delay_seconds=0)
    def troublesome_workflow():
        attempts.append(1)
        raise Exception("oopsie daisy")

    with pytest.raises(Exception, match="oopsie daisy"):
        troublesome_workflow()
    assert len(attempts) == 4
    run_id = created(sink, "flow_run")[0]["flow_run_id"]
    assert state_names(sink, run_id)[-1] == "Failed"


def test_task_retries_limit_the_rerun_to_the_task(capsys):
    outcomes = iter([RuntimeError("500"), RuntimeError("500"), None])

    @task
    def consistent_task():
        print("I won't rerun even if the task after me fails")

    @task(retries=4, retry_delay_seconds=0)
    def mercurial_task():
        error = next(outcomes)
        if error:
            raise error
        return "ok"

    @flow
    def my_workflow():
        consistent_task()
        return mercurial_task()

    assert my_workflow() == "ok"
    assert capsys.readouterr().out == "I won't rerun even if the task after me fails\n"


def test_delays_as_a_list_and_exponential_backoff():
    @task(retries=4, retry_delay_seconds=[1, 2, 4, 8])
    def melancholic_task():
        raise Exception("We used to see each other so much more often")

    assert melancholic_task.retry_delays == [1, 2, 4, 8]
    assert exponential_backoff(backoff_factor=2)(4) == [2, 4, 8, 16]

    @task(retries=4, retry_delay_seconds=exponential_backoff(backoff_factor=2))
    def backing_off():
        pass

    assert backing_off.retry_delays == [2, 4, 8, 16]


def test_a_retry_condition_decides(sink):
    class NotFound(Exception):
        pass

    calls = []

    def retry_handler(task_obj, task_run, state) -> bool:
        try:
            state.result()
        except NotFound:
            return False
        except Exception:
            return True

    @task(retries=1, retry_delay_seconds=0, retry_condition_fn=retry_handler)
    def api_call_task(missing: bool):
        calls.append(missing)
        raise NotFound() if missing else RuntimeError("flaky")

    api_call_task(True, return_state=True)
    api_call_task(False, return_state=True)
    assert calls == [True, False, False]


def test_jitter_is_accepted_and_bounded():
    @task(retries=3, retry_delay_seconds=exponential_backoff(backoff_factor=5), retry_jitter_factor=3)
    def some_task_with_exponential_backoff_retries():
        return "That's enough failure"

    assert some_task_with_exponential_backoff_retries.retry_jitter_factor == 3
    assert some_task_with_exponential_backoff_retries() == "That's enough failure"
