"""Parameter resolution (SPEC §3.3)."""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field

import pydantic

from sdk import allow_failure, flow, opaque, quote, task
from sdk.futures import TaskRunFuture
from sdk.states import Completed, Failed

from .conftest import created, state_names


@task
def value(x):
    return x


@task
def fail():
    raise ValueError("upstream broke")


@task
def identity(x):
    return x


Point = namedtuple("Point", "x y")


@dataclass
class Box:
    content: object
    inits: list = field(default_factory=list)

    def __post_init__(self):
        self.inits.append(1)


class Model(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(arbitrary_types_allowed=True)
    a: object
    b: int = 0


def run_in_flow(fn):
    return flow(fn, name="resolution")()


def test_future_argument_is_replaced_by_its_result():
    assert run_in_flow(lambda: identity(value.submit(3))) == 3


def test_futures_nested_in_builtin_containers_are_resolved():
    def body():
        f = value.submit(1)
        return identity({"list": [f], "tuple": (f,), "set": {f}, "dict": {"k": f}, "deep": [[{"x": (f,)}]]})

    assert run_in_flow(body) == {"list": [1], "tuple": (1,), "set": {1}, "dict": {"k": 1}, "deep": [[{"x": (1,)}]]}


def test_future_in_a_dict_key_is_resolved():
    assert run_in_flow(lambda: identity({value.submit("k"): 1})) == {"k": 1}


def test_state_argument_is_replaced_by_its_data():
    assert run_in_flow(lambda: identity([Completed(data=7)])) == [7]


def test_future_in_namedtuple_rebuilds_it_with_its_constructor():
    result = run_in_flow(lambda: identity(Point(value.submit(1), 2)))
    assert result == Point(1, 2) and type(result) is Point


def test_future_in_dataclass_rebuilds_it_with_replace_running_post_init_again():
    def body():
        box = Box(value.submit(5))
        out = identity(box)
        return out is not box, out.content, len(out.inits)

    # __post_init__ ran again on the rebuilt copy (the default list is shared with the original)
    assert run_in_flow(body) == (True, 5, 2)


def test_future_in_pydantic_model_rebuilds_it_with_model_construct():
    result = run_in_flow(lambda: identity(Model(a=value.submit(9), b=3)))
    assert isinstance(result, Model) and (result.a, result.b) == (9, 3)


def test_unchanged_containers_are_passed_as_the_same_object():
    data = {"a": [1, 2], "b": Point(1, 2)}
    box = Box("plain")

    @task
    def same(d, b):
        return d is data and d["a"] is data["a"] and b is box

    assert run_in_flow(lambda: same(data, box)) is True


def test_only_the_changed_branch_is_rebuilt():
    untouched = [1, 2, 3]

    @task
    def check(d):
        return d["static"] is untouched and d["dynamic"] == [4]

    assert run_in_flow(lambda: check({"static": untouched, "dynamic": [value.submit(4)]})) is True


def test_upstream_runs_are_recorded_as_dependencies(sink):
    def body():
        a, b = value.submit(1), value.submit(2)
        identity([a, {"x": b}])
        return a.task_run_id, b.task_run_id

    ids = run_in_flow(body)
    (downstream,) = created(sink, "task_run", "identity")
    assert list(downstream["upstream_task_run_ids"]) == list(ids)
    assert downstream["parameters"] == {"x": [{"__upstream__": ids[0]}, {"x": {"__upstream__": ids[1]}}]}


def test_quote_passes_the_object_unchanged_without_dependency(sink):
    @task
    def kind(x):
        return type(x[0]) is TaskRunFuture

    def body():
        f = value.submit(1)
        f.wait(10)
        return kind(quote([f]))

    assert run_in_flow(body) is True
    (downstream,) = created(sink, "task_run", "kind")
    assert list(downstream["upstream_task_run_ids"]) == []


def test_opaque_resolves_a_future_at_top_level_only():
    def body():
        inner = value.submit(1)
        outer = value.submit([inner])
        return identity(opaque(outer)), isinstance(identity(opaque([inner]))[0], TaskRunFuture)

    top, nested_left_alone = run_in_flow(body)
    assert top == [1]
    assert nested_left_alone is True


def test_opaque_never_rebuilds_the_resolved_object():
    box = Box("x")

    @task
    def make():
        return box

    @task
    def check(b):
        return b is box

    assert run_in_flow(lambda: check(opaque(make.submit()))) is True
    assert box.inits == [1]


def test_wait_for_makes_a_dependency_without_data(sink):
    order = []

    @task
    def first():
        order.append("first")

    @task
    def second():
        order.append("second")

    def body():
        f = first.submit()
        second.submit(wait_for=[f]).wait(10)
        return f.task_run_id

    first_id = run_in_flow(body)
    assert order == ["first", "second"]
    (downstream,) = created(sink, "task_run", "second")
    assert list(downstream["upstream_task_run_ids"]) == [first_id]


def test_failed_upstream_means_downstream_never_runs_and_is_not_ready(sink):
    ran = []

    @task
    def downstream(x):
        ran.append(x)

    def body():
        return downstream.submit(fail.submit())

    state = flow(body, name="r")(return_state=True)
    assert ran == []
    (down,) = created(sink, "task_run", "downstream")
    names = state_names(sink, down["task_run_id"])
    assert names == ["Pending", "NotReady"]
    (up,) = created(sink, "task_run", "fail")
    assert up["task_run_id"] in state.result(raise_on_failure=False).args[0]


def test_failed_wait_for_upstream_blocks_downstream():
    ran = []

    @task
    def downstream():
        ran.append(1)

    name = flow(lambda: downstream(wait_for=[fail.submit()], return_state=True).name, name="r")()
    assert ran == [] and name == "NotReady"


def test_failed_state_argument_blocks_downstream():
    assert flow(lambda: identity(Failed("no"), return_state=True).name, name="r")() == "NotReady"


def test_allow_failure_runs_downstream_with_the_exception():
    @task
    def receive(x):
        return x

    result = run_in_flow(lambda: receive(allow_failure(fail.submit())))
    assert isinstance(result, ValueError) and str(result) == "upstream broke"


def test_allow_failure_in_wait_for_lets_downstream_run():
    assert run_in_flow(lambda: identity(1, wait_for=[allow_failure(fail.submit())])) == 1


def test_rebuilding_an_argument_that_raises_fails_the_run_with_that_error(sink):
    @dataclass
    class Strict:
        value: object

        def __post_init__(self):
            if self.value == 13:
                raise ValueError("unlucky")

    ran = []

    @task
    def take(s):
        ran.append(s)

    def body():
        return take(Strict(value.submit(13)), return_state=True).is_failed()

    assert flow(body, name="r")() is True
    assert ran == []
    (run,) = created(sink, "task_run", "take")
    assert state_names(sink, run["task_run_id"]) == ["Pending", "Failed"]
