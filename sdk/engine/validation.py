"""Flow parameter validation against the function's type annotations, with pydantic.

As in Prefect, a flow's parameters are validated (and coerced where pydantic's
lax mode would: `"1"` for an `int`, a dict for a model) before the run starts;
a mismatch fails the run with `ParameterTypeError`. `validate_parameters=False`
turns it off.

Cost: a flow without annotations has no validator at all (decided once, at
decoration). pydantic is imported on the first call of an annotated flow, never
by `import sdk`; without pydantic installed validation is skipped with one
warning. One pydantic TypeAdapter per annotated parameter is built on first
use, so a field name never collides with pydantic's own attributes.
"""
from __future__ import annotations

import inspect
import threading
import typing
import warnings
from typing import Any, Callable

from sdk.exceptions import ParameterTypeError

__all__ = ["ParameterValidator", "validator_for", "parameter_schema", "ParameterSchema"]

_P = inspect.Parameter
_warned_missing_pydantic = False


def _annotations(fn: Callable[..., Any], signature: inspect.Signature) -> dict[str, Any]:
    """Each annotated parameter's annotation, resolved (string annotations included)."""
    annotated = {name: p for name, p in signature.parameters.items() if p.annotation is not _P.empty}
    if not annotated:
        return {}
    try:
        hints = typing.get_type_hints(fn, include_extras=True)
    except Exception:  # an unresolvable forward reference: use what inspect saw
        hints = {}
    found = {}
    for name, param in annotated.items():
        hint = hints.get(name, param.annotation)
        if isinstance(hint, str):
            continue  # unresolvable: nothing to validate against
        if param.kind is _P.VAR_POSITIONAL:
            hint = tuple[hint, ...]  # type: ignore[valid-type]
        elif param.kind is _P.VAR_KEYWORD:
            hint = dict[str, hint]  # type: ignore[valid-type]
        found[name] = hint
    return found


def validator_for(fn: Callable[..., Any], signature: inspect.Signature) -> ParameterValidator | None:
    """A validator for `fn`'s calls, or None when it has no annotated parameter (nothing to do)."""
    if not any(p.annotation is not _P.empty for p in signature.parameters.values()):
        return None
    return ParameterValidator(fn, signature)


def _adapter(annotation: Any) -> Any:
    """A pydantic TypeAdapter for `annotation` that accepts arbitrary classes (isinstance check);
    None if pydantic cannot make a schema for it (that parameter is then not validated)."""
    import pydantic

    try:
        return pydantic.TypeAdapter(annotation, config=pydantic.ConfigDict(arbitrary_types_allowed=True))
    except pydantic.PydanticUserError:
        pass  # a model, dataclass or TypedDict brings its own config
    except Exception:
        return None
    try:
        return pydantic.TypeAdapter(annotation)
    except Exception:
        return None


class ParameterValidator:
    """Validates one function's parameters; built on first use, then cheap per call."""

    __slots__ = ("fn", "signature", "_adapters", "_lock")

    def __init__(self, fn: Callable[..., Any], signature: inspect.Signature) -> None:
        self.fn = fn
        self.signature = signature
        self._adapters: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def _build(self) -> dict[str, Any] | None:
        global _warned_missing_pydantic
        with self._lock:
            if self._adapters is None:
                try:
                    import pydantic  # noqa: F401
                except ImportError:
                    if not _warned_missing_pydantic:
                        _warned_missing_pydantic = True
                        warnings.warn("pydantic is not installed: flow parameters are not validated "
                                      "(pip install pydantic to validate them)", RuntimeWarning, stacklevel=4)
                    self._adapters = {}
                    return self._adapters
                adapters = {name: _adapter(hint) for name, hint in _annotations(self.fn, self.signature).items()}
                self._adapters = {name: a for name, a in adapters.items() if a is not None}
            return self._adapters

    def validate(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """The parameters, coerced; ParameterTypeError naming every bad one."""
        adapters = self._adapters if self._adapters is not None else self._build()
        if not adapters:
            return parameters
        import pydantic

        validated = dict(parameters)
        problems: list[str] = []
        for name, adapter in adapters.items():
            if name not in parameters:
                continue
            value = parameters[name]
            default = self.signature.parameters[name].default
            if value is default and default is not _P.empty:
                continue  # defaults are not validated (pydantic's own rule)
            try:
                validated[name] = adapter.validate_python(value)
            except pydantic.ValidationError as exc:
                for error in exc.errors():
                    where = ".".join(str(part) for part in (name, *error.get("loc", ())))
                    problems.append(f"{where}: {error.get('msg', 'invalid value')}")
        if problems:
            raise ParameterTypeError.from_errors(problems)
        return validated


def parameter_schema(fn: Callable[..., Any], signature: inspect.Signature) -> dict[str, Any]:
    """The JSON schema of a flow's parameters (what `Flow.parameters` shows), like Prefect's:
    `{"title": "Parameters", "type": "object", "properties": {...}, "required": [...], "definitions": {...}}`."""
    hints = _annotations(fn, signature)
    properties: dict[str, Any] = {}
    definitions: dict[str, Any] = {}
    required: list[str] = []
    for position, (name, param) in enumerate(signature.parameters.items()):
        schema: dict[str, Any] = {}
        adapter = _adapter(hints[name]) if name in hints else None
        if adapter is not None:
            try:
                schema = adapter.json_schema(ref_template="#/definitions/{model}")
            except Exception:
                schema = {}
            definitions.update(schema.pop("$defs", {}))
            schema.pop("title", None)
        schema["title"] = name
        schema["position"] = position
        if param.default is _P.empty:
            if param.kind not in (_P.VAR_POSITIONAL, _P.VAR_KEYWORD):
                required.append(name)
        else:
            try:
                import json

                json.dumps(param.default)
                schema["default"] = param.default
            except (TypeError, ValueError):
                pass
        properties[name] = schema
    return {"title": "Parameters", "type": "object", "properties": properties, "required": required,
            "definitions": definitions}


class ParameterSchema(dict):
    """A flow's parameter schema: a dict (`model_dump()` gives it) with Prefect's attributes."""

    @property
    def properties(self) -> dict[str, Any]:
        return self["properties"]

    @property
    def required(self) -> list[str]:
        return self["required"]

    @property
    def definitions(self) -> dict[str, Any]:
        return self["definitions"]

    @property
    def title(self) -> str:
        return self["title"]

    @property
    def type(self) -> str:
        return self["type"]

    def model_dump(self, **_options: Any) -> dict[str, Any]:
        return dict(self)
