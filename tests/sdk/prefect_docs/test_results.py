"""Prefect's results page (advanced/results): `result_storage_key` names (and keys) a task's
result, `result_storage` picks the directory, `result_serializer` the format, and
`cache_result_in_memory` / block-valued options are accepted."""
from __future__ import annotations

import json
import warnings

from sdk import flow, task
from sdk.caching.result_store import FileResultStore
from sdk.engine.options import IgnoredOptionWarning


def test_result_storage_key_templates_the_key_from_parameters(tmp_path):
    calls = []

    @task(result_storage_key="hello-{parameters[name]}.pickle", result_storage=str(tmp_path))
    def hello_world(name: str = "world"):
        calls.append(name)
        return f"hello {name}"

    @flow
    def my_flow():
        return [hello_world(return_state=True).name, hello_world(name="foo", return_state=True).name,
                hello_world(name="bar", return_state=True).name, hello_world(name="foo", return_state=True).name]

    assert my_flow() == ["Completed", "Completed", "Completed", "Cached"]
    assert calls == ["world", "foo", "bar"]
    store = FileResultStore(str(tmp_path))
    assert store.read("hello-foo.pickle").value == "hello foo"
    assert len(list(tmp_path.iterdir())) == 3


def test_result_storage_key_can_use_runtime_names(tmp_path):
    @task(result_storage_key="{flow_run.name}-{task_run.task_name}", result_storage=tmp_path)
    def named():
        return 1

    @flow(flow_run_name="nightly")
    def my_flow():
        return named()

    my_flow()
    assert FileResultStore(str(tmp_path)).read("nightly-named").value == 1


def test_json_serializer_writes_json(tmp_path):
    @task(cache_policy=None, result_storage_key="k", result_storage=tmp_path, result_serializer="json")
    def numbers():
        return {"a": [1, 2]}

    assert numbers() == {"a": [1, 2]}
    (entry,) = tmp_path.iterdir()
    assert entry.read_bytes().splitlines()[-1] == json.dumps({"a": [1, 2]}).encode()
    assert numbers(return_state=True).result() == {"a": [1, 2]}


def test_cache_result_in_memory_is_accepted_on_flows_and_tasks():
    @flow(cache_result_in_memory=False)
    def foo():
        return "pretend this is large data"

    @task(cache_result_in_memory=False)
    def bar():
        return "pretend this is biiiig data"

    assert foo() == "pretend this is large data" and bar() == "pretend this is biiiig data"


def test_flow_result_options_are_accepted(tmp_path):
    @flow(persist_result=True, result_storage=str(tmp_path), result_serializer="json")
    def my_flow():
        return "result"

    assert my_flow() == "result"


def test_a_storage_block_without_a_path_is_ignored_with_one_warning():
    class S3BucketLike:
        bucket_name = "test-bucket"

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")

        @task(result_storage=S3BucketLike())
        def my_task():
            return 42

    assert my_task() == 42
    assert [str(w.message) for w in caught if w.category is IgnoredOptionWarning] == [
        f"result_storage={my_task._options['result_storage']!r} is not a directory: results go to the default store"]


def test_a_local_file_system_like_block_gives_its_basepath(tmp_path):
    class LocalFileSystem:
        def __init__(self, basepath):
            self.basepath = basepath

    @task(result_storage=LocalFileSystem(str(tmp_path)), persist_result=True)
    def my_task():
        return 42

    assert my_task.result_storage == str(tmp_path)


def test_persistence_on_a_flow_makes_its_tasks_persist_unless_they_say_otherwise(tmp_path):
    calls = []

    @task
    def my_task(x):
        calls.append(("default", x))
        return x

    unpersisted_task = my_task.with_options(persist_result=False)

    @flow(result_storage=str(tmp_path))
    def my_flow():
        return [my_task(1, return_state=True).name, my_task(1, return_state=True).name,
                unpersisted_task(2, return_state=True).name, unpersisted_task(2, return_state=True).name]

    assert my_flow() == ["Completed", "Cached", "Completed", "Completed"]
    assert len(list(tmp_path.iterdir())) == 1  # only my_task's record, in the flow's storage

    @flow
    def plain_flow():
        return [my_task(3, return_state=True).name, my_task(3, return_state=True).name]

    assert plain_flow() == ["Completed", "Completed"]


def test_result_storage_key_wins_over_a_cache_key_fn(tmp_path):
    @task(result_storage_key="fixed-{parameters[x]}", cache_key_fn=lambda ctx, params: "from-the-fn",
          result_storage=tmp_path)
    def both(x):
        return x

    both(1)
    store = FileResultStore(str(tmp_path))
    assert store.read("fixed-1").value == 1 and store.read("from-the-fn") is None
