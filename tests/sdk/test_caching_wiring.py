"""The engine's calls into the caching interface (end to end caching: test_caching.py)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sdk import flow, task
from sdk.cache_policies import CachePolicy, CacheKeyFnError

from .conftest import created, state_names


class FixedKey(CachePolicy):
    def __init__(self, key):
        self.key = key
        self.calls = []

    def compute_key(self, task_ctx, inputs, flow_parameters, **kwargs):
        self.calls.append((task_ctx, inputs, flow_parameters))
        return self.key


class FakeStore:
    def __init__(self):
        self.data = {}
        self.writes = []

    def read(self, key):
        return self.data.get(key)

    def write(self, key, value, expiration=None):
        self.writes.append((key, value, expiration))

        class Record:
            pass

        record = Record()
        record.value = value
        self.data[key] = record
        return record


@pytest.fixture
def store(monkeypatch):
    fake = FakeStore()
    monkeypatch.setattr("sdk.caching.result_store.get_result_store", lambda: fake)
    return fake


def test_policy_gets_the_run_context_inputs_and_flow_parameters(store):
    policy = FixedKey("k")

    @task(cache_policy=policy)
    def t(x):
        return x

    @flow
    def f(p):
        return t(p + 1)

    f(1)
    ((ctx, inputs, flow_parameters),) = policy.calls
    assert inputs == {"x": 2} and flow_parameters == {"p": 1}
    assert ctx.task is t and ctx.parameters == {"x": 2}
    assert ctx.task_run.run_count == 1 and ctx.task_run.flow_run_id is not None
    assert ctx.task.fn is t.fn and ctx.task.task_key == t.task_key


def test_hit_returns_the_stored_value_without_running(store, sink):
    calls = []

    @task(cache_policy=FixedKey("k"))
    def t():
        calls.append(1)
        return "fresh"

    assert t() == "fresh"
    assert t() == "fresh"
    assert calls == [1]
    second = created(sink, "task_run", "t")[1]["task_run_id"]
    assert state_names(sink, second)[-1] == "Cached"


def test_write_uses_now_plus_cache_expiration(store):
    task(cache_policy=FixedKey("k"), cache_expiration=timedelta(hours=1), name="t")(lambda: 1)()
    ((key, value, expiration),) = store.writes
    assert (key, value) == ("k", 1)
    assert abs(expiration - (datetime.now(timezone.utc) + timedelta(hours=1))) < timedelta(seconds=5)


def test_no_expiration_writes_none(store):
    task(cache_policy=FixedKey("k"), name="t")(lambda: 1)()
    assert store.writes[0][2] is None


def test_persist_result_false_does_not_write(store):
    task(cache_policy=FixedKey("k"), persist_result=False, name="t")(lambda: 1)()
    assert store.writes == []


def test_refresh_cache_runs_and_writes_again(store):
    calls = []
    t = task(cache_policy=FixedKey("k"), refresh_cache=True, name="t")(lambda: calls.append(1) or len(calls))
    t()
    t()
    assert calls == [1, 1] and len(store.writes) == 2


def test_none_key_caches_nothing(store):
    task(cache_policy=FixedKey(None), name="t")(lambda: 1)()
    assert store.writes == []


def test_task_without_caching_options_never_touches_the_store(store):
    task(lambda: 1, name="t")()
    assert store.writes == []


def test_cache_key_fn_that_raises_fails_the_run_without_running(store):
    calls = []

    def key_fn(context, parameters):
        raise RuntimeError("no key")

    t = task(cache_key_fn=key_fn, name="t")(lambda: calls.append(1))
    state = t(return_state=True)
    assert state.is_failed() and calls == []
    with pytest.raises(CacheKeyFnError, match="no key"):
        t()


def test_failed_run_is_not_written(store):
    def bad():
        raise ValueError("x")

    task(cache_policy=FixedKey("k"), name="t")(bad)(return_state=True)
    assert store.writes == []


def test_task_input_hash_keys_on_the_arguments(store):
    from sdk.tasks import task_input_hash

    calls = []
    t = task(cache_key_fn=task_input_hash, name="t")(lambda x: calls.append(x) or x)
    assert (t(1), t(1), t(2)) == (1, 1, 2)
    assert calls == [1, 2]
