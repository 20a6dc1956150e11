"""Property: no event, however malformed, makes ingestion raise; each is stored or rejected."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.ingest import ingest_batch
from tests.orchestrator.event_factory import at, flow_run_created, heartbeat, log, new_id, state, task_run_created

pytestmark = pytest.mark.django_db

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats()
    | st.text(max_size=300),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def valid_events() -> list[dict]:
    fr, tr = new_id(), new_id()
    return [
        flow_run_created(fr),
        task_run_created(tr, fr),
        state("task_run", tr, 1, at(1), "RUNNING", flow_run_id=fr),
        state("flow_run", fr, 1, at(1), "FAILED", error={"type": "E", "message": "m", "traceback": "t"}),
        log(2, at(2), "hello", flow_run_id=fr, task_run_id=tr),
        heartbeat("w", 1, at(1)),
    ]


def field_paths(event: dict) -> list[tuple[str, ...]]:
    return [(k,) for k in event]  # every field is top-level (states travel flat)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_field_replaced_by_any_json_value_is_stored_or_rejected(data):
    event = data.draw(st.sampled_from(valid_events()), label="event")
    path = data.draw(st.sampled_from(field_paths(event)), label="field")
    target = event
    for key in path[:-1]:
        target = target[key]
    if data.draw(st.booleans(), label="delete"):
        del target[path[-1]]
    else:
        target[path[-1]] = data.draw(json_values, label="value")
    result = ingest_batch([event])
    assert result.accepted + result.duplicates + len(result.rejected) == 1
    for rejection in result.rejected:
        assert rejection["error"].startswith(("`", "an event must be"))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(json_values, max_size=5))
def test_arbitrary_json_values_as_events_are_rejected_not_raised(events):
    result = ingest_batch(events)
    assert len(result.rejected) == len(events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_in_names_and_messages_is_stored(text):
    fr = new_id()
    result = ingest_batch([flow_run_created(fr, name=text[:255], tags=[text[:255]]), log(1, at(1), text, flow_run_id=fr)])
    assert result.accepted == 2
