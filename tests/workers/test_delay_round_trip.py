"""`.delay()` on a real Celery worker over Redis: a value, a result that is not JSON, a failure, bad parameters."""
from __future__ import annotations

import pytest

from tests.workers.harness import delayed, json_line

pytestmark = pytest.mark.redis


def test_delay_returns_the_value_and_the_run_is_completed(redis_stack, redis_worker):
    out = delayed(redis_stack, "import json\nf = add.delay(2, 3)\nprint(json.dumps([f.task_run_id, f.result(timeout=60)]))")
    run_id, value = json_line(out)
    assert value == 5
    run = redis_stack.run(run_id)
    assert (run["state"]["name"], run["run_count"], run["parameters"]) == ("Completed", 1, {"a": 2, "b": 3})
    names = [s["name"] for s in redis_stack.states(run_id)]
    assert names[0] == "Scheduled" and names[-2:] == ["Running", "Completed"]


def test_a_result_that_is_not_json_comes_back_through_the_result_store(redis_stack, redis_worker):
    out = delayed(redis_stack, "p = make_point.delay(4).result(timeout=60)\nprint(type(p).__name__, p.x, p.y)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["Point", "4", "-4"]


def test_a_failure_raises_the_tasks_exception_from_result(redis_stack, redis_worker):
    out = delayed(redis_stack, """
f = refuse.delay("no thanks")
try:
    f.result(timeout=60)
except ValueError as exc:
    print("ValueError", exc, f.state.name)
""")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ValueError no thanks Failed"


def test_result_with_raise_on_failure_false_returns_the_exception(redis_stack, redis_worker):
    out = delayed(redis_stack, "e = refuse.delay('x').result(timeout=60, raise_on_failure=False)\nprint(type(e).__name__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ValueError"


def test_parameters_that_are_not_json_are_refused_at_delay(redis_stack):
    out = delayed(redis_stack, """
try:
    add.delay(object(), 1)
except TypeError as exc:
    print(type(exc).__name__, "|", exc)
""")
    assert out.returncode == 0, out.stderr
    name, message = out.stdout.strip().split(" | ", 1)
    assert name == "ParametersNotJSON" and "'a'" in message and "JSON" in message


def test_result_timeout_raises_timeout_error_while_no_worker_serves_the_task(redis_stack):
    out = delayed(redis_stack, """
f = sleepy.delay(1)
try:
    f.result(timeout=0.5)
except TimeoutError:
    print("timeout", f.state.name)
""")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "timeout Scheduled"


def test_many_delayed_runs_are_submitted_in_batches_and_all_complete(redis_stack, redis_worker):
    out = delayed(redis_stack, """
futures = [add.delay(i, i) for i in range(200)]
print(sum(f.result(timeout=120) for f in futures))
""", timeout=240)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(sum(2 * i for i in range(200)))


def test_a_run_the_server_refuses_raises_the_reason_from_result(redis_stack):
    out = delayed(redis_stack, """
import os
os.environ["ORCHESTRATOR_API_KEY"] = "orc_not-a-key"
f = add.delay(1, 2)
try:
    f.result(timeout=60)
except Exception as exc:
    print(type(exc).__name__, exc.status)
""")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "ApiError 401"


def test_runs_delayed_just_before_exit_are_still_submitted(redis_stack, redis_worker):
    out = delayed(redis_stack, "import json\nprint(json.dumps(add.delay(40, 2).task_run_id))")
    run_id = json_line(out)
    assert redis_stack.wait_for_state(run_id, {"Completed"})["state"]["name"] == "Completed"
