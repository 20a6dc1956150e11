"""Cache policies: how a task run's cache key is computed (Prefect 3's names).

A policy's `compute_key(task_ctx, inputs, flow_parameters)` returns a string
key, or None for "don't cache this run". Policies combine with `+`; the
compound key is a hash of the parts' keys, parts that return None are
skipped, and the compound is None only when every part is None. As in
Prefect 3, adding `NO_CACHE` is a no-op (`INPUTS + NO_CACHE` is `INPUTS`);
`NO_CACHE` on its own caches nothing. `INPUTS - "name"` leaves a parameter
out of the key.

Keys are global, as in Prefect: `INPUTS` alone gives two different tasks
called with the same inputs the same key. `DEFAULT` includes `TASK_SOURCE`
and `RUN_ID`, which keeps tasks and flow runs apart.

Errors. A policy raises `UnhashableInputsError` (a ValueError) when an input
or flow parameter it must hash has no stable hash, naming the parameter and
the ways out; `CacheKeyFnPolicy` raises `CacheKeyFnError` when a user's
`cache_key_fn` raises or returns something other than str/None. Both derive
from `CacheKeyError`. The engine decides what a failed key means for the run
(see `CacheKeyError`).

`task_ctx` is the engine's run context, used duck-typed: `.task` (`.fn`,
`.name`), `.task_run` (`.id`, `.flow_run_id`).
"""
from __future__ import annotations

import weakref
from typing import Any, Callable, Iterable

from sdk.caching.hashing import UnhashableError, hash_objects, hash_source, qualified_name

__all__ = [
    "CachePolicy", "CompoundCachePolicy", "CacheKeyFnPolicy", "Inputs", "TaskSource",
    "FlowParameters", "RunId", "NoCache", "CacheKeyError", "UnhashableInputsError",
    "CacheKeyFnError", "effective_policy",
    "DEFAULT", "INPUTS", "TASK_SOURCE", "FLOW_PARAMETERS", "RUN_ID", "NO_CACHE", "NONE",
]


class CacheKeyError(Exception):
    """A cache key could not be computed.

    Engine contract: `UnhashableInputsError` → log a warning and run the task
    without caching (Prefect 3 does the same); `CacheKeyFnError` → the run
    fails with this exception (the user's own code broke).
    """


class UnhashableInputsError(CacheKeyError, ValueError):
    """An input (or flow parameter) that a policy must hash has no stable hash."""

    def __init__(self, message: str, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class CacheKeyFnError(CacheKeyError):
    """A user's `cache_key_fn` raised, or returned something that isn't str/None."""


class CachePolicy:
    """Base class. Subclasses implement `compute_key`."""

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any] | None, flow_parameters: dict[str, Any] | None, **kwargs: Any
    ) -> str | None:
        raise NotImplementedError

    @classmethod
    def from_cache_key_fn(cls, cache_key_fn: Callable[[Any, dict[str, Any]], str | None]) -> CacheKeyFnPolicy:
        return CacheKeyFnPolicy(cache_key_fn)

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        if isinstance(other, NoCache):
            return self
        return CompoundCachePolicy([self, other])

    def __sub__(self, parameter: str) -> CachePolicy:
        _check_parameter_name(parameter)
        return self  # only policies that hash inputs have something to leave out

    def _identity(self) -> tuple:
        return ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._identity() == self._identity()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._identity()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NoCache(CachePolicy):
    """Never a key: nothing is cached or persisted. A no-op inside `+`."""

    def compute_key(self, task_ctx: Any, inputs: Any, flow_parameters: Any, **kwargs: Any) -> str | None:
        return None

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        return other


class Inputs(CachePolicy):
    """Key = hash of the task's inputs, minus the excluded parameter names."""

    def __init__(self, exclude: Iterable[str] = ()) -> None:
        self.exclude: tuple[str, ...] = tuple(sorted(set(exclude)))

    def compute_key(self, task_ctx: Any, inputs: dict[str, Any] | None, flow_parameters: Any, **kwargs: Any) -> str | None:
        if not inputs:
            return None
        kept = {name: value for name, value in inputs.items() if name not in self.exclude}
        return _hash_parameters(kept, task_ctx, "parameter")

    def __sub__(self, parameter: str) -> CachePolicy:
        _check_parameter_name(parameter)
        return Inputs(self.exclude + (parameter,))

    def _identity(self) -> tuple:
        return self.exclude

    def __repr__(self) -> str:
        return f"Inputs(exclude={list(self.exclude)!r})" if self.exclude else "Inputs()"


class TaskSource(CachePolicy):
    """Key = hash of the task function's source (its own lines, not what it calls)."""

    def compute_key(self, task_ctx: Any, inputs: Any, flow_parameters: Any, **kwargs: Any) -> str | None:
        fn = getattr(getattr(task_ctx, "task", None), "fn", None)
        if fn is None:
            return None
        return _source_hash(fn)


class FlowParameters(CachePolicy):
    """Key = hash of the enclosing flow run's parameters (None outside a flow or without any)."""

    def compute_key(self, task_ctx: Any, inputs: Any, flow_parameters: dict[str, Any] | None, **kwargs: Any) -> str | None:
        if not flow_parameters:
            return None
        return _hash_parameters(flow_parameters, task_ctx, "flow parameter")


class RunId(CachePolicy):
    """Key = the flow run id; for a task run outside any flow, the task run id."""

    def compute_key(self, task_ctx: Any, inputs: Any, flow_parameters: Any, **kwargs: Any) -> str | None:
        task_run = getattr(task_ctx, "task_run", None)
        if task_run is None:
            return None
        run_id = getattr(task_run, "flow_run_id", None)
        if run_id is None:
            run_id = getattr(task_run, "id", None)
        return None if run_id is None else str(run_id)


class CacheKeyFnPolicy(CachePolicy):
    """Key = `cache_key_fn(task_ctx, inputs)`, the user's own function."""

    def __init__(self, cache_key_fn: Callable[[Any, dict[str, Any]], str | None]) -> None:
        if not callable(cache_key_fn):
            raise TypeError(f"cache_key_fn must be callable, got {type(cache_key_fn).__name__}")
        self.cache_key_fn = cache_key_fn

    def compute_key(self, task_ctx: Any, inputs: dict[str, Any] | None, flow_parameters: Any, **kwargs: Any) -> str | None:
        fn_name = qualified_name(self.cache_key_fn)
        try:
            key = self.cache_key_fn(task_ctx, dict(inputs or {}))
        except Exception as exc:
            raise CacheKeyFnError(
                f"cache_key_fn {fn_name} of task {_task_name(task_ctx)!r} raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if key is not None and not isinstance(key, str):
            raise CacheKeyFnError(
                f"cache_key_fn {fn_name} of task {_task_name(task_ctx)!r} must return a str or None, "
                f"got {type(key).__name__}: {key!r}"
            )
        return key

    def _identity(self) -> tuple:
        return (self.cache_key_fn,)

    def __repr__(self) -> str:
        return f"CacheKeyFnPolicy({qualified_name(self.cache_key_fn)})"


class CompoundCachePolicy(CachePolicy):
    """Several policies at once: key = hash of the parts' non-None keys."""

    def __init__(self, policies: Iterable[CachePolicy]) -> None:
        flat: list[CachePolicy] = []
        for policy in policies:
            parts = policy.policies if isinstance(policy, CompoundCachePolicy) else (policy,)
            flat.extend(p for p in parts if not isinstance(p, NoCache))
        inputs = [p for p in flat if isinstance(p, Inputs)]
        if len(inputs) > 1:  # one Inputs part, leaving out what any of them left out
            flat = [p for p in flat if not isinstance(p, Inputs)]
            flat.append(Inputs(name for p in inputs for name in p.exclude))
        self.policies: tuple[CachePolicy, ...] = tuple(flat)

    def compute_key(
        self, task_ctx: Any, inputs: dict[str, Any] | None, flow_parameters: dict[str, Any] | None, **kwargs: Any
    ) -> str | None:
        keys = []
        for policy in self.policies:
            key = policy.compute_key(task_ctx, inputs, flow_parameters, **kwargs)
            if key is not None:
                keys.append((type(policy).__name__, key))
        if not keys:
            return None
        keys.sort()  # INPUTS + RUN_ID and RUN_ID + INPUTS give the same key
        return hash_objects(keys)

    def __add__(self, other: CachePolicy) -> CachePolicy:
        if not isinstance(other, CachePolicy):
            return NotImplemented
        return CompoundCachePolicy([self, other])

    def __sub__(self, parameter: str) -> CachePolicy:
        _check_parameter_name(parameter)
        return CompoundCachePolicy([p - parameter for p in self.policies])

    def _identity(self) -> tuple:
        return self.policies

    def __repr__(self) -> str:
        return " + ".join(repr(p) for p in self.policies)


def effective_policy(
    cache_policy: CachePolicy | None, cache_key_fn: Callable[[Any, dict[str, Any]], str | None] | None
) -> CachePolicy | None:
    """The policy a task's options amount to, or None when it caches nothing.

    `cache_key_fn` wins over `cache_policy` when both are given (as in Prefect).
    """
    if cache_key_fn is not None:
        return CacheKeyFnPolicy(cache_key_fn)
    if cache_policy is None or isinstance(cache_policy, NoCache):
        return None
    if not isinstance(cache_policy, CachePolicy):
        raise TypeError(
            f"cache_policy must be a CachePolicy such as sdk.cache_policies.INPUTS, "
            f"got {type(cache_policy).__name__}: {cache_policy!r}"
        )
    return cache_policy


def _check_parameter_name(parameter: object) -> None:
    if not isinstance(parameter, str):
        raise TypeError(f"only a parameter name (str) can be subtracted from a cache policy, got {parameter!r}")


def _task_name(task_ctx: Any) -> str:
    return str(getattr(getattr(task_ctx, "task", None), "name", "<unknown>"))


def _hash_parameters(values: dict[str, Any], task_ctx: Any, kind: str) -> str | None:
    digests = {}
    for name, value in values.items():
        try:
            digests[name] = hash_objects(value, raise_on_failure=True)
        except UnhashableError as exc:
            remedy = f"leave it out with `cache_policy=INPUTS - {name!r}`, " if kind == "parameter" else ""
            raise UnhashableInputsError(
                f"cannot compute a cache key for task {_task_name(task_ctx)!r}: {kind} {name!r} "
                f"has no stable hash (the {exc.type_name} object at {name}{exc.path}: {exc.reason}). "
                f"Objects such as locks, open files, sockets and clients can't be hashed; "
                f"{remedy}pass a `cache_key_fn` that ignores it, or use `cache_policy=NO_CACHE`.",
                name,
            ) from exc
    return hash_objects(digests)


_source_hashes: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _source_hash(fn: Callable[..., Any]) -> str:
    # inspect.getsource reads the file: do it once per function per process
    try:
        return _source_hashes[fn]
    except (KeyError, TypeError):
        pass
    digest = hash_source(fn)
    try:
        _source_hashes[fn] = digest
    except TypeError:  # an unhashable or not weakly referenceable callable
        pass
    return digest


NO_CACHE = NoCache()
NONE = NO_CACHE  # Prefect's other name for it
INPUTS = Inputs()
TASK_SOURCE = TaskSource()
FLOW_PARAMETERS = FlowParameters()
RUN_ID = RunId()
DEFAULT = INPUTS + TASK_SOURCE + RUN_ID
