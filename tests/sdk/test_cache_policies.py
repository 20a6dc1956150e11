"""sdk.cache_policies against duck-typed run contexts (no engine needed)."""
from __future__ import annotations

import threading
import uuid
from types import SimpleNamespace

import pytest

from sdk import cache_policies
from sdk.cache_policies import (
    DEFAULT,
    FLOW_PARAMETERS,
    INPUTS,
    NO_CACHE,
    RUN_ID,
    TASK_SOURCE,
    CacheKeyError,
    CacheKeyFnError,
    CacheKeyFnPolicy,
    CachePolicy,
    CompoundCachePolicy,
    Inputs,
    UnhashableInputsError,
    effective_policy,
)


def double(x):
    return 2 * x


def triple(x):
    return 3 * x


def make_ctx(fn=double, name="double", flow_run_id="flow-run-1", task_run_id="task-run-1"):
    task = SimpleNamespace(fn=fn, name=name, task_key=f"{name}-00000000")
    task_run = SimpleNamespace(id=task_run_id, name=f"{name}-0", run_count=1, flow_run_id=flow_run_id)
    return SimpleNamespace(task=task, task_run=task_run, parameters={})


def key(policy, ctx=None, inputs=None, flow_parameters=None):
    return policy.compute_key(ctx if ctx is not None else make_ctx(), inputs or {}, flow_parameters)


def test_constants_are_cache_policies():
    for policy in (DEFAULT, INPUTS, TASK_SOURCE, FLOW_PARAMETERS, RUN_ID, NO_CACHE):
        assert isinstance(policy, CachePolicy)


def test_inputs_gives_the_same_key_for_the_same_inputs():
    assert key(INPUTS, inputs={"x": 1, "y": [1, 2]}) == key(INPUTS, inputs={"y": [1, 2], "x": 1})


def test_inputs_gives_a_different_key_for_different_inputs():
    assert key(INPUTS, inputs={"x": 1}) != key(INPUTS, inputs={"x": 2})


def test_inputs_gives_a_different_key_for_a_different_parameter_name():
    assert key(INPUTS, inputs={"x": 1}) != key(INPUTS, inputs={"y": 1})


def test_inputs_without_inputs_gives_no_key():
    assert key(INPUTS, inputs={}) is None


def test_inputs_key_ignores_the_task_and_run():
    inputs = {"x": 1}
    assert key(INPUTS, make_ctx(triple, "triple", "other-flow"), inputs) == key(INPUTS, make_ctx(), inputs)


def test_inputs_minus_a_parameter_ignores_that_parameter():
    policy = INPUTS - "debug"
    assert key(policy, inputs={"x": 1, "debug": True}) == key(policy, inputs={"x": 1, "debug": False})
    assert key(policy, inputs={"x": 1, "debug": True}) != key(policy, inputs={"x": 2, "debug": True})


def test_inputs_minus_several_parameters_ignores_all_of_them():
    policy = INPUTS - "a" - "b"
    assert key(policy, inputs={"x": 1, "a": 1, "b": 1}) == key(policy, inputs={"x": 1, "a": 2, "b": 2})


def test_subtracting_does_not_change_the_original_policy():
    _ = INPUTS - "x"
    assert INPUTS == Inputs()


def test_subtracting_a_non_string_raises_type_error():
    with pytest.raises(TypeError, match="parameter name"):
        INPUTS - 3  # type: ignore[operator]


def test_inputs_can_exclude_an_unhashable_parameter():
    policy = INPUTS - "lock"
    assert key(policy, inputs={"x": 1, "lock": threading.Lock()}) is not None


def test_unhashable_input_raises_an_error_naming_the_parameter_and_the_remedies():
    with pytest.raises(UnhashableInputsError) as info:
        key(INPUTS, inputs={"x": 1, "lock": threading.Lock()})
    message = str(info.value)
    assert info.value.parameter == "lock"
    assert "'lock'" in message and "'double'" in message
    assert "cache_key_fn" in message and "NO_CACHE" in message


def test_unhashable_input_error_is_a_value_error_and_a_cache_key_error():
    with pytest.raises(ValueError) as info:
        key(INPUTS, inputs={"lock": threading.Lock()})
    assert isinstance(info.value, CacheKeyError)


def test_task_source_is_the_same_for_the_same_function():
    assert key(TASK_SOURCE, make_ctx(double)) == key(TASK_SOURCE, make_ctx(double, flow_run_id="other"))


def test_task_source_differs_between_functions():
    assert key(TASK_SOURCE, make_ctx(double)) != key(TASK_SOURCE, make_ctx(triple))


def test_task_source_without_a_context_gives_no_key():
    assert TASK_SOURCE.compute_key(None, {}, None) is None


def test_flow_parameters_differ_by_parameters():
    assert key(FLOW_PARAMETERS, flow_parameters={"n": 1}) != key(FLOW_PARAMETERS, flow_parameters={"n": 2})


def test_flow_parameters_ignore_task_inputs():
    params = {"n": 1}
    assert key(FLOW_PARAMETERS, inputs={"x": 1}, flow_parameters=params) == key(
        FLOW_PARAMETERS, inputs={"x": 2}, flow_parameters=params
    )


def test_flow_parameters_outside_a_flow_give_no_key():
    assert key(FLOW_PARAMETERS, flow_parameters=None) is None
    assert key(FLOW_PARAMETERS, flow_parameters={}) is None


def test_unhashable_flow_parameter_raises_an_error_naming_it():
    with pytest.raises(UnhashableInputsError, match="flow parameter 'conn'"):
        key(FLOW_PARAMETERS, flow_parameters={"conn": threading.Lock()})


def test_run_id_is_the_flow_run_id():
    flow_run_id = uuid.uuid4()
    assert key(RUN_ID, make_ctx(flow_run_id=flow_run_id)) == str(flow_run_id)


def test_run_id_outside_a_flow_is_the_task_run_id():
    assert key(RUN_ID, make_ctx(flow_run_id=None, task_run_id="tr-9")) == "tr-9"


def test_run_id_without_a_context_gives_no_key():
    assert RUN_ID.compute_key(None, {}, None) is None


def test_no_cache_gives_no_key():
    assert key(NO_CACHE, inputs={"x": 1}, flow_parameters={"n": 1}) is None


def test_adding_no_cache_is_a_no_op_as_in_prefect():
    assert INPUTS + NO_CACHE is INPUTS
    assert NO_CACHE + INPUTS is INPUTS
    assert (INPUTS + RUN_ID) + NO_CACHE == INPUTS + RUN_ID


def test_compound_key_changes_when_any_part_changes():
    policy = INPUTS + RUN_ID
    base = key(policy, make_ctx(flow_run_id="a"), {"x": 1})
    assert key(policy, make_ctx(flow_run_id="b"), {"x": 1}) != base
    assert key(policy, make_ctx(flow_run_id="a"), {"x": 2}) != base
    assert key(policy, make_ctx(flow_run_id="a"), {"x": 1}) == base


def test_compound_skips_parts_without_a_key():
    policy = INPUTS + RUN_ID
    assert key(policy, make_ctx(flow_run_id="a"), {}) is not None
    assert key(policy, make_ctx(flow_run_id="a"), {}) != key(policy, make_ctx(flow_run_id="b"), {})


def test_compound_without_any_part_key_gives_no_key():
    assert key(INPUTS + FLOW_PARAMETERS, inputs={}, flow_parameters=None) is None


def test_compound_key_does_not_depend_on_the_order_of_parts():
    ctx, inputs = make_ctx(), {"x": 1}
    assert key(INPUTS + TASK_SOURCE, ctx, inputs) == key(TASK_SOURCE + INPUTS, ctx, inputs)


def test_compound_key_differs_from_its_single_part():
    ctx = make_ctx()
    assert key(RUN_ID + FLOW_PARAMETERS, ctx) != key(RUN_ID, ctx)


def test_compounds_flatten():
    policy = (INPUTS + TASK_SOURCE) + (RUN_ID + FLOW_PARAMETERS)
    assert isinstance(policy, CompoundCachePolicy)
    assert len(policy.policies) == 4


def test_compound_minus_a_parameter_excludes_it_from_inputs():
    policy = INPUTS + RUN_ID - "debug"
    ctx = make_ctx()
    assert key(policy, ctx, {"x": 1, "debug": 1}) == key(policy, ctx, {"x": 1, "debug": 2})


def test_compound_merges_inputs_parts_and_keeps_every_exclusion():
    policy = (INPUTS - "a") + (INPUTS - "b")
    inputs_parts = [p for p in policy.policies if isinstance(p, Inputs)]
    assert inputs_parts == [Inputs(["a", "b"])]


def test_default_is_inputs_plus_task_source_plus_run_id():
    assert DEFAULT == INPUTS + TASK_SOURCE + RUN_ID
    assert cache_policies.DEFAULT is DEFAULT


def test_default_key_changes_with_inputs_source_and_run():
    base = key(DEFAULT, make_ctx(), {"x": 1})
    assert key(DEFAULT, make_ctx(), {"x": 1}) == base
    assert key(DEFAULT, make_ctx(), {"x": 2}) != base
    assert key(DEFAULT, make_ctx(fn=triple), {"x": 1}) != base
    assert key(DEFAULT, make_ctx(flow_run_id="flow-run-2"), {"x": 1}) != base


def test_cache_key_fn_policy_returns_the_functions_key():
    policy = CachePolicy.from_cache_key_fn(lambda ctx, params: f"{ctx.task.name}:{params['x']}")
    assert key(policy, inputs={"x": 5}) == "double:5"


def test_cache_key_fn_returning_none_gives_no_key():
    assert key(CacheKeyFnPolicy(lambda ctx, params: None)) is None


def test_cache_key_fn_that_raises_gives_an_error_naming_it_and_the_task():
    def broken_key(ctx, params):
        raise RuntimeError("boom")

    with pytest.raises(CacheKeyFnError) as info:
        key(CacheKeyFnPolicy(broken_key), inputs={"x": 1})
    assert "broken_key" in str(info.value) and "'double'" in str(info.value) and "boom" in str(info.value)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_cache_key_fn_returning_a_non_string_is_an_error():
    with pytest.raises(CacheKeyFnError, match="must return a str or None"):
        key(CacheKeyFnPolicy(lambda ctx, params: 42))


def test_cache_key_fn_must_be_callable():
    with pytest.raises(TypeError, match="callable"):
        CacheKeyFnPolicy("not a function")  # type: ignore[arg-type]


def test_effective_policy_is_none_without_policy_or_key_fn():
    assert effective_policy(None, None) is None


def test_effective_policy_is_none_for_no_cache():
    assert effective_policy(NO_CACHE, None) is None


def test_effective_policy_prefers_cache_key_fn():
    def key_fn(ctx, params):
        return "k"

    assert effective_policy(INPUTS, key_fn) == CacheKeyFnPolicy(key_fn)


def test_effective_policy_rejects_a_non_policy():
    with pytest.raises(TypeError, match="CachePolicy"):
        effective_policy("inputs", None)  # type: ignore[arg-type]


def test_policies_compare_by_value():
    assert INPUTS - "a" == Inputs(["a"])
    assert INPUTS + RUN_ID == INPUTS + RUN_ID
    assert INPUTS != RUN_ID
