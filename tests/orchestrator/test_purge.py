"""`manage.py purge --key NAME`: what one key stored goes, runs converge on what the others reported."""
from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orchestrator.ingest import ingest_batch
from orchestrator.models import CreatedEventConflict, FlowRun, FlowRunState, Log, RunTag, TaskRun, Worker
from tests.orchestrator.event_factory import at, flow_run_created, heartbeat, log, new_id, state, task_run_created

pytestmark = pytest.mark.django_db


def purge(name: str) -> str:
    out = StringIO()
    call_command("purge", "--key", name, stdout=out)
    return out.getvalue()


def test_purge_deletes_what_the_key_stored_and_restores_the_real_current_state():
    fr, bogus = new_id(), new_id()
    ingest_batch([flow_run_created(fr), state("flow_run", fr, 1, at(1), "RUNNING", run_count=1)], stored_by="real")
    ingest_batch([
        state("flow_run", fr, 2, at(50), "COMPLETED", run_count=7), log(3, at(51), "forged", flow_run_id=fr),
        heartbeat("w-forged", 1, at(1)), flow_run_created(bogus, tags=["x"]),
    ], stored_by="leaked")
    assert FlowRun.objects.get(id=fr).state_type == "COMPLETED"

    output = purge("leaked")

    run = FlowRun.objects.get(id=fr)
    assert (run.state_type, run.run_count, run.end_time) == ("RUNNING", 1, None)
    assert not FlowRun.objects.filter(id=bogus).exists() and not RunTag.objects.exists()
    assert not Log.objects.exists() and not Worker.objects.exists()
    assert set(FlowRunState.objects.values_list("stored_by", flat=True)) == {"real"}
    assert "orchestrator.Log: 1 deleted" in output


def test_a_run_the_key_created_keeps_the_states_others_reported():
    tr = new_id()
    ingest_batch([task_run_created(tr, None, name="forged")], stored_by="leaked")
    ingest_batch([state("task_run", tr, 1, at(2), "RUNNING"), state("task_run", tr, 2, at(3), "FAILED")],
                 stored_by="real")
    purge("leaked")
    run = TaskRun.objects.get(id=tr)
    assert (run.name, run.has_created_event, run.state_type, run.created.isoformat()) == ("", False, "FAILED", at(2))


def test_purge_deletes_the_conflicts_the_key_sent():
    fr = new_id()
    ingest_batch([flow_run_created(fr)], stored_by="real")
    ingest_batch([flow_run_created(fr, name="forged")], stored_by="leaked")
    assert CreatedEventConflict.objects.count() == 1
    purge("leaked")
    assert not CreatedEventConflict.objects.exists()
    assert FlowRun.objects.get(id=fr).name == "brave-otter"


def test_purge_needs_a_key_name():
    with pytest.raises(CommandError):
        call_command("purge", "--key", " ")
