"""@task / @flow with and without arguments, every option, with_options, and bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sdk import flow, task
from sdk.cache_policies import INPUTS
from sdk.flows import Flow
from sdk.task_runners import ThreadPoolTaskRunner
from sdk.tasks import Task


def double(x):
    """Twice x."""
    return 2 * x


def test_task_without_parentheses_makes_a_task():
    t = task(double)
    assert isinstance(t, Task)
    assert t.fn is double
    assert t.name == "double"
    assert t(3) == 6


def test_task_with_parentheses_makes_a_task():
    t = task()(double)
    assert isinstance(t, Task) and t(2) == 4


def test_task_accepts_every_option_of_the_spec():
    t = task(
        name="twice", description="d", tags=["a", "b"], version="1", retries=2, retry_delay_seconds=[0, 0],
        retry_jitter_factor=0.5, retry_condition_fn=lambda t, r, s: True, timeout_seconds=5, log_prints=True,
        cache_policy=INPUTS, cache_key_fn=None, cache_expiration=timedelta(minutes=1), refresh_cache=False,
        persist_result=True, task_run_name="twice-{x}", on_completion=[lambda t, r, s: None],
        on_failure=[lambda t, r, s: None],
    )(double)
    assert (t.name, t.description, t.tags, t.version, t.retries) == ("twice", "d", ("a", "b"), "1", 2)
    assert t.timeout_seconds == 5 and t.log_prints is True and t.cache_expiration == timedelta(minutes=1)
    assert t(4) == 8


def test_task_description_defaults_to_docstring():
    assert task(double).description == "Twice x."


def test_flow_without_parentheses_makes_a_flow_named_with_dashes():
    def my_pipeline():
        return 1

    f = flow(my_pipeline)
    assert isinstance(f, Flow) and f.name == "my-pipeline" and f() == 1


def test_flow_accepts_every_option_of_the_spec():
    f = flow(
        name="p", description="d", version="2", retries=1, retry_delay_seconds=0, timeout_seconds=10,
        log_prints=False, task_runner=ThreadPoolTaskRunner(max_workers=2), flow_run_name="run-{x}",
        on_completion=[lambda f, r, s: None], on_failure=[lambda f, r, s: None],
    )(double)
    assert (f.name, f.version, f.retries, f.task_runner.max_workers) == ("p", "2", 1, 2)
    assert f(5) == 10


def test_task_with_options_returns_a_new_task_with_overrides():
    t = task(name="one", retries=1)(double)
    other = t.with_options(name="two", retries=3)
    assert other is not t and (other.name, other.retries) == ("two", 3)
    assert (t.name, t.retries) == ("one", 1)
    assert other.fn is t.fn and other(1) == 2


def test_flow_with_options_returns_a_new_flow():
    f = flow(double)
    other = f.with_options(name="renamed", retries=2)
    assert (other.name, other.retries, f.name) == ("renamed", 2, "double")


def test_non_callable_to_task_is_a_type_error():
    with pytest.raises(TypeError, match="callable"):
        task(42)


def test_non_callable_to_flow_is_a_type_error():
    with pytest.raises(TypeError, match="callable"):
        flow("not a function")


def test_unknown_task_option_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="retriez"):
        task(retriez=3)


def test_unknown_flow_option_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="task_runer"):
        flow(task_runer=None)


def test_unknown_with_options_option_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="bogus"):
        task(double).with_options(bogus=1)


@pytest.mark.parametrize("bad", ["5", {"a": 1}, [1, "x"], [], -1, True])
def test_retry_delay_seconds_of_the_wrong_type_is_a_type_error(bad):
    with pytest.raises(TypeError, match="retry_delay_seconds"):
        task(retries=1, retry_delay_seconds=bad)(double)


def test_callable_retry_delay_returning_garbage_is_a_type_error():
    with pytest.raises(TypeError, match="retry_delay_seconds"):
        task(retries=2, retry_delay_seconds=lambda n: "soon")(double)


@pytest.mark.parametrize("option,value", [
    ("retries", -1), ("retries", 1.5), ("timeout_seconds", 0), ("timeout_seconds", "1"),
    ("retry_jitter_factor", -1), ("cache_expiration", 60), ("on_completion", [1]), ("tags", "abc"),
    ("log_prints", "yes"), ("task_run_name", 3),
])
def test_bad_option_values_are_type_errors_naming_the_option(option, value):
    with pytest.raises(TypeError, match=option):
        task(**{option: value})(double)


def test_bad_task_runner_is_a_type_error():
    with pytest.raises(TypeError, match="task_runner"):
        flow(task_runner="threads")(double)


def test_async_generator_functions_are_refused_clearly():
    async def gen():
        yield 1

    with pytest.raises(TypeError, match="async generator"):
        task(gen)


def test_calling_a_task_with_wrong_arguments_raises_type_error_before_any_run(sink):
    t = task(double)
    with pytest.raises(TypeError):
        t(1, 2)
    with pytest.raises(TypeError):
        t(y=1)
    assert sink.events == []


def test_task_on_a_method_binds_the_instance():
    class Greeter:
        def __init__(self, word):
            self.word = word

        @task
        def greet(self, name):
            return f"{self.word} {name}"

    assert Greeter("hi").greet("bob") == "hi bob"
