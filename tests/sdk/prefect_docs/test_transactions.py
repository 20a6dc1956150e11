"""Prefect's transactions page (advanced/transactions): rollback hooks undo a staged task's side
effect when a later step fails, commit hooks run at commit, keyed transactions are idempotent,
SERIALIZABLE isolation with a lock manager lets one of two racing runs do the work, and values
set on a transaction are visible to its hooks."""
from __future__ import annotations

import threading
import uuid

import pytest

from sdk import flow, task
from sdk.locking.filesystem import FileSystemLockManager
from sdk.locking.memory import MemoryLockManager
from sdk.results import ResultStore
from sdk.transactions import (CommitMode, IsolationLevel, Transaction, get_transaction, transaction)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_pipeline(events: list):
    @task
    def write_file(contents: str):
        with open("side-effect.txt", "w") as f:
            f.write(contents)

    @write_file.on_rollback
    def del_file(txn):
        events.append("rollback")
        import os

        os.unlink("side-effect.txt")

    @write_file.on_commit
    def confirmation(txn):
        events.append("commit")

    @task
    def quality_test():
        with open("side-effect.txt") as f:
            data = f.readlines()
        if len(data) < 2:
            raise ValueError("Not enough data!")

    @flow
    def pipeline(contents: str):
        with transaction():
            write_file(contents)
            quality_test()

    return pipeline


def test_a_failed_step_rolls_back_the_staged_write(workdir):
    events = []
    state = make_pipeline(events)(contents="hello world", return_state=True)
    assert state.is_failed()
    assert not (workdir / "side-effect.txt").exists()
    assert events == ["rollback"]


def test_a_transaction_that_succeeds_commits_and_runs_commit_hooks(workdir):
    events = []
    make_pipeline(events)(contents="hello\nworld")
    assert (workdir / "side-effect.txt").read_text() == "hello\nworld"
    assert events == ["commit"]


def test_a_keyed_transaction_runs_its_work_once(workdir, capsys):
    @task
    def download_data():
        return "some data"

    @task
    def write_data(data: str):
        with open("data.txt", "w") as f:
            f.write(data)

    @flow(log_prints=True)
    def pipeline():
        with transaction(key="download-and-write-data") as txn:
            if txn.is_committed():
                print("Data file has already been written. Exiting early.")
                return "early"
            write_data(download_data())
            return "wrote"

    assert pipeline() == "wrote"
    assert (workdir / "data.txt").read_text() == "some data"
    assert pipeline() == "early"
    assert "Data file has already been written. Exiting early." in capsys.readouterr().out


@pytest.mark.parametrize("lock_manager", ["memory", "filesystem"])
def test_serializable_isolation_lets_one_of_two_racing_runs_write(workdir, lock_manager):
    winners = []
    manager = MemoryLockManager() if lock_manager == "memory" else FileSystemLockManager(workdir / "locks")

    @task
    def download_data():
        return f"{threading.current_thread().name} is the winner!"

    @task
    def write_file(contents: str):
        winners.append(contents)
        with open("race-condition.txt", "w") as f:
            f.write(contents)

    @flow
    def pipeline(transaction_key: str):
        with transaction(key=transaction_key, isolation_level=IsolationLevel.SERIALIZABLE,
                         store=ResultStore(lock_manager=manager)) as txn:
            if txn.is_committed():
                return
            write_file(download_data())

    key = f"race-condition-{uuid.uuid4()}"
    threads = [threading.Thread(target=pipeline, name=f"Thread {i}", args=(key,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(winners) == 1
    assert (workdir / "race-condition.txt").read_text() == winners[0]
    assert not manager.is_locked(key)


def test_serializable_without_a_lock_manager_is_a_clear_error():
    with pytest.raises(ValueError, match="lock manager"):
        with transaction(key="k", isolation_level=IsolationLevel.SERIALIZABLE):
            pass


def test_values_set_on_the_transaction_reach_the_rollback_hook(workdir):
    seen = []

    @task
    def write_file(filename: str, contents: str):
        with open(filename, "w") as f:
            f.write(contents)

    @write_file.on_rollback
    def del_file(txn):
        seen.append(txn.get("filename"))
        import os

        os.unlink(txn.get("filename"))

    @task
    def quality_test(filename):
        with open(filename) as f:
            if len(f.readlines()) < 2:
                raise ValueError("Not enough data!")

    @flow
    def pipeline(filename: str, contents: str):
        with transaction() as txn:
            txn.set("filename", filename)
            write_file(filename, contents)
            quality_test(filename)

    assert pipeline(filename="side-effect.txt", contents="hello world", return_state=True).is_failed()
    assert seen == ["side-effect.txt"] and not (workdir / "side-effect.txt").exists()


def test_get_transaction_and_lifecycle_states():
    assert get_transaction() is None
    with transaction() as txn:
        assert get_transaction() is txn and txn.is_active()
        txn.set("a", 1)
        with transaction(commit_mode=CommitMode.EAGER) as inner:
            assert inner.get("a") == 1 and inner.get_parent() is txn
        assert inner.is_committed()
        with pytest.raises(ValueError):
            txn.get("missing")
        assert txn.get("missing", "default") == "default"
    assert txn.is_committed() and get_transaction() is None
    off = Transaction(commit_mode=CommitMode.OFF)
    with off:
        pass
    assert off.is_rolled_back()
