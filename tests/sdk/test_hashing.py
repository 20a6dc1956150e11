"""sdk.caching.hashing: task keys and value hashes that are the same in every process."""
from __future__ import annotations

import collections
import dataclasses
import enum
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sdk.caching.hashing import UnhashableError, hash_objects, hash_source, task_key

ROOT = Path(__file__).resolve().parents[2]


def add(a, b):
    return a + b


def subtract(a, b):
    return a - b


@dataclasses.dataclass
class Point:
    x: int
    y: list


Pair = collections.namedtuple("Pair", "left right")


class Colour(enum.Enum):
    RED = 1
    BLUE = 2


class Plain:
    def __init__(self, tags):
        self.tags = tags


SAMPLE_MODULE = """
import dataclasses


def add(a, b):
    return a + b


class Plain:
    def __init__(self, tags):
        self.tags = tags


@dataclasses.dataclass
class Point:
    x: int
    y: list


VALUE = {"b": {"x", "y", "z"}, "a": frozenset("abc"), "p": Plain({"q", "r"}), "pt": Point(1, ["s"])}
"""


@pytest.fixture
def sample_module(tmp_path, monkeypatch):
    """A module importable here and in subprocesses under the same name."""
    (tmp_path / "hashing_sample.py").write_text(SAMPLE_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "hashing_sample", raising=False)
    import hashing_sample

    return hashing_sample


def run_python(code: str, hashseed: str, path: Path) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hashseed, "PYTHONPATH": f"{path}{os.pathsep}{ROOT}"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return out.stdout.strip()


def test_task_key_is_name_dash_eight_hex_chars():
    key = task_key(add, "add")
    name, digest = key.rsplit("-", 1)
    assert name == "add"
    assert len(digest) == 8 and int(digest, 16) >= 0


def test_task_key_is_the_same_for_the_same_function_and_name():
    assert task_key(add, "add") == task_key(add, "add")


def test_task_key_differs_by_name():
    assert task_key(add, "add") != task_key(add, "plus")


def test_task_key_differs_by_function():
    assert task_key(add, "op") != task_key(subtract, "op")


def test_task_key_is_the_same_in_processes_with_different_hash_seeds(sample_module, tmp_path):
    code = "import hashing_sample; from sdk.caching.hashing import task_key; print(task_key(hashing_sample.add, 'add'))"
    expected = task_key(sample_module.add, "add")
    assert run_python(code, "1", tmp_path) == run_python(code, "2", tmp_path) == expected


def test_hash_objects_is_the_same_in_processes_with_different_hash_seeds(sample_module, tmp_path):
    code = "import hashing_sample; from sdk.caching.hashing import hash_objects; print(hash_objects(hashing_sample.VALUE))"
    expected = hash_objects(sample_module.VALUE)
    assert run_python(code, "1", tmp_path) == run_python(code, "99", tmp_path) == expected


def test_hash_objects_returns_a_hex_string():
    digest = hash_objects(1, "a")
    assert isinstance(digest, str) and int(digest, 16) >= 0


def test_hash_objects_ignores_dict_insertion_order():
    assert hash_objects({"a": 1, "b": 2}) == hash_objects({"b": 2, "a": 1})


def test_hash_objects_ignores_set_order():
    assert hash_objects({3, 1, 2}) == hash_objects({2, 3, 1})


def test_hash_objects_tells_scalars_of_different_types_apart():
    digests = {hash_objects(v) for v in (1, 1.0, True, "1", b"1", None)}
    assert len(digests) == 6


def test_hash_objects_tells_list_and_tuple_apart():
    assert hash_objects([1, 2]) != hash_objects((1, 2))


def test_hash_objects_tells_int_and_str_dict_keys_apart():
    assert hash_objects({1: "a"}) != hash_objects({"1": "a"})


def test_hash_objects_depends_on_argument_order():
    assert hash_objects(1, 2) != hash_objects(2, 1)


def test_hash_objects_hashes_dataclasses_by_field_values():
    assert hash_objects(Point(1, [2])) == hash_objects(Point(1, [2]))
    assert hash_objects(Point(1, [2])) != hash_objects(Point(1, [3]))


def test_hash_objects_hashes_named_tuples_by_value_and_type():
    assert hash_objects(Pair(1, 2)) == hash_objects(Pair(1, 2))
    assert hash_objects(Pair(1, 2)) != hash_objects((1, 2))


def test_hash_objects_hashes_pydantic_models_by_field_values():
    pydantic = pytest.importorskip("pydantic")

    class Model(pydantic.BaseModel):
        a: int
        b: set[str]

    assert hash_objects(Model(a=1, b={"x", "y"})) == hash_objects(Model(a=1, b={"y", "x"}))
    assert hash_objects(Model(a=1, b=set())) != hash_objects(Model(a=2, b=set()))


def test_hash_objects_hashes_enums_by_member():
    assert hash_objects(Colour.RED) == hash_objects(Colour.RED)
    assert hash_objects(Colour.RED) != hash_objects(Colour.BLUE)


def test_hash_objects_hashes_plain_objects_by_their_attributes():
    assert hash_objects(Plain(["a"])) == hash_objects(Plain(["a"]))
    assert hash_objects(Plain(["a"])) != hash_objects(Plain(["b"]))


def test_hash_objects_hashes_value_types_by_value():
    import datetime
    import decimal
    import uuid

    values = [datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc), decimal.Decimal("1.5"), uuid.UUID(int=7), Path("/x")]
    assert [hash_objects(v) for v in values] == [hash_objects(v) for v in values]
    assert hash_objects(decimal.Decimal("1.5")) != hash_objects(decimal.Decimal("1.50"))


def test_hash_objects_hashes_functions_by_code_and_closure():
    def make(n):
        return lambda x: x + n

    assert hash_objects(make(1)) == hash_objects(make(1))
    assert hash_objects(make(1)) != hash_objects(make(2))
    assert hash_objects(add) != hash_objects(subtract)


def test_hash_objects_survives_reference_cycles():
    a: list = [1]
    a.append(a)
    assert hash_objects(a) is not None


def test_hash_objects_returns_none_for_a_lock():
    assert hash_objects({"lock": threading.Lock()}) is None


def test_hash_objects_raises_with_the_path_to_the_unhashable_part_when_asked():
    with pytest.raises(UnhashableError) as info:
        hash_objects({"conn": [1, threading.Lock()]}, raise_on_failure=True)
    assert info.value.path == "['conn'][1]"
    assert "lock" in str(info.value)


def test_hash_objects_returns_none_for_a_generator():
    assert hash_objects(x for x in range(3)) is None


def test_hash_source_is_the_same_for_the_same_function():
    assert hash_source(add) == hash_source(add)


def test_hash_source_differs_for_different_source():
    assert hash_source(add) != hash_source(subtract)


def test_hash_source_falls_back_to_the_code_when_source_is_unavailable():
    namespace: dict = {}
    exec("def f(x):\n    return x + 1\n\ndef g(x):\n    return x + 2\n", namespace)
    assert hash_source(namespace["f"]) == hash_source(namespace["f"])
    assert hash_source(namespace["f"]) != hash_source(namespace["g"])


def test_hash_source_accepts_a_callable_object():
    class Adder:
        def __call__(self, a, b):
            return a + b

    assert hash_source(Adder()) == hash_source(Adder())
