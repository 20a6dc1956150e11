"""Parameter resolution (SPEC §3.3): futures and states in a task's arguments become values.

Two passes share one walker over containers (list, tuple, set, frozenset,
dict, named tuples, dataclasses, pydantic models):

- `find_upstreams` runs when the task run is created: it records which runs
  the new one depends on, without waiting for them;
- `resolve` runs just before the function is called: it waits for each
  upstream, puts its result in place, and rebuilds only the containers whose
  contents changed (a dataclass with `dataclasses.replace`, a named tuple with
  its constructor, a pydantic model with `model_construct`); everything that
  did not change is passed as the same object.
"""
from __future__ import annotations

import copy
import sys
from typing import Any, Callable

from sdk.annotations import BaseAnnotation, allow_failure, opaque, quote
from sdk.futures import TaskRunFuture
from sdk.states import State

__all__ = ["UpstreamNotReady", "find_upstreams", "resolve", "resolve_parameters", "collect_upstream_states"]

_ATOMIC = frozenset({int, float, str, bytes, bool, type(None), complex, range})
_MAX_DEPTH = 64


class UpstreamNotReady(Exception):
    """An upstream run did not complete, so the downstream run must not start."""

    def __init__(self, state: State, run_name: str | None = None) -> None:
        self.state = state
        if state.task_run_id:
            named = f"'{run_name}' ({state.task_run_id})" if run_name else f"'{state.task_run_id}'"
            message = f"Upstream task run {named} did not reach a 'COMPLETED' state: it ended {state}."
        else:
            message = f"Upstream state {state} did not reach a 'COMPLETED' state."
        super().__init__(message)


Leaf = Callable[[Any], Any]


def walk(obj: Any, leaf: Leaf, depth: int = 0) -> Any:
    """Apply `leaf` to every future, state and annotation in `obj`; rebuild what changed."""
    t = type(obj)
    if t in _ATOMIC:
        return obj
    if t is TaskRunFuture or t is State or isinstance(obj, (TaskRunFuture, State, BaseAnnotation)):
        return leaf(obj)
    if depth >= _MAX_DEPTH:
        return obj
    depth += 1
    if t is list or t is tuple or t is set or t is frozenset:
        new = [walk(v, leaf, depth) for v in obj]
        return obj if _same(obj, new) else t(new)
    if t is dict:
        changed = False
        items = []
        for k, v in obj.items():
            nk, nv = walk(k, leaf, depth), walk(v, leaf, depth)
            changed = changed or nk is not k or nv is not v
            items.append((nk, nv))
        return dict(items) if changed else obj
    if isinstance(obj, tuple) and hasattr(t, "_fields"):
        new = [walk(v, leaf, depth) for v in obj]
        return obj if _same(obj, new) else t(*new)
    if hasattr(t, "__dataclass_fields__") and not isinstance(obj, type):
        return _walk_dataclass(obj, leaf, depth)
    if _is_pydantic_model(obj):
        return _walk_pydantic(obj, leaf, depth)
    if isinstance(obj, (list, set, frozenset, tuple, dict)):
        return _walk_subclass(obj, leaf, depth)
    return obj


def _same(old: Any, new: list) -> bool:
    return all(a is b for a, b in zip(old, new))


def _walk_dataclass(obj: Any, leaf: Leaf, depth: int) -> Any:
    import dataclasses  # on first use: it costs a third of `import sdk`

    changed_init, changed_other = {}, {}
    for field in dataclasses.fields(obj):
        value = getattr(obj, field.name)
        new = walk(value, leaf, depth)
        if new is not value:
            (changed_init if field.init else changed_other)[field.name] = new
    if not changed_init and not changed_other:
        return obj
    rebuilt = dataclasses.replace(obj, **changed_init)  # runs __init__/__post_init__ again, as in Prefect
    for name, value in changed_other.items():
        object.__setattr__(rebuilt, name, value)
    return rebuilt


def _is_pydantic_model(obj: Any) -> bool:
    pydantic = sys.modules.get("pydantic")  # a model instance implies pydantic is imported
    return pydantic is not None and isinstance(obj, pydantic.BaseModel)


def _walk_pydantic(obj: Any, leaf: Leaf, depth: int) -> Any:
    values = {}
    changed = False
    for name in type(obj).model_fields:
        value = getattr(obj, name)
        new = walk(value, leaf, depth)
        changed = changed or new is not value
        values[name] = new
    if not changed:
        return obj
    return type(obj).model_construct(_fields_set=obj.model_fields_set, **values)


def _walk_subclass(obj: Any, leaf: Leaf, depth: int) -> Any:
    if isinstance(obj, dict):
        new_items = [(walk(k, leaf, depth), walk(v, leaf, depth)) for k, v in obj.items()]
        if all(nk is k and nv is v for (nk, nv), (k, v) in zip(new_items, obj.items())):
            return obj
        rebuilt = copy.copy(obj)
        rebuilt.clear()
        rebuilt.update(new_items)
        return rebuilt
    new = [walk(v, leaf, depth) for v in obj]
    if _same(obj, new):
        return obj
    if isinstance(obj, list):
        rebuilt = copy.copy(obj)
        rebuilt[:] = new
        return rebuilt
    return type(obj)(new)


# -- finding upstreams (at creation) -------------------------------------------------------

def find_upstreams(parameters: dict[str, Any], wait_for: Any = None) -> tuple[tuple[str, ...], bool]:
    """(ids of upstream task runs, whether resolution has anything to do)."""
    if not wait_for:
        for value in parameters.values():
            if type(value) not in _ATOMIC:
                break
        else:
            return (), False  # the common case: plain values only
    found: list[str] = []
    special = False

    def leaf(obj: Any) -> Any:
        nonlocal special
        special = True
        if isinstance(obj, BaseAnnotation):
            if type(obj) is quote:
                return obj
            if type(obj) is opaque:
                inner = obj.value
                if isinstance(inner, (TaskRunFuture, State)):
                    leaf(inner)
                return obj
            walk(obj.value, leaf)
        else:
            run_id = obj.task_run_id
            if run_id is not None and run_id not in found:
                found.append(run_id)
        return obj

    for value in parameters.values():
        if type(value) not in _ATOMIC:
            walk(value, leaf)
    if wait_for:
        walk(list(wait_for), leaf)
        special = True
    return tuple(found), special


# -- resolving (just before the run) -------------------------------------------------------

def _value_of(obj: TaskRunFuture | State, tolerate_failure: bool) -> Any:
    run_name = None
    if type(obj) is TaskRunFuture or isinstance(obj, TaskRunFuture):
        obj.wait()
        state = obj.state
        run_name = obj.task_run.name
    else:
        state = obj
    if state.is_completed():
        return state.data
    if tolerate_failure:
        return state.result(raise_on_failure=False)
    raise UpstreamNotReady(state, run_name)


def _make_leaf(tolerate_failure: bool) -> Leaf:
    def leaf(obj: Any) -> Any:
        if not isinstance(obj, BaseAnnotation):
            return _value_of(obj, tolerate_failure)
        kind = type(obj)
        if kind is quote:
            return obj.value
        if kind is opaque:
            inner = obj.value
            if isinstance(inner, (TaskRunFuture, State)):
                return _value_of(inner, tolerate_failure)
            return inner
        if kind is allow_failure:
            return walk(obj.value, _tolerant_leaf)
        return walk(obj.value, leaf)  # unmapped outside .map(): just the value

    return leaf


_strict_leaf = _make_leaf(False)
_tolerant_leaf = _make_leaf(True)


def resolve(value: Any) -> Any:
    """`value` with every future/state replaced by its result; UpstreamNotReady if one failed."""
    return walk(value, _strict_leaf)


def resolve_parameters(parameters: dict[str, Any], wait_for: Any = None) -> dict[str, Any]:
    """Wait for `wait_for`, then resolve every parameter (see module docstring)."""
    if wait_for:
        walk(list(wait_for), _strict_leaf)
    resolved = {}
    for name, value in parameters.items():
        resolved[name] = value if type(value) in _ATOMIC else walk(value, _strict_leaf)
    return resolved


def collect_upstream_states(value: Any) -> list[State]:
    """The final states of every future/state inside `value` (waiting for the futures)."""
    states: list[State] = []

    def leaf(obj: Any) -> Any:
        if isinstance(obj, BaseAnnotation):
            walk(obj.value, leaf)
        elif isinstance(obj, TaskRunFuture):
            obj.wait()
            states.append(obj.state)
        else:
            states.append(obj)
        return obj

    walk(value, leaf)
    return states
