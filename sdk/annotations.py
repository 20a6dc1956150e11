"""Wrappers that change how a task argument is resolved (Prefect 3's names and meaning).

| wrapper            | futures resolved | contents traversed | dependency recorded |
|--------------------|------------------|--------------------|---------------------|
| (none)             | yes, at any depth| yes                | yes                 |
| `quote(x)`         | no               | no                 | no                  |
| `opaque(x)`        | top level only   | no                 | yes                 |
| `allow_failure(x)` | yes; a failed upstream gives its exception as the value | yes | yes |
| `unmapped(x)`      | `.map()` passes `x` whole to every run             | yes | yes |
"""
from __future__ import annotations

from typing import Generic, TypeVar

__all__ = ["BaseAnnotation", "quote", "opaque", "allow_failure", "unmapped"]

T = TypeVar("T")


class BaseAnnotation(Generic[T]):
    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def unwrap(self) -> T:
        return self.value

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.value == other.value  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), id(self.value)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class quote(BaseAnnotation[T]):
    """Pass `value` exactly as it is: no traversal, no resolution, no dependency."""


class opaque(BaseAnnotation[T]):
    """Resolve a future at the top level only; never traverse or rebuild the object."""


class allow_failure(BaseAnnotation[T]):
    """Run the downstream task even if this upstream failed; it receives the exception."""


class unmapped(BaseAnnotation[T]):
    """In `.map()`, pass `value` whole to every run instead of iterating over it."""

    def __getitem__(self, _index: int) -> T:
        return self.value
