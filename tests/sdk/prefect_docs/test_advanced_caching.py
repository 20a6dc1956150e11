"""Prefect's "customize caching behavior" page (advanced/caching): key storage, isolation of
concurrent runs of one key, cache writes only at transaction commit, and inputs that cannot
be pickled (a custom cache key function, or a pydantic `model_serializer`)."""
from __future__ import annotations

import threading

from pydantic import BaseModel, ConfigDict, model_serializer

from sdk import flow, task
from sdk.cache_policies import INPUTS, RUN_ID, TASK_SOURCE, CacheKeyFnPolicy
from sdk.context import TaskRunContext
from sdk.locking.memory import MemoryLockManager
from sdk.transactions import IsolationLevel, transaction


def test_key_storage_keeps_cache_records_in_the_given_directory(tmp_path):
    cache_policy = (TASK_SOURCE + INPUTS).configure(key_storage=str(tmp_path / "cache-records"))

    @task(cache_policy=cache_policy)
    def my_cached_task(x: int):
        return x + 42

    assert my_cached_task(1) == 43
    assert my_cached_task(1, return_state=True).name == "Cached"
    assert list((tmp_path / "cache-records").iterdir())


def run_racing(cache_policy, x):
    ran = []
    gate = threading.Barrier(2, timeout=30)

    @task(cache_policy=cache_policy)
    def my_task_version_1(x: int):
        ran.append("my_task_version_1")
        return x + 42

    @task(cache_policy=cache_policy)
    def my_task_version_2(x: int):
        ran.append("my_task_version_2")
        return x + 43

    def start(t):
        gate.wait()
        t(x)

    threads = [threading.Thread(target=start, args=(t,)) for t in (my_task_version_1, my_task_version_2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return ran


def test_serializable_isolation_runs_one_and_caches_the_other():
    cache_policy = INPUTS.configure(isolation_level=IsolationLevel.SERIALIZABLE, lock_manager=MemoryLockManager())
    assert len(run_racing(cache_policy, 2)) == 1


def test_read_committed_isolation_does_not_stop_concurrent_runs_of_a_fresh_key():
    # both may run; at least one does (the page: "both tasks will execute in parallel")
    assert 1 <= len(run_racing(INPUTS, 1)) <= 2


def test_caches_are_written_only_when_the_transaction_commits():
    @task(cache_key_fn=lambda *args, **kwargs: "static-key-1")
    def load_data():
        return "some-data"

    @task(cache_key_fn=lambda *args, **kwargs: "static-key-2")
    def process_data(data, fail):
        if fail:
            raise RuntimeError("Error! Abort!")
        return len(data)

    @flow
    def multi_task_cache(fail: bool = True):
        with transaction():
            first = load_data(return_state=True)
            second = process_data(data=first.result(), fail=fail, return_state=True)
            second.result()
        return first.name, second.name

    assert multi_task_cache(return_state=True).is_failed()
    # nothing was cached by the failed run: both run again, then both are cached
    assert multi_task_cache(fail=False) == ("Completed", "Completed")
    assert multi_task_cache(fail=False) == ("Cached", "Cached")


class NotSerializable:
    def __getstate__(self):
        raise TypeError("NooOoOOo! I will not be serialized!")


class ContainsNonSerializableObject(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    bad_object: NotSerializable


class SerializesOnlyItsName(ContainsNonSerializableObject):
    @model_serializer
    def ser_model(self) -> dict:
        return {"name": self.name}


def test_a_custom_cache_key_function_avoids_hashing_the_object():
    def custom_cache_key_fn(context: TaskRunContext, parameters: dict) -> str:
        return parameters["some_object"].name

    @task(cache_policy=CacheKeyFnPolicy(cache_key_fn=custom_cache_key_fn) + RUN_ID)
    def use_object(some_object: ContainsNonSerializableObject) -> str:
        return f"Used {some_object.name}"

    @flow
    def demo_flow():
        obj = ContainsNonSerializableObject(name="test", bad_object=NotSerializable())
        state = use_object(obj, return_state=True)
        other_state = use_object(obj, return_state=True)
        return state.name, other_state.name, state.result() == other_state.result()

    assert demo_flow() == ("Completed", "Cached", True)


def test_a_model_serializer_decides_what_is_hashed():
    @task(cache_policy=INPUTS + RUN_ID)
    def use_object(some_object: SerializesOnlyItsName) -> str:
        return f"Used {some_object.name}"

    @flow
    def demo_flow():
        some_object = SerializesOnlyItsName(name="test", bad_object=NotSerializable())
        state = use_object(some_object, return_state=True)
        other_state = use_object(some_object, return_state=True)
        return state.name, other_state.name

    assert demo_flow() == ("Completed", "Cached")
