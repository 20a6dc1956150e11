"""Transactions (Prefect's `prefect.transactions`): group work so that it commits or rolls
back as one.

    with transaction(key="download-and-write-data") as txn:
        if txn.is_committed():
            return                      # a record at the key: this work was done before
        write_file(data)                # its task transaction is staged inside this one

Lifecycle: BEGIN (a record already at `key` means committed; SERIALIZABLE isolation takes
a lock on the key first), STAGE (a task run that completes stages its result and hooks in
the innermost transaction), then ROLLBACK on any error in the block (each staged task's
`on_rollback` hooks run, newest first) or COMMIT at the end (children first: each task's
cache record is written and its `on_commit` hooks run, then the transaction's own record
at `key`). A nested transaction with the default LAZY commit mode leaves its commit to its
parent; EAGER commits at its own end; OFF never commits.
"""
from __future__ import annotations

import contextvars
import enum
import logging
import os
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from sdk.context import transaction_var

__all__ = ["IsolationLevel", "CommitMode", "TransactionState", "Transaction", "transaction",
           "get_transaction"]

_log = logging.getLogger("sdk.engine")
_NOT_SET = object()


class IsolationLevel(str, enum.Enum):
    READ_COMMITTED = "READ_COMMITTED"
    SERIALIZABLE = "SERIALIZABLE"


class CommitMode(str, enum.Enum):
    EAGER = "EAGER"
    LAZY = "LAZY"
    OFF = "OFF"


class TransactionState(str, enum.Enum):
    PENDING = "PENDING"
    ACTIVE = "ACTIVE"
    STAGED = "STAGED"
    COMMITTED = "COMMITTED"
    ROLLED_BACK = "ROLLED_BACK"


_current: contextvars.ContextVar[Transaction | None] = transaction_var


def get_transaction() -> Transaction | None:
    """The innermost active transaction, or None."""
    return _current.get()


def _default_store() -> Any:
    from sdk.caching.result_store import get_result_store

    return get_result_store()


def _files(store: Any) -> Any:
    """The file store behind `store`: a ResultStore, a FileResultStore, a directory, or None."""
    if store is None:
        return _default_store()
    if hasattr(store, "files"):
        return store.files()
    if isinstance(store, str) or hasattr(store, "__fspath__"):
        from sdk.caching.result_store import get_result_store
        from sdk.caching.results import check_storage

        return get_result_store(check_storage(store))
    return store


class Transaction:
    """One transaction; use `transaction(...)` to make one. See the module docstring."""

    def __init__(self, key: str | None = None, store: Any = None, commit_mode: CommitMode | None = None,
                 isolation_level: IsolationLevel | None = None, overwrite: bool = False,
                 write_on_commit: bool = True, lock_manager: Any = None,
                 writer: Callable[[Any], None] | None = None) -> None:
        if key is not None and not isinstance(key, str):
            raise TypeError(f"a transaction key must be a str, got {key!r}")
        self.key = key
        self.store = store
        self.commit_mode = CommitMode(commit_mode) if commit_mode is not None else None
        self.isolation_level = IsolationLevel(isolation_level) if isolation_level is not None else None
        self.overwrite = overwrite
        self.write_on_commit = write_on_commit
        self.lock_manager = lock_manager if lock_manager is not None else getattr(store, "lock_manager", None)
        self.state = TransactionState.PENDING
        self.children: list[Transaction] = []
        self.on_commit_hooks: list[Callable[[Transaction], Any]] = []
        self.on_rollback_hooks: list[Callable[[Transaction], Any]] = []
        self._writer = writer  # a task's: writes its cache record its own way
        self._staged_value: Any = None
        self._values: dict[str, Any] = {}
        self._parent: Transaction | None = None
        self._token: contextvars.Token | None = None
        self._holder = f"{os.urandom(16).hex()}:{threading.get_ident()}"  # uuid is a slow import
        self._locked = False

    # -- values --------------------------------------------------------------------------

    def set(self, name: str, value: Any) -> None:
        """Keep a value for the rest of the transaction (its hooks and nested ones read it)."""
        self._values[name] = value

    def get(self, name: str, default: Any = _NOT_SET) -> Any:
        """A value set in this transaction or an enclosing one; `default`, else ValueError."""
        txn: Transaction | None = self
        while txn is not None:
            if name in txn._values:
                return txn._values[name]
            txn = txn._parent
        if default is _NOT_SET:
            raise ValueError(f"Could not retrieve value for unknown key: {name!r}")
        return default

    def read(self) -> Any:
        """The record stored at the key (None without a key or a record)."""
        if self.key is None:
            return None
        record = _files(self.store).read(self.key)
        return None if record is None else record.value

    # -- state ---------------------------------------------------------------------------

    def is_pending(self) -> bool:
        return self.state is TransactionState.PENDING

    def is_active(self) -> bool:
        return self.state is TransactionState.ACTIVE

    def is_staged(self) -> bool:
        return self.state is TransactionState.STAGED

    def is_committed(self) -> bool:
        return self.state is TransactionState.COMMITTED

    def is_rolled_back(self) -> bool:
        return self.state is TransactionState.ROLLED_BACK

    def get_parent(self) -> Transaction | None:
        return self._parent

    def add_child(self, child: Transaction) -> None:
        self.children.append(child)

    # -- lifecycle -----------------------------------------------------------------------

    def begin(self) -> None:
        self._parent = _current.get()
        if self.commit_mode is None:
            self.commit_mode = self._parent.commit_mode if self._parent is not None else CommitMode.LAZY
        if self.isolation_level is IsolationLevel.SERIALIZABLE and self.key is not None:
            if self.lock_manager is None:
                raise ValueError("SERIALIZABLE isolation needs a lock manager: pass lock_manager= "
                                 "(e.g. sdk.locking.MemoryLockManager()) or a store that has one")
            self.lock_manager.acquire_lock(self.key, self._holder)
            self._locked = True
        self.state = TransactionState.ACTIVE
        if self.key is not None and not self.overwrite and _files(self.store).read(self.key) is not None:
            self.state = TransactionState.COMMITTED  # the work behind this key was done before

    def stage(self, value: Any, on_rollback_hooks: list | tuple = (), on_commit_hooks: list | tuple = ()) -> None:
        """Hold `value` for the commit; add hooks to run at commit or rollback."""
        if self.state is TransactionState.COMMITTED:
            return
        self._staged_value = value
        self.on_rollback_hooks.extend(on_rollback_hooks)
        self.on_commit_hooks.extend(on_commit_hooks)
        self.state = TransactionState.STAGED

    def commit(self) -> bool:
        """Commit the children, run the commit hooks, write the record; False if already settled."""
        if self.state in (TransactionState.COMMITTED, TransactionState.ROLLED_BACK):
            self._release()
            return False
        try:
            for child in self.children:
                child.commit()
            for hook in self.on_commit_hooks:
                _run_hook(hook, self, "commit")
            if self.write_on_commit and self.commit_mode is not CommitMode.OFF:
                if self._writer is not None:
                    self._writer(self._staged_value)
                elif self.key is not None:
                    _files(self.store).write(self.key, self._staged_value)
            self.state = TransactionState.COMMITTED
            return True
        except Exception:
            _log.exception("Transaction %r failed to commit; rolling back", self.key)
            self.rollback()
            return False
        finally:
            self._release()

    def rollback(self) -> bool:
        """Run the rollback hooks (this one's, then its children's, newest first); False if settled."""
        if self.state in (TransactionState.COMMITTED, TransactionState.ROLLED_BACK):
            self._release()
            return False
        try:
            for hook in reversed(self.on_rollback_hooks):
                _run_hook(hook, self, "rollback")
            for child in reversed(self.children):
                child.rollback()
            self.state = TransactionState.ROLLED_BACK
            return True
        finally:
            self._release()

    def _release(self) -> None:
        if self._locked:
            self._locked = False
            self.lock_manager.release_lock(self.key, self._holder)

    def __enter__(self) -> Transaction:
        from sdk.engine.task_engine import note_transactions_used

        note_transactions_used()  # task runs look for an enclosing transaction from now on
        self.begin()
        if self._parent is not None:
            self._parent.add_child(self)
        self._token = _current.set(self)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is not None:
                self.rollback()
            elif self.commit_mode is CommitMode.EAGER:
                self.commit()
            elif self._parent is not None:
                pass  # LAZY or OFF inside another: the parent settles it
            elif self.commit_mode is CommitMode.OFF:
                self.rollback()
            else:
                self.commit()
        finally:
            if self._token is not None:
                _current.reset(self._token)
                self._token = None

    def __repr__(self) -> str:
        return f"Transaction(key={self.key!r}, state={self.state.value})"


def _run_hook(hook: Callable[[Transaction], Any], txn: Transaction, kind: str) -> None:
    try:
        hook(txn)
    except Exception:  # a hook never stops the others
        name = getattr(hook, "__name__", repr(hook))
        _log.exception("%s hook %r of transaction %r raised; ignored", kind.capitalize(), name, txn.key)


@contextmanager
def transaction(key: str | None = None, store: Any = None, commit_mode: CommitMode | None = None,
                isolation_level: IsolationLevel | None = None, overwrite: bool = False,
                write_on_commit: bool = True, lock_manager: Any = None, **_prefect_only: Any) -> Iterator[Transaction]:
    """Run the block as one transaction (see the module docstring); yields it."""
    with Transaction(key=key, store=store, commit_mode=commit_mode, isolation_level=isolation_level,
                     overwrite=overwrite, write_on_commit=write_on_commit, lock_manager=lock_manager) as txn:
        yield txn


def settle_task_result(task: Any, run: Any, key: str | None, write: Callable[[Any], None] | None,
                       result: Any) -> None:
    """A task run completed with `result`: stage it in the current transaction (which commits
    or rolls it back later), or commit at once when there is none: write its record, run
    its `on_commit` hooks. A rolled back run ends `RolledBack` (type COMPLETED), as in Prefect."""
    txn = Transaction(key=key, commit_mode=CommitMode.LAZY, writer=write or (lambda _value: None))
    txn.on_rollback_hooks.append(lambda _txn: _mark_rolled_back(run, result))
    txn._parent = parent = _current.get()
    txn.state = TransactionState.ACTIVE
    txn.stage(result, task.on_rollback_hooks, task.on_commit_hooks)
    if parent is None:
        txn.commit()
    else:
        parent.add_child(txn)


def _mark_rolled_back(run: Any, result: Any) -> None:
    from sdk.states import State, StateType

    run.set_state(State(StateType.COMPLETED, "RolledBack", "The transaction rolled back", result))
