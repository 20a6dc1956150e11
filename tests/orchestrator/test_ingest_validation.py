"""Per-event validation: each invalid event is rejected by index with a message naming the field."""
from __future__ import annotations

import pytest

from orchestrator.ingest import ingest_batch
from orchestrator.models import FlowRun, FlowRunState, Log, TaskRun
from tests.orchestrator.event_factory import at, flow_run_created, log, new_id, state, task_run_created

pytestmark = pytest.mark.django_db


def rejection(event) -> str:
    result = ingest_batch([event])
    assert result.accepted == 0
    assert [r["index"] for r in result.rejected] == [0]
    return result.rejected[0]["error"]


def without(event: dict, *fields: str) -> dict:
    return {k: v for k, v in event.items() if k not in fields}


def valid_log() -> dict:
    return log(1, at(1), "hello", flow_run_id=new_id())


def valid_task_state() -> dict:
    return state("task_run", new_id(), 1, at(1), "RUNNING", flow_run_id=new_id())


def test_event_that_is_not_an_object_is_rejected():
    assert "JSON object" in rejection(["not", "an", "event"])


def test_missing_id_is_rejected():
    assert rejection(without(valid_log(), "id")) == "`id`: is required"


def test_id_that_is_not_a_uuid_is_rejected():
    assert "`id`: is not a valid UUID" in rejection({**valid_log(), "id": "123"})


def test_id_of_wrong_type_is_rejected():
    assert rejection({**valid_log(), "id": 5}) == "`id`: must be a UUID string, got integer"


def test_missing_type_is_rejected():
    assert rejection(without(valid_log(), "type")) == "`type`: is required"


def test_unknown_type_is_rejected_with_the_known_types():
    error = rejection({**valid_log(), "type": "log.deleted"})
    assert "'log.deleted'" in error and "task_run.state" in error


def test_occurred_without_timezone_is_rejected():
    assert "has no timezone" in rejection({**valid_log(), "occurred": "2026-11-26T10:00:00"})


def test_occurred_that_is_not_a_timestamp_is_rejected():
    assert "`occurred`: is not an ISO 8601 timestamp" in rejection({**valid_log(), "occurred": "yesterday"})


def test_occurred_with_z_suffix_is_accepted():
    assert ingest_batch([{**valid_log(), "occurred": "2026-11-26T10:00:00Z"}]).accepted == 1


def test_missing_seq_is_rejected():
    assert rejection(without(valid_log(), "seq")) == "`seq`: is required"


def test_negative_seq_is_rejected():
    assert "`seq`: must be between 0" in rejection({**valid_log(), "seq": -1})


def test_boolean_is_not_an_integer():
    assert rejection({**valid_log(), "level": True}) == "`level`: must be an integer, got boolean"


def test_float_seq_is_rejected():
    assert rejection({**valid_log(), "seq": 1.5}) == "`seq`: must be an integer, got number"


def test_huge_seq_is_rejected_instead_of_overflowing_the_column():
    assert "`seq`: must be between" in rejection({**valid_log(), "seq": 2**70})


def test_state_event_without_state_type_is_rejected():
    assert rejection(without(valid_task_state(), "state_type")) == "`state_type`: is required"


def test_state_event_in_the_old_nested_format_is_rejected():
    event = without(valid_task_state(), "state_type", "state_name", "state_message")
    event["state"] = {"type": "RUNNING", "name": "Running", "message": None, "timestamp": event["occurred"]}
    assert rejection(event) == "`state_type`: is required"


def test_unknown_state_type_is_rejected():
    assert "`state_type`: must be one of" in rejection({**valid_task_state(), "state_type": "EXPLODED"})


def test_state_name_over_its_limit_is_rejected():
    event = {**valid_task_state(), "state_name": "N" * 33}
    assert "`state_name`: is 33 characters long; the limit is 32" in rejection(event)


def test_state_message_over_one_mebibyte_is_rejected():
    event = {**valid_task_state(), "state_message": "m" * (1024 * 1024 + 1)}
    assert "`state_message`" in rejection(event)


def test_created_event_with_unknown_initial_state_type_is_rejected():
    event = {**task_run_created(new_id(), None), "state_type": "EXPLODED"}
    assert "`state_type`: must be one of" in rejection(event)


def test_created_event_with_initial_state_name_but_no_type_is_rejected():
    event = without(task_run_created(new_id(), None), "state_type")
    assert rejection(event) == "`state_type`: is required with `state_name`"


def test_created_event_without_initial_state_is_stored_with_no_timeline_entry():
    fr = new_id()
    result = ingest_batch([flow_run_created(fr, initial=False)])
    assert (result.accepted, result.rejected) == (1, [])
    assert (FlowRun.objects.get(id=fr).state_type, FlowRunState.objects.filter(flow_run_id=fr).count()) == ("", 0)


def test_run_id_of_wrong_format_is_rejected():
    assert "`task_run_id`: is not a valid UUID" in rejection({**valid_task_state(), "task_run_id": "nope"})


def test_flow_run_created_without_flow_name_is_rejected():
    assert rejection(without(flow_run_created(new_id()), "flow_name")) == "`flow_name`: is required"


def test_name_over_255_characters_is_rejected():
    assert "`name`: is 256 characters long" in rejection(flow_run_created(new_id(), name="n" * 256))


def test_tag_that_is_not_a_string_is_rejected():
    assert rejection(flow_run_created(new_id(), tags=["ok", 3])) == "`tags[1]`: must be a string, got integer"


def test_parameters_that_are_not_an_object_are_rejected():
    assert rejection(flow_run_created(new_id(), parameters=[1])) == "`parameters`: must be an object, got array"


def test_parameters_over_one_mebibyte_are_rejected():
    assert "`parameters`: is" in rejection(flow_run_created(new_id(), parameters={"x": "p" * (1024 * 1024)}))


def test_upstream_id_of_wrong_format_is_rejected():
    event = task_run_created(new_id(), new_id(), upstream_task_run_ids=["x"])
    assert "`upstream_task_run_ids[0]`: is not a valid UUID" in rejection(event)


def test_log_without_message_is_rejected():
    assert rejection(without(valid_log(), "message")) == "`message`: is required"


def test_invalid_events_do_not_stop_valid_ones_in_the_same_batch():
    fr, tr = new_id(), new_id()
    result = ingest_batch([
        {"id": "bad"},
        flow_run_created(fr),
        {**valid_log(), "occurred": "noon"},
        task_run_created(tr, fr),
    ])
    assert (result.accepted, result.duplicates) == (2, 0)
    assert [r["index"] for r in result.rejected] == [0, 2]
    assert FlowRun.objects.filter(id=fr).exists() and TaskRun.objects.filter(id=tr).exists()


def test_unknown_extra_fields_are_ignored():
    assert ingest_batch([{**valid_log(), "sdk_version": "9.9"}]).accepted == 1


def test_nul_in_parameters_is_replaced_so_postgresql_can_store_it():
    fr = new_id()
    ingest_batch([flow_run_created(fr, parameters={"k\u0000": ["a\u0000", "\\u0000"]})])
    assert FlowRun.objects.get(id=fr).parameters == {"k\ufffd": ["a\ufffd", "\\u0000"]}


def test_message_is_stored_verbatim():
    fr = new_id()
    text = "<b>bold</b> & \"quotes\" 'single' \\ back \n newline ☃ 🎉"
    ingest_batch([log(1, at(1), text, flow_run_id=fr)])
    assert Log.objects.get(flow_run_id=fr).message == text


def test_heartbeat_without_pid_is_accepted():
    event = {"id": new_id(), "type": "worker.heartbeat", "occurred": at(1), "seq": 1, "worker_name": "w1"}
    assert ingest_batch([event]).accepted == 1


def test_non_canonical_uuid_is_stored_canonical():
    fr = new_id()
    ingest_batch([flow_run_created("{" + fr.upper() + "}")])
    assert FlowRun.objects.filter(id=fr).exists()


def test_parameters_nested_too_deeply_are_rejected():
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    error = rejection(flow_run_created(new_id(), parameters={"x": deep}))
    assert error == "`parameters`: is nested 5002 levels deep; the limit is 64"


def test_deep_parameters_with_nul_characters_are_stored_or_rejected_not_raised():
    deep: list = ["\u0000"]
    for _ in range(700):
        deep = [deep]
    result = ingest_batch([flow_run_created(new_id(), parameters={"x": deep})])
    assert result.accepted + len(result.rejected) == 1
