"""What a worker serves: tasks by key, flows by name.

Serving a flow also serves the tasks defined beside it (the Task objects in its
module), so a failed task of a served flow can be retried on its own.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sdk.workers.engine_bridge import Flow, Task
from sdk.workers.queues import queue_name


@dataclass
class Served:
    tasks: dict[str, Task] = field(default_factory=dict)
    flows: dict[str, Flow] = field(default_factory=dict)

    @classmethod
    def of(cls, objects: tuple[Any, ...]) -> "Served":
        if not objects:
            raise TypeError("serve() needs at least one @task or @flow to serve")
        served = cls()
        for obj in objects:
            if isinstance(obj, Task):
                served.tasks[obj.task_key] = obj
            elif isinstance(obj, Flow):
                served.flows[obj.name] = obj
                for value in list(getattr(obj.fn, "__globals__", {}).values()):
                    if isinstance(value, Task):
                        served.tasks.setdefault(value.task_key, value)
            else:
                raise TypeError(f"serve() takes @task and @flow objects, got {obj!r}")
        return served

    def lookup(self, kind: str, key: str) -> Task | Flow | None:
        return (self.tasks if kind == "task" else self.flows).get(key)

    def queues(self) -> list[str]:
        return [queue_name("task", k) for k in self.tasks] + [queue_name("flow", n) for n in self.flows]
