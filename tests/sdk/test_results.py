"""sdk.caching.result_store: the file result store under $ORCHESTRATOR_HOME/results."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from sdk.caching import result_store as results
from sdk.caching.result_store import FileResultStore, ResultStoreWarning, UnpersistableResultError, get_result_store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def store(home):
    return get_result_store()


def in_an_hour():
    return datetime.now(timezone.utc) + timedelta(hours=1)


def test_read_returns_what_write_stored(store):
    expiration = in_an_hour()
    store.write("k", {"answer": [42]}, expiration)
    record = store.read("k")
    assert record.value == {"answer": [42]}
    assert record.expiration == expiration
    assert record.created.tzinfo is not None


def test_read_of_a_missing_key_is_none(store):
    assert store.read("never-written") is None


def test_read_of_an_expired_entry_is_none(store):
    store.write("k", 1, datetime.now(timezone.utc) - timedelta(seconds=1))
    assert store.read("k") is None


def test_entry_expires_when_the_clock_passes_its_expiration(store, monkeypatch):
    store.write("k", 1, in_an_hour())
    assert store.read("k") is not None
    monkeypatch.setattr(results, "_now", lambda: datetime.now(timezone.utc) + timedelta(hours=2))
    assert store.read("k") is None


def test_entry_without_expiration_never_expires(store, monkeypatch):
    store.write("k", 1, None)
    monkeypatch.setattr(results, "_now", lambda: datetime.now(timezone.utc) + timedelta(days=3650))
    assert store.read("k").value == 1


def test_naive_expiration_is_taken_as_local_time(store):
    store.write("k", 1, datetime.now() + timedelta(hours=1))
    record = store.read("k")
    assert record is not None and record.expiration.tzinfo is not None


def test_write_replaces_an_existing_entry(store):
    store.write("k", "old")
    store.write("k", "new")
    assert store.read("k").value == "new"


def test_read_returns_a_copy_of_the_value(store):
    value = [1, 2]
    store.write("k", value)
    assert store.read("k").value == value
    assert store.read("k").value is not value


def test_store_lives_under_orchestrator_home_results(store, home):
    store.write("k", 1)
    files = list((home / "results").iterdir())
    assert len(files) == 1 and files[0].suffix == ".result"


def test_store_follows_orchestrator_home_at_the_time_of_use(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "a"))
    get_result_store().write("k", "a")
    monkeypatch.setenv("ORCHESTRATOR_HOME", str(tmp_path / "b"))
    assert get_result_store().read("k") is None
    assert get_result_store().root == str(tmp_path / "b" / "results")


def test_orchestrator_home_defaults_to_dot_orchestrator_in_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("ORCHESTRATOR_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_result_store().root == str(tmp_path / ".orchestrator" / "results")


def test_keys_with_any_characters_stay_inside_the_results_directory(store, home):
    odd = "../../etc/passwd\x00 ünï/cödé\\:*?" + "x" * 500
    store.write(odd, "v")
    assert store.read(odd).value == "v"
    assert Path(store.path_for(odd)).parent == home / "results"


def test_distinct_keys_are_distinct_entries(store):
    store.write("a", 1)
    store.write("b", 2)
    assert (store.read("a").value, store.read("b").value) == (1, 2)


def test_write_leaves_no_temporary_files(store, home):
    for i in range(5):
        store.write("k", i)
    assert [p.name for p in (home / "results").iterdir()] == [Path(store.path_for("k")).name]


def test_unpicklable_value_raises_and_writes_nothing(store, home):
    with pytest.raises(UnpersistableResultError, match="'k'"):
        store.write("k", lambda: 1)
    assert not (home / "results").exists() or list((home / "results").iterdir()) == []


def corrupt(store, key, damage):
    store.write(key, {"big": "x" * 1000})
    path = Path(store.path_for(key))
    path.write_bytes(damage(path.read_bytes()))


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: b"\x00garbage\xff" * 10, id="garbage"),
        pytest.param(lambda data: data[:-10] + bytes(10), id="flipped-payload-bytes"),
        pytest.param(lambda data: data.replace(b'"size"', b'"sizx"'), id="broken-header"),
        pytest.param(lambda data: data.replace(b'+00:00"', b'"'), id="naive-timestamps"),
    ],
)
def test_corrupt_entry_is_a_miss_with_one_warning_naming_the_key(store, damage):
    corrupt(store, "my-key", damage)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert store.read("my-key") is None
    assert len(caught) == 1
    assert caught[0].category is ResultStoreWarning
    assert "'my-key'" in str(caught[0].message)


def test_unreadable_entry_is_a_miss_with_a_warning(store):
    Path(store.path_for("k")).mkdir(parents=True)  # open() fails on a directory, even as root
    with pytest.warns(ResultStoreWarning, match="'k'"):
        assert store.read("k") is None


def test_corrupt_entry_is_replaced_by_the_next_write(store):
    corrupt(store, "k", lambda data: data[:20])
    store.write("k", "fresh")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.read("k").value == "fresh"


def test_an_entry_written_for_another_key_is_not_returned(store):
    store.write("a", 1)
    other = FileResultStore(store.root)
    os.replace(other.path_for("a"), other.path_for("b"))
    with pytest.warns(ResultStoreWarning, match="another key"):
        assert store.read("b") is None


WRITER = """
import sys
from sdk.caching.result_store import get_result_store
store, marker = get_result_store(), int(sys.argv[1])
for i in range(40):
    store.write("shared", bytes([marker]) * 500_000 + bytes([i]))
"""


def test_concurrent_writers_in_several_processes_never_produce_a_torn_read(home):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ORCHESTRATOR_HOME": str(home)}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(marker)], env=env, cwd=ROOT) for marker in (1, 2, 3)
    ]
    store, seen, deadline = get_result_store(), set(), time.monotonic() + 90
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResultStoreWarning)
            while any(w.poll() is None for w in writers):
                assert time.monotonic() < deadline, "writers did not finish in time"
                record = store.read("shared")
                if record is not None:
                    body = record.value[:-1]
                    assert len(body) == 500_000 and body.count(body[:1]) == len(body)
                    seen.add(body[0])
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
            w.wait(timeout=10)
    assert seen, "the reader never saw an entry while the writers were running"
    assert [w.returncode for w in writers] == [0, 0, 0]
    assert store.read("shared").value[0] in (1, 2, 3)
    assert list((home / "results").glob(".tmp-*")) == []
