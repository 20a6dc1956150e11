"""`manage.py prune --older-than AGE`: old runs go whole (states, tags, logs), in bounded batches."""
from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from orchestrator.models import FlowRun, FlowRunState, Log, RunTag, TaskRun, TaskRunState
from orchestrator.retention import parse_age, prune, prune_old_runs
from tests.api.factories import make_flow_run, make_log, make_state, make_task_run

pytestmark = pytest.mark.django_db


def run_with_children(age: timedelta, tasks: int = 3) -> FlowRun:
    created = timezone.now() - age
    flow_run = make_flow_run(created=created, tags=["nightly"])
    make_state(flow_run, "COMPLETED", "Completed", timestamp=created)
    make_log("flow says hi", flow_run=flow_run, timestamp=created)
    for _ in range(tasks):
        task_run = make_task_run(flow_run, created=created, tags=["nightly"])
        make_state(task_run, "COMPLETED", "Completed", timestamp=created)
        make_log("task says hi", flow_run=flow_run, task_run=task_run, timestamp=created)
    return flow_run


def prune_command(*args: str) -> str:
    out = StringIO()
    call_command("prune", *args, stdout=out)
    return out.getvalue()


def test_prune_deletes_old_runs_with_their_states_tags_and_logs():
    old = run_with_children(timedelta(days=40))
    out = prune_command("--older-than", "30d")
    assert not FlowRun.objects.filter(pk=old.pk).exists()
    for model in (TaskRun, FlowRunState, TaskRunState, Log, RunTag):
        assert model.objects.count() == 0, model.__name__
    assert "1 flow runs, 3 task runs, 4 states, 4 logs, 4 tags" in out


def test_prune_keeps_runs_younger_than_the_age():
    run_with_children(timedelta(days=40))
    recent = run_with_children(timedelta(days=2))
    prune_command("--older-than", "30d")
    assert list(FlowRun.objects.values_list("pk", flat=True)) == [recent.pk]
    assert TaskRun.objects.filter(flow_run=recent).count() == 3
    assert Log.objects.count() == 4 and TaskRunState.objects.count() == 3


def test_prune_deletes_old_logs_of_a_run_it_keeps():
    recent = make_flow_run(created=timezone.now() - timedelta(days=1))
    make_log("ancient", flow_run=recent, timestamp=timezone.now() - timedelta(days=31))
    fresh = make_log("fresh", flow_run=recent, timestamp=timezone.now())
    prune_command("--older-than", "30d")
    assert list(Log.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert FlowRun.objects.filter(pk=recent.pk).exists()


def test_prune_takes_a_flow_runs_recent_task_runs_along():
    old = make_flow_run(created=timezone.now() - timedelta(days=40))
    make_task_run(old, created=timezone.now())  # e.g. a retry long after the flow run began
    prune_command("--older-than", "30d")
    assert TaskRun.objects.count() == 0


def test_prune_works_in_bounded_batches():
    for _ in range(5):
        run_with_children(timedelta(days=40), tasks=4)
    pruned = prune(timezone.now() - timedelta(days=30), batch_size=3)
    assert (pruned.flow_runs, pruned.task_runs, pruned.logs) == (5, 20, 25)
    assert pruned.batches >= 25 // 3  # no batch deleted more than 3 rows of a table
    assert FlowRun.objects.count() == TaskRun.objects.count() == Log.objects.count() == 0


def test_prune_deletes_standalone_task_runs():
    make_task_run(None, created=timezone.now() - timedelta(days=40))
    prune_command("--older-than", "30d")
    assert TaskRun.objects.count() == 0


@pytest.mark.parametrize("text,expected", [
    ("30d", timedelta(days=30)), ("12h", timedelta(hours=12)), ("90m", timedelta(minutes=90)),
    ("45s", timedelta(seconds=45)), ("2w", timedelta(weeks=2)),
])
def test_parse_age_reads_units(text, expected):
    assert parse_age(text) == expected


@pytest.mark.parametrize("bad", ["30", "d", "-3d", "30y", "", "3.5d"])
def test_prune_refuses_an_age_it_cannot_read(bad):
    with pytest.raises(CommandError, match="must be a number and a unit"):
        prune_command(f"--older-than={bad}")


def test_beat_task_prunes_by_the_configured_retention(settings):
    settings.ORCHESTRATOR_RETENTION_DAYS = 30
    run_with_children(timedelta(days=40))
    assert prune_old_runs()["flow_runs"] == 1
    assert FlowRun.objects.count() == 0


def test_beat_schedule_runs_the_prune_task_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["prune-old-runs"]
    assert entry["task"] == prune_old_runs.name
    assert entry["schedule"] == 24 * 60 * 60
