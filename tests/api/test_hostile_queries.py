"""Whatever the query string, every read endpoint answers JSON with a status below 500."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.api.factories import make_flow_run, make_log, make_task_run

PARAMS = {
    "/api/flow-runs/": ["state", "flow", "started_after", "started_before", "tag", "cursor", "page_size"],
    "/api/task-runs/": ["state", "flow_run", "flow", "task_key", "name", "started_after", "started_before", "tag", "cursor"],
    "/api/logs/": ["flow_run", "task_run", "level", "q", "cursor"],
    "/api/workers/": ["all", "cursor"],
    "/api/flow-runs/{flow_run}/task-runs/": ["cursor", "page_size"],
    "/api/task-runs/{task_run}/states/": ["cursor"],
}
VALUES = [
    "", " ", "\x00", "%00", "'; DROP TABLE orchestrator_taskrun; --", "<script>alert(1)</script>", "é💥",
    "x" * 5000, ",,,", "-1", "99999999999999999999999", "1e309", "NaN", "null", "[]", "{}",
    "2026-11-26", "2026-11-26T10:00:00", "0000-00-00T00:00:00Z",
]
ENCODED = [quote(value) for value in VALUES] + ["%FF%FE", "%ED%A0%80"]  # invalid UTF-8, a lone surrogate


@pytest.fixture
def runs(db) -> dict:
    flow_run = make_flow_run()
    task_run = make_task_run(flow_run)
    make_log(flow_run=flow_run, task_run=task_run)
    return {"flow_run": flow_run.id, "task_run": task_run.id}


@pytest.mark.parametrize("path", list(PARAMS))
def test_no_value_of_any_parameter_causes_a_server_error(api, runs, path):
    url = path.format(**runs)
    for name in PARAMS[path]:
        for value in ENCODED:
            response = api.get(f"{url}?{name}={value}")
            assert response.status_code < 500, (name, value)
            assert response["Content-Type"] == "application/json", (name, value)
