"""One live server for the packaging tests: each test reads back only the flows it ran."""
from __future__ import annotations

import pytest

from tests.shipping.live_server import running_server


@pytest.fixture(scope="package")
def server():
    with running_server() as live:
        yield live


def stored_runs(server, *flow_names: str) -> list[tuple[str, str]]:
    """(flow name, current state name) of the stored flow runs of these flows."""
    names = ", ".join("'" + name.replace("'", "''") + "'" for name in flow_names)
    return sorted(server.db._query(
        "SELECT f.name, r.state_name FROM orchestrator_flowrun r JOIN orchestrator_flow f ON f.id = r.flow_id "
        f"WHERE f.name IN ({names})"
    ))


def task_runs_of(server, flow_name: str) -> int:
    return server.db._query(
        "SELECT COUNT(*) FROM orchestrator_taskrun t JOIN orchestrator_flowrun r ON r.id = t.flow_run_id "
        f"JOIN orchestrator_flow f ON f.id = r.flow_id WHERE f.name = '{flow_name}'"
    )[0][0]
