"""api/views/wait.py: `outcome(id)` (the long poll's read of the run it waits on, in statements written once)
answers exactly what `outcomes([id])` (the ORM read used for lists) answers, whatever state the run is in."""
from __future__ import annotations

import uuid

import pytest

from api.views.wait import outcome, outcomes
from orchestrator.ingest import ingest_batch
from tests.orchestrator.event_factory import at, new_id, state, task_run_created

pytestmark = pytest.mark.django_db


def ingest(*events: dict) -> None:
    result = ingest_batch(list(events))
    assert not result.rejected, result.rejected


def task_run(*states: tuple) -> str:
    """A task run with these (state_type, seconds, extra fields) states."""
    run_id = new_id()
    ingest(task_run_created(run_id, None), *(state("task_run", run_id, i + 1, at(t), kind, run_count=1, **extra)
                                              for i, (kind, t, extra) in enumerate(states)))
    return run_id


CASES = {
    "pending only": (),
    "running": (("RUNNING", 2, {}),),
    "completed with an object": (("RUNNING", 2, {}), ("COMPLETED", 3, {"result": {"rows": [1, 2], "ok": True}})),
    "completed with null": (("RUNNING", 2, {}), ("COMPLETED", 3, {"result": None})),
    "completed with text": (("RUNNING", 2, {}), ("COMPLETED", 3, {"result": "dü <b>"})),
    "completed without a result": (("RUNNING", 2, {}), ("COMPLETED", 3, {})),
    "failed with an error": (("RUNNING", 2, {}), ("FAILED", 3, {"error": {"type": "ValueError", "message": "no"}})),
    "crashed": (("RUNNING", 2, {}), ("CRASHED", 3, {"message": "worker gone"})),
    "cancelled": (("CANCELLED", 2, {}),),
    "failed, then completed on retry": (("FAILED", 2, {"error": {"type": "E", "message": "1st"}}),
                                        ("COMPLETED", 5, {"result": 42})),
    "completed, then a late Failed that sorts earlier": (("COMPLETED", 5, {"result": 7}),
                                                          ("FAILED", 2, {"error": {"type": "E", "message": "x"}})),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_run_read_equals_the_list_read(case):
    run_id = task_run(*CASES[case])
    key = uuid.UUID(run_id)
    assert outcome(key) == outcomes([key])[key]


def test_an_unknown_run_has_no_outcome():
    key = uuid.uuid4()
    assert outcome(key) is None
    assert key not in outcomes([key])


def test_a_final_answer_carries_the_result_or_the_error():
    done = uuid.UUID(task_run(("COMPLETED", 3, {"result": {"a": 1}})))
    failed = uuid.UUID(task_run(("FAILED", 3, {"error": {"type": "KeyError", "message": "k"}})))
    assert (outcome(done)["final"], outcome(done)["result"]) == (True, {"a": 1})
    assert (outcome(failed)["final"], outcome(failed)["error"]["type"]) == (True, "KeyError")
    assert outcome(done)["state"]["timestamp"] == outcomes([done])[done]["state"]["timestamp"]
