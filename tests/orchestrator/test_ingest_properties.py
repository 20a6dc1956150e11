"""Property: any permutation of a set of events, split into any batches, some
batches sent twice, converges to the same database content as in-order delivery."""
from __future__ import annotations

import itertools
import random
import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.ingest import ingest_batch
from orchestrator.models import Flow, FlowRun, FlowRunState, Log, RunTag, TaskRun, TaskRunState, Worker
from tests.orchestrator.event_factory import T0, iso

pytestmark = pytest.mark.django_db

FINAL_ATTEMPT = ["COMPLETED", "FAILED", "CRASHED"]
TABLES = [FlowRun, TaskRun, FlowRunState, TaskRunState, Log, RunTag, Worker, Flow]


class RunClock:
    """Per-run `occurred` and `seq`; steps of 0 µs make ties that seq must break."""

    def __init__(self, rnd: random.Random, start: float) -> None:
        self.rnd, self.now, self.seq = rnd, T0 + timedelta(seconds=start), 0

    def tick(self) -> tuple[str, int]:
        self.now += timedelta(microseconds=self.rnd.choice([0, 0, 1, 250, 1_000_000]))
        self.seq += 1
        return iso(self.now), self.seq


_serial = itertools.count(1)


def make_id(rnd: random.Random) -> str:
    """Unique even when hypothesis shrinks the random bits to zero."""
    return str(uuid.UUID(int=(rnd.getrandbits(64) << 64) | next(_serial), version=4))


def base(rnd, type_, occurred, seq, **fields):
    return {"id": make_id(rnd), "type": type_, "occurred": occurred, "seq": seq, **fields}


def state_event(rnd, kind, run_id, clock, type_, name, run_count, flow_run_id=None, **extra):
    occurred, seq = clock.tick()
    ids = {f"{kind}_id": run_id}
    if kind == "task_run":
        ids["flow_run_id"] = flow_run_id
    flat = {"state_type": type_, "state_name": name, "state_message": f"{name} at {seq}"}
    return base(rnd, f"{kind}.state", occurred, seq, run_count=run_count, **flat, **ids, **extra)


def initial_state(rnd) -> dict:
    """A created event's initial Pending (as the SDK sends it), or none (as older SDKs did)."""
    if rnd.random() < 0.25:
        return {}
    return {"state_type": "PENDING", "state_name": "Pending", "state_message": rnd.choice([None, "waiting"])}


def run_life(rnd, kind, run_id, clock, attempts, flow_run_id=None, logs=0, pending=False) -> list[dict]:
    """(Pending, if the created event did not carry it), then per attempt Running/Retrying and an end;
    failed attempts go AwaitingRetry."""
    events = [state_event(rnd, kind, run_id, clock, "PENDING", "Pending", 0, flow_run_id)] if pending else []
    for attempt in range(1, attempts + 1):
        events.append(state_event(rnd, kind, run_id, clock, "RUNNING", "Running" if attempt == 1 else "Retrying", attempt, flow_run_id))
        for _ in range(logs):
            occurred, seq = clock.tick()
            task_run_id = run_id if kind == "task_run" else None
            events.append(base(rnd, "log", occurred, seq, flow_run_id=flow_run_id if kind == "task_run" else run_id,
                               task_run_id=task_run_id, level=rnd.choice([10, 20, 40]), logger="sdk", message=f"line {seq}"))
        if attempt < attempts:
            events.append(state_event(rnd, kind, run_id, clock, "FAILED", "Failed", attempt, flow_run_id,
                                      error={"type": "ValueError", "message": "boom", "traceback": "tb"}))
            events.append(state_event(rnd, kind, run_id, clock, "SCHEDULED", "AwaitingRetry", attempt, flow_run_id))
        else:
            end = rnd.choice(FINAL_ATTEMPT)
            extra = {"result": {"value": attempt}} if end == "COMPLETED" else {}
            events.append(state_event(rnd, kind, run_id, clock, end, end.title(), attempt, flow_run_id, **extra))
    return events


@st.composite
def scenarios(draw) -> list[dict]:
    rnd = draw(st.randoms(use_true_random=False))
    events: list[dict] = []
    for f in range(draw(st.integers(1, 2))):
        fr = make_id(rnd)
        clock = RunClock(rnd, start=f)
        occurred, _ = clock.tick()
        flow_initial = initial_state(rnd)
        events.append(base(rnd, "flow_run.created", occurred, 0, flow_run_id=fr, flow_name=rnd.choice(["etl", "report"]),
                           name=f"flow-{f}", parameters={"n": f}, tags=rnd.sample(["a", "b", "c"], rnd.randint(0, 2)),
                           parent_task_run_id=None, parent_flow_run_id=None, version=None, **flow_initial))
        upstream: list[str] = []
        for t in range(draw(st.integers(0, 3))):
            tr = make_id(rnd)
            task_clock = RunClock(rnd, start=f + t / 10)
            occurred, _ = task_clock.tick()
            task_initial = initial_state(rnd)
            events.append(base(rnd, "task_run.created", occurred, 0, task_run_id=tr, flow_run_id=fr, task_key=f"task-{t}",
                               task_name=f"task{t}", name=f"task{t}-abc", parameters={"x": t}, tags=["a"] if t % 2 else [],
                               parent_task_run_id=None, upstream_task_run_ids=list(upstream), **task_initial))
            upstream.append(tr)
            events += run_life(rnd, "task_run", tr, task_clock, draw(st.integers(1, 3)), flow_run_id=fr,
                               logs=draw(st.integers(0, 1)), pending=not task_initial)
        events += run_life(rnd, "flow_run", fr, clock, draw(st.integers(1, 2)), logs=draw(st.integers(0, 1)),
                           pending=not flow_initial)
    if draw(st.booleans()):
        for seq in range(1, 3):
            events.append(base(rnd, "worker.heartbeat", iso(T0 + timedelta(seconds=seq)), seq, worker_name="w", hostname="h",
                               pid=1, task_keys=[f"k{seq}"], flow_names=[]))
    return events


def snapshot() -> dict:
    """Everything stored, minus write times and surrogate keys."""
    flows = dict(Flow.objects.values_list("id", "name"))
    out = {}
    for model in TABLES:
        rows = []
        for row in model.objects.values():
            row.pop("updated", None)
            if model is Flow:
                row = {"name": row["name"]}
            if model is RunTag:
                row.pop("id")
            if model is FlowRun:
                row["flow_id"] = flows.get(row["flow_id"])
            rows.append(tuple(sorted((k, repr(v)) for k, v in row.items())))
        out[model.__name__] = sorted(rows)
    return out


def clear() -> None:
    for model in TABLES:
        model.objects.all().delete()


def expected_runs(events: list[dict]) -> dict[str, tuple]:
    """What docs/events.md says each run row holds, computed straight from the events."""
    by_run: dict[str, list[dict]] = {}
    created: dict[str, str] = {}
    for e in events:
        run = e.get("task_run_id") or e.get("flow_run_id") if e["type"].startswith(("task_run.", "flow_run.")) else None
        if run is None:
            continue
        if "state_type" in e:  # a state event, or a created event's initial state
            by_run.setdefault(run, []).append(e)
        if e["type"].endswith(".created"):
            created[run] = e["occurred"]
    out = {}
    for run, states in by_run.items():
        current = max(states, key=lambda e: (parse(e["occurred"]), e["seq"]))
        running = [parse(e["occurred"]) for e in states if e["state_type"] == "RUNNING"]
        final = current["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")
        out[run] = (
            current["state_name"],
            min(running) if running else None,
            parse(current["occurred"]) if final else None,
            max(e.get("run_count", 0) for e in states),
            parse(created[run]) if run in created else min(parse(e["occurred"]) for e in states),
        )
    return out


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def stored_runs() -> dict[str, tuple]:
    return {
        str(r.id): (r.state_name, r.start_time, r.end_time, r.run_count, r.created)
        for r in [*FlowRun.objects.all(), *TaskRun.objects.all()]
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=scenarios(), data=st.data())
def test_any_delivery_order_converges_to_in_order_content(events, data):
    clear()
    ingest_batch(events)
    in_order = snapshot()
    assert stored_runs() == expected_runs(events)

    clear()
    shuffled = data.draw(st.permutations(events), label="permutation")
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(events) - 1)), max_size=6), label="cuts"))
    batches = [shuffled[a:b] for a, b in zip([0, *cuts], [*cuts, len(shuffled)])]
    resend = data.draw(st.sets(st.integers(0, len(batches) - 1), max_size=len(batches)), label="resent batches")
    accepted = 0
    for i, batch in enumerate(batches):
        accepted += ingest_batch(batch).accepted
        if i in resend:
            again = ingest_batch(batch)
            assert again.accepted == 0 and again.duplicates == len(batch)
    assert snapshot() == in_order
    heartbeats = sum(1 for e in events if e["type"] == "worker.heartbeat")
    assert len(events) - heartbeats <= accepted <= len(events)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=scenarios())
def test_replaying_everything_changes_nothing(events):
    clear()
    ingest_batch(events)
    before = snapshot()
    result = ingest_batch(list(reversed(events)))
    assert (result.accepted, result.duplicates) == (0, len(events))
    assert snapshot() == before
