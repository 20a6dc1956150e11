"""Exceptions the SDK raises into user code."""
from __future__ import annotations

__all__ = [
    "SDKError",
    "MissingContextError",
    "UpstreamTaskError",
    "TaskRunTimeout",
    "FlowRunTimeout",
    "FailedRun",
    "CrashedRun",
    "UnfinishedRun",
    "MappingLengthMismatch",
    "MappingMissingIterable",
    "ParameterTypeError",
]


class SDKError(Exception):
    """Base class of the SDK's own errors."""


class MissingContextError(SDKError, RuntimeError):
    """Something that needs a flow or task run was used outside of one."""


class UpstreamTaskError(SDKError):
    """A task did not run because a run it depends on did not complete."""


class TaskRunTimeout(SDKError, TimeoutError):
    """A task run exceeded its `timeout_seconds`."""


class FlowRunTimeout(SDKError, TimeoutError):
    """A flow run exceeded its `timeout_seconds`."""


class FailedRun(SDKError):
    """A run failed and its state holds no exception to re-raise."""


class CrashedRun(SDKError):
    """A run was interrupted by something outside its own code."""


class UnfinishedRun(SDKError):
    """A result was asked of a run that has not reached a final state."""


class MappingLengthMismatch(SDKError, ValueError):
    """`.map()` got iterables of different lengths."""


class MappingMissingIterable(SDKError, ValueError):
    """`.map()` got no iterable to map over."""


class ParameterTypeError(SDKError, TypeError):
    """A flow was called with parameters that do not fit its type annotations."""

    @classmethod
    def from_errors(cls, problems: list[str]) -> ParameterTypeError:
        return cls("Flow run received invalid parameters:\n - " + "\n - ".join(problems))
