"""When a sink closes, and what a forked child keeps: atexit, multiprocessing children, os.fork.

A sink closes at interpreter exit (atexit), or from the exit hook of a
`multiprocessing` child (those end with os._exit, which skips atexit). A child
made by fork starts with an empty sink: the parent's events stay the parent's.
"""
from __future__ import annotations

import atexit
import multiprocessing.util
import os
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sdk.shipping.sink import ShippingSink

__all__ = ["register"]

_live_sinks: weakref.WeakSet[ShippingSink] = weakref.WeakSet()


def register(sink: ShippingSink, close_at_exit: bool) -> None:
    _live_sinks.add(sink)
    if close_at_exit:
        atexit.register(sink.close_at_exit)
    multiprocessing.util.register_after_fork(sink, _close_at_child_exit)


def _close_at_child_exit(sink: ShippingSink) -> None:
    multiprocessing.util.Finalize(sink, sink.close_at_exit, exitpriority=10)


def _after_fork_in_child() -> None:
    for sink in list(_live_sinks):
        sink.after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork_in_child)
