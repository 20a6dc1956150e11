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


# --- events that would break, falsify or exhaust what others read ---

from datetime import datetime, timedelta, timezone  # noqa: E402

from django.db import connection  # noqa: E402
from django.utils import timezone as django_timezone  # noqa: E402

from orchestrator.event_fields import MAX_JSON_DEPTH, MAX_SEQ, MAX_TAGS  # noqa: E402
from orchestrator.models import CreatedEventConflict, FlowRun, FlowRunState, Log, RunTag, TaskRun, Worker  # noqa: E402
from orchestrator.stored_json import UNREADABLE  # noqa: E402


def nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def iso_from_now(delta: timedelta) -> str:
    return (django_timezone.now() + delta).isoformat()


def test_parameters_nested_past_the_depth_limit_are_rejected_by_index_and_the_rest_stored():
    fr, other = new_id(), new_id()
    result = ingest_batch([flow_run_created(fr, parameters=nested(960)), flow_run_created(other)])
    assert result.accepted == 1
    assert result.rejected == [{"index": 0, "error": f"`parameters`: is nested 960 levels deep; the limit is {MAX_JSON_DEPTH}"}]
    assert not FlowRun.objects.filter(id=fr).exists()
    assert FlowRun.objects.filter(id=other).exists()


def test_parameters_nested_to_the_depth_limit_are_stored():
    fr = new_id()
    assert ingest_batch([flow_run_created(fr, parameters=nested(MAX_JSON_DEPTH))]).accepted == 1


def test_error_and_result_nested_too_deeply_are_rejected():
    fr = new_id()
    deep_error = state("flow_run", fr, 1, at(1), "FAILED", error={"type": "E", "detail": nested(100)})
    deep_result = state("flow_run", fr, 2, at(2), "COMPLETED", result=[nested(100)])
    result = ingest_batch([deep_error, deep_result])
    assert [r["error"].split(":")[0] for r in result.rejected] == ["`error`", "`result`"]


def store_raw_json(table: str, column: str, text: str, row_id) -> None:
    """What a row stored before the depth limit holds (written around ingestion)."""
    cast = "::jsonb" if connection.vendor == "postgresql" else ""
    pk = str(row_id) if connection.vendor == "postgresql" else str(row_id).replace("-", "")
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s{cast} WHERE id = %s", [text, pk])


def test_a_stored_value_too_deep_to_decode_reads_as_unreadable_not_an_error():
    fr = new_id()
    ingest_batch([flow_run_created(fr)])
    store_raw_json("orchestrator_flowrun", "parameters", "[" * 995 + "]" * 995, fr)
    runs = list(FlowRun.objects.all())  # a list holding the row still loads
    assert [run.parameters for run in runs] == [UNREADABLE]
    assert str(runs[0].parameters) == "unreadable"


def test_an_event_dated_far_in_the_future_is_rejected_and_the_real_later_state_becomes_current():
    fr = new_id()
    forged = state("flow_run", fr, MAX_SEQ, "9999-12-31T00:00:00+00:00", "COMPLETED")
    result = ingest_batch([flow_run_created(fr, occurred=iso_from_now(-timedelta(minutes=1))), forged])
    assert [r["index"] for r in result.rejected] == [1]
    assert "later than the server's clock allows" in result.rejected[0]["error"]
    ingest_batch([state("flow_run", fr, 2, iso_from_now(timedelta(seconds=0)), "FAILED")])
    assert FlowRun.objects.get(id=fr).state_type == "FAILED"


def test_an_event_within_the_allowed_clock_skew_is_stored(settings):
    settings.ORCHESTRATOR_MAX_CLOCK_SKEW = timedelta(minutes=2)
    fr = new_id()
    assert ingest_batch([state("flow_run", fr, 1, iso_from_now(timedelta(minutes=1)), "RUNNING")]).accepted == 1
    rejected = ingest_batch([state("flow_run", fr, 2, iso_from_now(timedelta(minutes=3)), "FAILED")]).rejected
    assert len(rejected) == 1


def test_a_seq_past_its_bound_is_rejected():
    fr = new_id()
    result = ingest_batch([state("flow_run", fr, 2**63 - 1, at(1), "COMPLETED")])
    assert result.rejected[0]["error"] == f"`seq`: must be between 0 and {MAX_SEQ}, got {2**63 - 1}"


def test_a_heartbeat_dated_9999_cannot_take_over_a_worker():
    real = heartbeat("w1", 1, iso_from_now(-timedelta(seconds=20)), task_keys=["real-key"])
    forged = {**heartbeat("w1", 2, "9999-01-01T00:00:00+00:00", task_keys=["forged-key"]), "hostname": "evil"}
    assert ingest_batch([real, forged]).accepted == 1
    assert ingest_batch([heartbeat("w1", 3, iso_from_now(timedelta(0)), task_keys=["real-key"])]).accepted == 1
    worker = Worker.objects.get(name="w1")
    assert (worker.hostname, worker.task_keys) == ("host", ["real-key"])


def test_a_created_event_dated_year_1_is_rejected():
    fr = new_id()
    result = ingest_batch([flow_run_created(fr, occurred="0001-01-01T00:00:00+00:00")])
    assert "before 2000-01-01" in result.rejected[0]["error"]
    assert not FlowRun.objects.filter(id=fr).exists()


@pytest.mark.parametrize("make", [
    lambda fr, tr: flow_run_created(fr, parent_flow_run_id=fr),
    lambda fr, tr: flow_run_created(fr, parent_task_run_id=fr),
    lambda fr, tr: task_run_created(tr, fr, parent_task_run_id=tr),
    lambda fr, tr: task_run_created(tr, fr, upstream_task_run_ids=[new_id(), tr]),
    lambda fr, tr: task_run_created(tr, tr),
], ids=["flow-run-own-parent", "flow-run-own-parent-task", "task-run-own-parent", "task-run-own-upstream",
        "task-run-own-flow-run"])
def test_a_run_that_names_itself_as_its_parent_is_rejected(make):
    result = ingest_batch([make(new_id(), new_id())])
    assert "names the run itself" in result.rejected[0]["error"]


def test_a_forged_created_event_that_arrives_first_is_recorded_as_a_conflict_when_the_real_one_comes():
    fr = new_id()
    forged = flow_run_created(fr, name="forged", flow_name="evil-flow")
    real = flow_run_created(fr, name="real", flow_name="etl")
    ingest_batch([forged], stored_by="leaked-key")
    result = ingest_batch([real], stored_by="real-key")
    assert result.accepted == 1
    conflict = CreatedEventConflict.objects.get()
    assert (str(conflict.id), str(conflict.run_id), conflict.run_type) == (real["id"], fr, "flow_run")
    assert (conflict.fields["name"], conflict.fields["flow_name"], conflict.stored_by) == ("real", "etl", "real-key")
    assert FlowRun.objects.get(id=fr).stored_by == "leaked-key"


def test_two_created_events_for_one_run_in_one_batch_record_the_one_not_taken():
    tr, fr = new_id(), new_id()
    ingest_batch([task_run_created(tr, fr, name="a"), task_run_created(tr, fr, name="b")])
    assert CreatedEventConflict.objects.get().fields["name"] in ("a", "b")
    assert TaskRun.objects.get(id=tr).name != CreatedEventConflict.objects.get().fields["name"]


def test_the_same_created_event_sent_again_or_repeated_under_a_new_id_is_no_conflict():
    fr = new_id()
    created = flow_run_created(fr, parameters={"x": [1, 2]}, tags=["t"], version="1")
    ingest_batch([created])
    ingest_batch([created])
    ingest_batch([{**created, "id": new_id()}])
    ingest_batch([{**created, "id": new_id(), "state_type": None} | {}])  # rejected or not, never a conflict
    assert not CreatedEventConflict.objects.exists()


def test_every_stored_row_records_the_key_that_stored_it():
    fr, tr = new_id(), new_id()
    ingest_batch([
        flow_run_created(fr), task_run_created(tr, fr), state("task_run", tr, 1, at(2), "RUNNING", flow_run_id=fr),
        log(2, at(3), "hi", flow_run_id=fr, task_run_id=tr), heartbeat("w9", 1, at(1)),
    ], stored_by="ci-key")
    rows = [FlowRun.objects.get(id=fr), TaskRun.objects.get(id=tr), Log.objects.get(), Worker.objects.get(name="w9"),
            *FlowRunState.objects.all(), *TaskRun.objects.get(id=tr).states.all()]
    assert {row.stored_by for row in rows} == {"ci-key"}


@pytest.mark.parametrize("field, kind, limit", [
    ("tags", "flow_run.created", MAX_TAGS),
    ("upstream_task_run_ids", "task_run.created", 10_000),
    ("task_keys", "worker.heartbeat", 1_000),
    ("flow_names", "worker.heartbeat", 1_000),
])
def test_lists_past_their_limit_are_rejected_before_anything_is_stored(field, kind, limit):
    fr = new_id()
    items = [new_id() for _ in range(limit + 1)]
    event = {"flow_run.created": lambda: flow_run_created(fr, tags=items),
             "task_run.created": lambda: task_run_created(new_id(), fr, upstream_task_run_ids=items),
             "worker.heartbeat": lambda: {**heartbeat("w", 1, at(1)), field: items}}[kind]()
    result = ingest_batch([event])
    assert result.rejected == [{"index": 0, "error": f"`{field}`: has {limit + 1} items; the limit is {limit}"}]
    assert not RunTag.objects.exists()
