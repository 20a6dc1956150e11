"""`manage.py housekeeping`: a claimed run whose worker stopped heart-beating ends Crashed, never stays Running."""
from __future__ import annotations

import io
import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from orchestrator.models import BackgroundRun, TaskRun
from tests.api.factories import make_task_run, make_worker


def claimed_run(worker: str, state=("RUNNING", "Running"), claimed_ago=timedelta(minutes=5)) -> TaskRun:
    run = make_task_run(state=state, run_count=1)
    BackgroundRun.objects.create(run_id=run.id, kind="task", key=run.task_key, dispatch=1, claimed_by=worker,
                                 claimed_at=timezone.now() - claimed_ago)
    return run


def housekeeping(*args: str) -> str:
    out = io.StringIO()
    call_command("housekeeping", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_a_run_of_a_silent_worker_is_marked_crashed():
    make_worker("gone:1", seen_ago=timedelta(minutes=3))
    run = claimed_run("gone:1")
    output = housekeeping()
    run.refresh_from_db()
    assert (run.state_type, run.state_name) == ("CRASHED", "Crashed")
    assert "Worker gone:1 stopped heart-beating" in run.state_message
    assert f"crashed {run.id}" in output and "1 run(s) marked Crashed" in output
    assert [s.name for s in run.states.order_by("timestamp")][-1] == "Crashed"


@pytest.mark.django_db(transaction=True)
def test_a_run_of_a_live_worker_is_left_running():
    make_worker("alive:1", seen_ago=timedelta(seconds=2))
    run = claimed_run("alive:1")
    housekeeping()
    run.refresh_from_db()
    assert run.state_name == "Running"


@pytest.mark.django_db(transaction=True)
def test_a_finished_run_is_left_alone_and_forgotten():
    make_worker("gone:2", seen_ago=timedelta(minutes=3))
    run = claimed_run("gone:2", state=("COMPLETED", "Completed"))
    housekeeping()
    run.refresh_from_db()
    assert run.state_name == "Completed"
    assert BackgroundRun.objects.get(run_id=run.id).claimed_by == ""


@pytest.mark.django_db(transaction=True)
def test_stale_after_is_configurable():
    make_worker("slow:1", seen_ago=timedelta(seconds=20))
    run = claimed_run("slow:1")
    housekeeping()
    assert TaskRun.objects.get(pk=run.id).state_name == "Running"
    housekeeping("--stale-after", "10")
    assert TaskRun.objects.get(pk=run.id).state_name == "Crashed"


@pytest.mark.django_db(transaction=True)
def test_a_worker_never_seen_counts_as_silent():
    run = claimed_run(f"never:{uuid.uuid4().hex[:4]}")
    housekeeping()
    assert TaskRun.objects.get(pk=run.id).state_name == "Crashed"


@pytest.mark.django_db(transaction=True)
def test_the_celery_task_runs_the_same_housekeeping():
    from orchestrator.tasks import housekeeping as task

    make_worker("gone:3", seen_ago=timedelta(minutes=3))
    run = claimed_run("gone:3")
    assert task() == 1
    assert TaskRun.objects.get(pk=run.id).state_name == "Crashed"
