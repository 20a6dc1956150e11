"""Prefect's caching concept page (concepts/caching): policies and how they combine, INPUTS minus
a parameter, cache key functions receiving the run context (with `task_run_id`, `flow_run_id`,
`task`), and `persist_result=False` never caching."""
from __future__ import annotations

from sdk import flow, task
from sdk.cache_policies import DEFAULT, FLOW_PARAMETERS, INPUTS, NO_CACHE, RUN_ID, TASK_SOURCE


def test_default_is_inputs_source_and_run_id():
    assert DEFAULT == INPUTS + TASK_SOURCE + RUN_ID


def test_task_source_plus_inputs_reruns_for_new_inputs():
    calls = []

    @task(cache_policy=TASK_SOURCE + INPUTS)
    def my_cached_task(x: int):
        calls.append(x)
        return x + 42

    assert [my_cached_task(1), my_cached_task(1), my_cached_task(2)] == [43, 43, 44]
    assert calls == [1, 2]


def test_inputs_minus_debug_still_uses_the_cache(capsys):
    @task(cache_policy=INPUTS - "debug")
    def my_cached_task(x: int, debug: bool = False):
        print("running...")
        return x + 42

    my_cached_task(1)
    my_cached_task(1, debug=True)
    assert capsys.readouterr().out == "running...\n"


def test_a_cache_key_function_gets_the_context_and_the_inputs():
    seen = []

    def static_cache_key(context, parameters):
        seen.append((context.task.name, context.task_run_id == context.task_run.id,
                     context.flow_run_id, dict(parameters)))
        return "static cache key"

    @task(cache_key_fn=static_cache_key)
    def my_cached_task(x: int):
        return x + 1

    @flow
    def f():
        return my_cached_task(1), my_cached_task(5, return_state=True).name

    assert f() == (2, "Cached")
    name, same_id, flow_run_id, parameters = seen[0]
    assert (name, same_id, parameters) == ("my_cached_task", True, {"x": 1}) and flow_run_id


def test_flow_parameters_policy_keys_on_the_flow_run_parameters():
    calls = []

    @task(cache_policy=FLOW_PARAMETERS)
    def depends_on_flow(y):
        calls.append(y)
        return y

    @flow
    def parent(p: int):
        return depends_on_flow(p * 10), depends_on_flow(-1)

    assert parent(1) == (10, 10)  # same flow parameters: the second call is cached
    assert calls == [10]


def test_no_cache_and_persist_result_false_never_cache():
    calls = []

    @task(cache_policy=NO_CACHE)
    def never(x):
        calls.append(x)

    @task(cache_policy=INPUTS, persist_result=False)
    def not_persisted(x):
        calls.append(x)

    never(1), never(1), not_persisted(2), not_persisted(2)
    assert calls == [1, 1, 2, 2]
