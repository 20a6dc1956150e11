"""Stable hashes: task keys, cache keys over arbitrary values, function source.

Every hash here is the same in every process and on every run (no dependence
on PYTHONHASHSEED, object ids or dict/set iteration order), because cache keys
computed in one process must find results written by another.

Values are hashed through a canonical form: a tree of tuples holding only
str, bytes, int, float, bool and None, whose `repr` is deterministic. Builtin
containers, dataclasses, named tuples, pydantic models, enums and the usual
value types are canonicalised structurally (dict and set order never
matters; list and tuple stay distinct); any other object is canonicalised
through `__reduce_ex__(4)`, the same recipe pickle uses, so an object that
pickle refuses (locks, sockets, open files, generators) cannot be hashed.

hashlib, inspect and pickle-related work are imported lazily: `import sdk`
must stay cheap.
"""
from __future__ import annotations

import sys
from typing import Any, Callable

__all__ = ["UnhashableError", "task_key", "hash_objects", "hash_source", "stable_digest"]

_KEY_HASH_CHARS = 8


class UnhashableError(TypeError):
    """A value has no stable hash. `path` says where it sits, e.g. `['conn'].sock`."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def stable_digest(data: bytes | str) -> str:
    """SHA-256 hex digest of bytes (or of a str as UTF-8)."""
    import hashlib

    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()


def task_key(fn: Callable[..., Any], name: str) -> str:
    """`<name>-<8 hex>` where the hex is a hash of the function's module + qualname."""
    return f"{name}-{stable_digest(qualified_name(fn))[:_KEY_HASH_CHARS]}"


def qualified_name(obj: Any) -> str:
    """`module.qualname` of a function, class or callable object."""
    target = obj if hasattr(obj, "__qualname__") else type(obj)
    module = getattr(target, "__module__", None) or "<unknown>"
    qualname = getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(type(target)))
    return f"{module}.{qualname}"


def hash_objects(*objs: Any, raise_on_failure: bool = False) -> str | None:
    """A stable hex digest of the values, or None when one of them can't be hashed.

    With `raise_on_failure=True` an unhashable value raises `UnhashableError`
    instead, naming where in the value the problem is.
    """
    try:
        paths = [""] if len(objs) == 1 else [f"[{i}]" for i in range(len(objs))]
        canonical = tuple(_canonical(obj, path, set()) for obj, path in zip(objs, paths))
    except UnhashableError:
        if raise_on_failure:
            raise
        return None
    except RecursionError:
        if raise_on_failure:
            raise UnhashableError("value is nested too deeply to hash") from None
        return None
    return stable_digest(repr(canonical))


def hash_source(fn: Callable[..., Any]) -> str:
    """A stable hash of a function's source text.

    Falls back to its compiled code (bytecode, constants, names) when the
    source isn't available (REPL, exec, .pyc only), and to its qualified name
    for callables without Python code.
    """
    import inspect

    fn = inspect.unwrap(fn)
    try:
        return stable_digest(inspect.getsource(fn))
    except (OSError, TypeError):
        pass
    code = _code_of(fn)
    if code is None:
        return stable_digest(qualified_name(fn))
    return stable_digest(repr(_canonical_code(code)))


def _code_of(fn: Any) -> Any:
    code = getattr(fn, "__code__", None)
    if code is None:
        call = getattr(type(fn), "__call__", None)
        code = getattr(call, "__code__", None)
    return code


def _canonical_code(code: Any) -> tuple:
    consts = tuple(
        _canonical_code(c) if hasattr(c, "co_code") else _canonical(c, "co_consts", set())
        for c in code.co_consts
    )
    return ("code", code.co_name, code.co_code, consts, code.co_names, code.co_varnames)


_SCALARS = (str, int, float, bool, bytes, type(None))
# Types whose repr is a complete, deterministic description of the value.
_REPR_TYPES = {
    "datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta",
    "datetime.timezone", "decimal.Decimal", "uuid.UUID", "fractions.Fraction",
    "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePosixPath",
    "pathlib.PureWindowsPath", "pathlib.Path", "builtins.complex", "builtins.range",
    "builtins.slice", "builtins.ellipsis", "builtins.NotImplementedType",
    "zoneinfo.ZoneInfo",
}


def _type_name(tp: type) -> str:
    return f"{tp.__module__}.{tp.__qualname__}"


def _canonical(obj: Any, path: str, active: set[int]) -> Any:
    """Turn `obj` into a tree of tuples of scalars whose repr is stable."""
    tp = type(obj)
    if tp in _SCALARS:
        return obj
    if tp is bytearray or tp is memoryview:
        return ("bytes", tp.__name__, bytes(obj))
    tname = _type_name(tp)
    if tname in _REPR_TYPES:
        return ("repr", tname, repr(obj))
    if isinstance(obj, type):
        return ("type", _type_name(obj))

    oid = id(obj)
    if oid in active:
        return ("cycle",)
    active.add(oid)
    try:
        if tp.__name__ in ("function", "builtin_function_or_method", "method", "module"):
            return _canonical_callable(obj, tp, active)
        return _canonical_container(obj, tp, tname, path, active)
    finally:
        active.discard(oid)


def _canonical_callable(obj: Any, tp: type, active: set[int]) -> tuple:
    if tp.__name__ == "module":
        return ("module", obj.__name__)
    if tp.__name__ == "method":
        func = obj.__func__
        owner = _canonical(obj.__self__, f"<{qualified_name(func)}>.__self__", active)
        return ("method", _canonical_callable(func, type(func), active), owner)
    code = getattr(obj, "__code__", None)
    if code is None:
        return ("function", qualified_name(obj))
    path = f"<{qualified_name(obj)}>"
    defaults = _canonical(obj.__defaults__, f"{path}.__defaults__", active)
    closure = tuple(
        _canonical(cell.cell_contents, f"{path}.<closure {name}>", active)
        for name, cell in zip(code.co_freevars, obj.__closure__ or ())
    )
    return ("function", qualified_name(obj), _canonical_code(code), defaults, closure)


def _canonical_container(obj: Any, tp: type, tname: str, path: str, active: set[int]) -> Any:
    if tp is list or tp is tuple:
        return (tp.__name__, tuple(_canonical(v, f"{path}[{i}]", active) for i, v in enumerate(obj)))
    if tp is dict:
        return ("dict", _sorted_pairs(obj.items(), path, active))
    if tp is set or tp is frozenset:
        items = [_canonical(v, f"{path}{{...}}", active) for v in obj]
        return (tp.__name__, tuple(sorted(items, key=repr)))

    if hasattr(tp, "__dataclass_fields__"):  # so dataclasses is already imported
        return ("dataclass", tname, tuple(
            (f.name, _canonical(getattr(obj, f.name), f"{path}.{f.name}", active))
            for f in sys.modules["dataclasses"].fields(obj)
        ))
    if isinstance(obj, tuple) and hasattr(tp, "_fields"):
        return ("namedtuple", tname, tuple(
            (name, _canonical(v, f"{path}.{name}", active)) for name, v in zip(tp._fields, obj)
        ))
    model_fields = getattr(tp, "model_fields", None)
    if isinstance(model_fields, dict) and hasattr(obj, "model_dump"):
        values = {name: getattr(obj, name) for name in model_fields}
        values.update(getattr(obj, "__pydantic_extra__", None) or {})
        return ("pydantic", tname, _sorted_pairs(values.items(), path, active))
    enum_value = _enum_value(obj)
    if enum_value is not _MISSING:
        return ("enum", tname, _canonical(enum_value, f"{path}.value", active))
    if isinstance(obj, dict):
        return ("dict", tname, _sorted_pairs(obj.items(), path, active))
    if isinstance(obj, (list, tuple)):
        return (tname, tuple(_canonical(v, f"{path}[{i}]", active) for i, v in enumerate(obj)))
    return _canonical_reduced(obj, tname, path, active)


_MISSING = object()


def _enum_value(obj: Any) -> Any:
    enum_mod = sys.modules.get("enum")  # an Enum instance implies enum is imported
    if enum_mod is not None and isinstance(obj, enum_mod.Enum):
        return obj.value
    return _MISSING


def _sorted_pairs(items: Any, path: str, active: set[int]) -> tuple:
    pairs = []
    for k, v in items:
        ck = _canonical(k, f"{path}.<key>", active)
        pairs.append((ck, _canonical(v, f"{path}[{k!r}]", active)))
    pairs.sort(key=lambda kv: repr(kv[0]))
    return tuple(pairs)


def _canonical_reduced(obj: Any, tname: str, path: str, active: set[int]) -> tuple:
    """Any other object: canonicalise the pickle recipe that rebuilds it."""
    try:
        reduced = obj.__reduce_ex__(4)
    except Exception as exc:
        where = f" at {path}" if path else ""
        raise UnhashableError(f"cannot hash {tname} object{where}: {exc}", path) from exc
    if isinstance(reduced, str):  # a global singleton, pickled by name
        return ("global", tname, reduced)
    parts = list(reduced) + [None] * (5 - len(reduced))
    func, args, state, list_items, dict_items = parts[:5]
    return (
        "object",
        tname,
        ("ref", qualified_name(func)),
        _canonical(args, f"{path}.<args>", active),
        _canonical(state, path, active),
        _canonical(list(list_items), path, active) if list_items is not None else None,
        _sorted_pairs(dict_items, path, active) if dict_items is not None else None,
    )
