"""Every SDK test gets its own in-memory event sink and ORCHESTRATOR_HOME."""
from __future__ import annotations

import pytest

from sdk.events import MemorySink, set_sink


@pytest.fixture(autouse=True)
def sink(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "orchestrator-home"))
    monkeypatch.delenv("ORCHESTRATOR_API_URL", raising=False)
    memory = MemorySink()
    old = set_sink(memory)
    yield memory
    set_sink(old)


def run_events(sink: MemorySink, run_id: str) -> list[dict]:
    """Every event about one run (task run if it is one, else flow run), in seq order."""
    mine = [e for e in sink.events if e.get("task_run_id") == run_id
            or (e.get("flow_run_id") == run_id and e.get("task_run_id") is None)]
    return sorted(mine, key=lambda e: e["seq"])


def state_names(sink: MemorySink, run_id: str) -> list[str]:
    """The run's timeline: the created event's initial state, then each state event's."""
    return [e["state_name"] for e in run_events(sink, run_id) if "state_name" in e]


def created(sink: MemorySink, kind: str, name: str | None = None) -> list[dict]:
    """`*.created` events of `kind` ("task_run" or "flow_run"), optionally for one task/flow name."""
    key = "task_name" if kind == "task_run" else "flow_name"
    return [e for e in sink.of_type(f"{kind}.created") if name is None or e[key] == name]
