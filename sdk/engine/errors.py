"""How a run's exception is described: in a state message, a log line, an event's `error`."""
from __future__ import annotations

import os
import traceback
from types import TracebackType

__all__ = ["describe_error", "format_error", "error_info", "user_traceback"]

_SDK_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # sdk/, not sdk/engine/


def user_traceback(exc: BaseException) -> TracebackType | None:
    """The exception's traceback without the SDK's own leading frames (engine plumbing)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None and tb.tb_frame.f_code.co_filename.startswith(_SDK_DIR):
        tb = tb.tb_next
    return tb


def describe_error(exc: BaseException) -> str:
    """`ValueError: message`, even for an exception whose __str__ raises."""
    try:
        text = str(exc)
    except Exception:
        text = "<unprintable message>"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def format_error(exc: BaseException) -> str:
    try:
        return "".join(traceback.format_exception(type(exc), exc, user_traceback(exc)))
    except Exception:
        return describe_error(exc)


def error_info(exc: BaseException) -> dict[str, str]:
    """The `error` of a failed state's event: type, message and the user's traceback."""
    message = describe_error(exc).partition(": ")[2]
    return {"type": type(exc).__name__, "message": message, "traceback": format_error(exc)}
