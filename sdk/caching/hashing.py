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

import inspect
import sys
import types
from typing import Any, Callable

__all__ = ["UnhashableError", "task_key", "hash_objects", "hash_source", "stable_digest"]

_KEY_HASH_CHARS = 8


class UnhashableError(TypeError):
    """A value has no stable hash. `path` says where it sits, e.g. `['conn'].sock`."""

    def __init__(self, type_name: str, reason: str, path: str = "") -> None:
        super().__init__(type_name, reason)
        self.type_name = type_name
        self.reason = reason
        self.path = path

    def __str__(self) -> str:
        where = f" at {self.path}" if self.path else ""
        return f"cannot hash {self.type_name} object{where}: {self.reason}"


def stable_digest(data: bytes | str) -> str:
    """SHA-256 hex digest of bytes (or of a str as UTF-8)."""
    import hashlib  # on first use: OpenSSL's load costs more than the rest of `import sdk`

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
        if len(objs) == 1:
            canonical = _canonical(objs[0], set())
        else:
            canonical = tuple(_child(obj, set(), "[{}]", i) for i, obj in enumerate(objs))
    except UnhashableError:
        if raise_on_failure:
            raise
        return None
    except RecursionError:
        if raise_on_failure:
            raise UnhashableError("deeply nested", "nested too deeply to hash") from None
        return None
    return stable_digest(repr(canonical))


def hash_source(fn: Callable[..., Any]) -> str:
    """A stable hash of a function's source text.

    Falls back to its compiled code (bytecode, constants, names) when the
    source isn't available (REPL, exec, .pyc only), and to its qualified name
    for callables without Python code.
    """
    fn = inspect.unwrap(fn)
    try:
        return stable_digest(inspect.getsource(fn))
    except (OSError, TypeError):
        pass
    code = _code_of(fn)
    if code is None:
        return stable_digest(qualified_name(fn))
    return stable_digest(repr(_canonical_code(code, set())))


def _code_of(fn: Any) -> Any:
    code = getattr(fn, "__code__", None)
    if code is None:
        call = getattr(type(fn), "__call__", None)
        code = getattr(call, "__code__", None)
    return code


def _canonical_code(code: types.CodeType, active: set[int]) -> tuple:
    consts = tuple(
        _canonical_code(c, active) if isinstance(c, types.CodeType) else _canonical(c, active)
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
_MISSING = object()


def _type_name(tp: type) -> str:
    return f"{tp.__module__}.{tp.__qualname__}"


def _child(value: Any, active: set[int], segment: str, label: Any) -> Any:
    """`_canonical(value)`; on failure, prefix the error's path with `segment.format(label)`."""
    try:
        return _canonical(value, active)
    except UnhashableError as exc:
        exc.path = segment.format(label) + exc.path
        raise


def _canonical(obj: Any, active: set[int]) -> Any:
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
    if tp is types.ModuleType:
        return ("module", obj.__name__)
    if tp is types.BuiltinFunctionType:
        return ("function", qualified_name(obj))

    oid = id(obj)
    if oid in active:
        return ("cycle",)
    active.add(oid)
    try:
        if tp is types.FunctionType:
            return _canonical_function(obj, active)
        if tp is types.MethodType:
            return ("method", _canonical_function(obj.__func__, active), _child(obj.__self__, active, ".__self__", None))
        return _canonical_container(obj, tp, tname, active)
    finally:
        active.discard(oid)


def _canonical_function(fn: types.FunctionType, active: set[int]) -> tuple:
    code = fn.__code__
    closure = tuple(
        _child(cell.cell_contents, active, "<closure {}>", name)
        for name, cell in zip(code.co_freevars, fn.__closure__ or ())
    )
    defaults = _child(fn.__defaults__, active, "<defaults>", None)
    return ("function", qualified_name(fn), _canonical_code(code, active), defaults, closure)


def _canonical_container(obj: Any, tp: type, tname: str, active: set[int]) -> Any:
    if tp is list or tp is tuple:
        return (tp.__name__, _sequence(obj, active))
    if tp is dict:
        return ("dict", _sorted_pairs(obj.items(), active))
    if tp is set or tp is frozenset:
        items = [_child(v, active, "{{{}}}", "...") for v in obj]
        return (tp.__name__, tuple(sorted(items, key=repr)))
    if hasattr(tp, "__dataclass_fields__"):  # so dataclasses is already imported
        return ("dataclass", tname, tuple(
            (f.name, _child(getattr(obj, f.name), active, ".{}", f.name))
            for f in sys.modules["dataclasses"].fields(obj)
        ))
    if isinstance(obj, tuple) and hasattr(tp, "_fields"):
        return ("namedtuple", tname, tuple(
            (name, _child(v, active, ".{}", name)) for name, v in zip(tp._fields, obj)
        ))
    model_fields = getattr(tp, "model_fields", None)
    if isinstance(model_fields, dict) and hasattr(obj, "model_dump"):  # a pydantic model
        values = {name: getattr(obj, name) for name in model_fields}
        values.update(getattr(obj, "__pydantic_extra__", None) or {})
        return ("pydantic", tname, _sorted_pairs(values.items(), active))
    enum_value = _enum_value(obj)
    if enum_value is not _MISSING:
        return ("enum", tname, _canonical(enum_value, active))
    if isinstance(obj, dict):
        return ("dict", tname, _sorted_pairs(obj.items(), active))
    if isinstance(obj, (list, tuple)):
        return (tname, _sequence(obj, active))
    return _canonical_reduced(obj, tname, active)


def _sequence(values: Any, active: set[int]) -> tuple:
    out = []
    i = 0
    try:  # one try around the loop, not a call per item: this is the hot path for big inputs
        for i, v in enumerate(values):
            out.append(v if type(v) in _SCALARS else _canonical(v, active))
    except UnhashableError as exc:
        exc.path = f"[{i}]{exc.path}"
        raise
    return tuple(out)


def _sorted_pairs(items: Any, active: set[int]) -> tuple:
    pairs = []
    k = None
    in_key = False
    try:
        for k, v in items:
            in_key = True
            ck = k if type(k) in _SCALARS else _canonical(k, active)
            in_key = False
            pairs.append((ck, v if type(v) in _SCALARS else _canonical(v, active)))
    except UnhashableError as exc:
        exc.path = f"<key {_short_repr(k)}>" if in_key else f"[{_short_repr(k)}]{exc.path}"
        raise
    if {type(ck) for ck, _ in pairs} in ({str}, {int}):  # distinct keys of one type: sort as they are
        pairs.sort(key=lambda kv: kv[0])
    else:
        pairs.sort(key=lambda kv: repr(kv[0]))
    return tuple(pairs)


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _enum_value(obj: Any) -> Any:
    enum_mod = sys.modules.get("enum")  # an Enum instance implies enum is imported
    if enum_mod is not None and isinstance(obj, enum_mod.Enum):
        return obj.value
    return _MISSING


def _canonical_reduced(obj: Any, tname: str, active: set[int]) -> tuple:
    """Any other object: canonicalise the pickle recipe that rebuilds it."""
    try:
        reduced = obj.__reduce_ex__(4)
    except Exception as exc:
        raise UnhashableError(tname, str(exc) or type(exc).__name__) from exc
    if isinstance(reduced, str):  # a global singleton, pickled by name
        return ("global", tname, reduced)
    func, args, state, list_items, dict_items = (list(reduced) + [None] * 5)[:5]
    return (
        "object",
        tname,
        qualified_name(func),
        _child(args, active, "<args>", None),
        _canonical(state, active),
        _sequence(list(list_items), active) if list_items is not None else None,
        _sorted_pairs(dict_items, active) if dict_items is not None else None,
    )
