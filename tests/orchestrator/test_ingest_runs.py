"""How events become run rows: current state, timing, created fields, links, tags, workers."""
from __future__ import annotations

import uuid

import pytest

from orchestrator.ingest import ingest_batch
from orchestrator.models import Flow, FlowRun, FlowRunState, Log, RunTag, TaskRun, TaskRunState, Worker
from tests.orchestrator.event_factory import (
    T0, at, completed_task_run, flow_run_created, heartbeat, log, new_id, state, task_run_created,
)

pytestmark = pytest.mark.django_db


def test_current_state_is_the_latest_by_occurred_even_when_it_arrives_first():
    tr = new_id()
    ingest_batch([state("task_run", tr, 3, at(3), "COMPLETED")])
    ingest_batch([state("task_run", tr, 2, at(2), "RUNNING", run_count=1)])
    run = TaskRun.objects.get(id=tr)
    assert (run.state_type, run.state_seq) == ("COMPLETED", 3)


def test_seq_breaks_ties_of_occurred():
    tr = new_id()
    ingest_batch([state("task_run", tr, 5, at(2), "COMPLETED"), state("task_run", tr, 4, at(2), "RUNNING")])
    assert TaskRun.objects.get(id=tr).state_type == "COMPLETED"


def test_start_time_is_the_first_running_state():
    tr = new_id()
    ingest_batch([state("task_run", tr, 4, at(4), "RUNNING", "Retrying", run_count=2)])
    ingest_batch([state("task_run", tr, 2, at(2), "RUNNING", run_count=1)])
    assert TaskRun.objects.get(id=tr).start_time == T0.replace(second=2)


def test_end_time_is_set_by_a_final_state_and_cleared_by_a_later_retry():
    tr = new_id()
    ingest_batch([state("task_run", tr, 2, at(2), "FAILED")])
    assert TaskRun.objects.get(id=tr).end_time == T0.replace(second=2)
    ingest_batch([state("task_run", tr, 3, at(3), "SCHEDULED", "AwaitingRetry")])
    assert TaskRun.objects.get(id=tr).end_time is None


def test_run_count_is_the_largest_seen():
    tr = new_id()
    ingest_batch([state("task_run", tr, 5, at(5), "RUNNING", run_count=2)])
    ingest_batch([state("task_run", tr, 6, at(6), "COMPLETED", run_count=1)])
    assert TaskRun.objects.get(id=tr).run_count == 2


def test_state_before_created_event_makes_a_stub_run_created_at_earliest_occurred():
    tr, fr = new_id(), new_id()
    ingest_batch([state("task_run", tr, 3, at(3), "RUNNING", flow_run_id=fr), state("task_run", tr, 2, at(2), "PENDING")])
    run = TaskRun.objects.get(id=tr)
    assert not run.has_created_event
    assert run.created == T0.replace(second=2)
    assert str(run.flow_run_id) == fr


def test_created_event_arriving_late_fills_in_the_stub():
    tr, fr = new_id(), new_id()
    ingest_batch([state("task_run", tr, 3, at(3), "RUNNING")])
    ingest_batch([task_run_created(tr, fr, at(1), name="add-abc", task_key="add-1", tags=["x"], parameters={"a": 1})])
    run = TaskRun.objects.get(id=tr)
    assert run.has_created_event and run.created == T0.replace(second=1)
    assert (run.name, run.task_key, run.parameters, run.tags) == ("add-abc", "add-1", {"a": 1}, ["x"])
    assert str(run.flow_run_id) == fr
    assert run.state_type == "RUNNING"


def test_created_event_keeps_the_current_state():
    tr = new_id()
    ingest_batch([task_run_created(tr, None), state("task_run", tr, 1, at(2), "PENDING")])
    ingest_batch([task_run_created(tr, None)])  # a different event id for the same run
    assert TaskRun.objects.get(id=tr).state_type == "PENDING"


def test_created_event_flow_run_id_wins_over_state_events():
    tr, fr, other = new_id(), new_id(), new_id()
    ingest_batch([task_run_created(tr, fr)])
    ingest_batch([state("task_run", tr, 2, at(2), "RUNNING", flow_run_id=other)])
    assert str(TaskRun.objects.get(id=tr).flow_run_id) == fr


def test_flow_run_created_makes_the_flow_row_by_name():
    ingest_batch([flow_run_created(new_id(), flow_name="etl"), flow_run_created(new_id(), flow_name="etl")])
    assert Flow.objects.filter(name="etl").count() == 1
    assert FlowRun.objects.filter(flow__name="etl").count() == 2


def test_flow_run_fields_come_from_the_created_event():
    fr, parent_fr, parent_tr = new_id(), new_id(), new_id()
    ingest_batch([flow_run_created(fr, name="n", version="1.2", parent_flow_run_id=parent_fr, parent_task_run_id=parent_tr)])
    run = FlowRun.objects.get(id=fr)
    assert (run.name, run.version, str(run.parent_flow_run_id), str(run.parent_task_run_id)) == ("n", "1.2", parent_fr, parent_tr)


def test_tags_become_run_tag_rows():
    fr, tr = new_id(), new_id()
    ingest_batch([flow_run_created(fr, tags=["a", "b"]), task_run_created(tr, fr, tags=["a", "a"])])
    assert sorted(RunTag.objects.filter(flow_run_id=fr).values_list("tag", flat=True)) == ["a", "b"]
    assert list(RunTag.objects.filter(task_run_id=tr).values_list("tag", flat=True)) == ["a"]


def test_upstream_ids_are_stored_as_canonical_strings():
    tr, up = new_id(), uuid.uuid4()
    ingest_batch([task_run_created(tr, None, upstream_task_run_ids=[up.hex.upper()])])
    assert TaskRun.objects.get(id=tr).upstream_task_run_ids == [str(up)]


def test_state_rows_keep_the_whole_timeline_with_error_and_result():
    tr = new_id()
    error = {"type": "ValueError", "message": "boom", "traceback": "Traceback..."}
    ingest_batch([
        state("task_run", tr, 1, at(1), "FAILED", run_count=1, error=error),
        state("task_run", tr, 2, at(2), "COMPLETED", run_count=2, result={"v": [1, 2]}),
    ])
    rows = list(TaskRunState.objects.filter(task_run_id=tr).order_by("timestamp").values("type", "error", "result"))
    assert rows == [{"type": "FAILED", "error": error, "result": None}, {"type": "COMPLETED", "error": None, "result": {"v": [1, 2]}}]


def test_state_and_log_rows_are_keyed_by_event_id():
    fr = new_id()
    s, line = state("flow_run", fr, 1, at(1), "RUNNING"), log(2, at(2), "hi", flow_run_id=fr)
    ingest_batch([s, line])
    assert FlowRunState.objects.filter(id=s["id"]).exists() and Log.objects.filter(id=line["id"]).exists()


def test_logs_do_not_create_run_rows():
    ingest_batch([log(1, at(1), "orphan", task_run_id=new_id())])
    assert not TaskRun.objects.exists()


def test_resending_a_batch_counts_every_event_as_duplicate_and_changes_nothing():
    fr = new_id()
    _, events = completed_task_run(fr)
    events.append(flow_run_created(fr))
    ingest_batch(events)
    before = list(TaskRun.objects.values("id", "state_type", "updated"))
    result = ingest_batch(events)
    assert (result.accepted, result.duplicates) == (0, len(events))
    assert list(TaskRun.objects.values("id", "state_type", "updated")) == before


def test_same_event_twice_in_one_batch_counts_once():
    line = log(1, at(1), "x", flow_run_id=new_id())
    result = ingest_batch([line, line])
    assert (result.accepted, result.duplicates) == (1, 1)


def test_result_lists_the_runs_the_batch_changed():
    fr = new_id()
    tr, events = completed_task_run(fr)
    result = ingest_batch([flow_run_created(fr), *events])
    assert result.flow_run_ids == {uuid.UUID(fr)}
    assert result.task_run_ids == {uuid.UUID(tr)}
    assert ingest_batch(events).task_run_ids == set()


def test_heartbeat_creates_the_worker_and_later_heartbeats_update_it():
    ingest_batch([heartbeat("w1", 1, at(1), ["a"])])
    ingest_batch([heartbeat("w1", 3, at(3), ["b"]), heartbeat("w1", 2, at(2), ["c"])])
    worker = Worker.objects.get(name="w1")
    assert (worker.task_keys, worker.first_seen, worker.last_seen) == (["b"], T0.replace(second=1), T0.replace(second=3))


def test_older_heartbeat_only_moves_first_seen_back():
    ingest_batch([heartbeat("w1", 3, at(3), ["new"])])
    result = ingest_batch([heartbeat("w1", 1, at(1), ["old"])])
    worker = Worker.objects.get(name="w1")
    assert (worker.task_keys, worker.first_seen, result.accepted) == (["new"], T0.replace(second=1), 1)


def test_resent_heartbeat_is_a_duplicate():
    beat = heartbeat("w1", 1, at(1))
    ingest_batch([beat])
    assert ingest_batch([beat]).duplicates == 1


def test_a_transient_database_error_is_retried(monkeypatch):
    from django.db import OperationalError

    from orchestrator import ingest

    calls = []
    real_write = ingest.BatchWriter.write

    def flaky_write(self):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("database is locked")
        return real_write(self)

    monkeypatch.setattr(ingest.BatchWriter, "write", flaky_write)
    fr = new_id()
    assert ingest_batch([flow_run_created(fr)]).accepted == 1
    assert len(calls) == 2 and FlowRun.objects.filter(id=fr).exists()
