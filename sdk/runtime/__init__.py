"""What is running, by Prefect's names: `from sdk import runtime; runtime.flow_run.name`.

Each attribute of `flow_run`, `task_run` and `deployment` is read when you access it, from
the run context of the caller; outside a run it is None (or an empty value).
"""
from sdk.runtime import deployment, flow_run, task_run

__all__ = ["flow_run", "task_run", "deployment"]
