"""The same round trip and retry on every broker: Redis, RabbitMQ (when it answers), the embedded filesystem transport."""
from __future__ import annotations

import pytest

from tests.workers.conftest import SERVED
from tests.workers.harness import delayed, json_line, require_rabbitmq, require_redis, running_stack


@pytest.fixture(params=["redis", "rabbitmq", "filesystem"])
def broker_url(request) -> str:
    if request.param == "redis":
        return require_redis()
    if request.param == "rabbitmq":
        return require_rabbitmq()
    return "filesystem://"


def test_delay_and_retry_on_each_broker(broker_url):
    with running_stack(broker_url) as stack:
        stack.start_worker(*SERVED)
        out = delayed(stack, """
import json
value = add.delay(20, 22).result(timeout=90)
f = fails_on_first_attempt.delay("broker")
f.wait(90)
print(json.dumps([value, f.task_run_id, f.state.name]))
""", timeout=180)
        value, run_id, state = json_line(out)
        assert (value, state) == (42, "Failed")
        assert stack.admin.post(f"/task-runs/{run_id}/retry/").status_code == 202
        run = stack.wait_for_state(run_id, {"Completed", "Failed", "Crashed"}, timeout=90)
        assert (run["state"]["name"], run["run_count"]) == ("Completed", 2)
