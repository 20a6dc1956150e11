"""Running task and flow runs: the attempt loop and everything it sequences.

Nothing here is public API; `sdk.tasks` and `sdk.flows` call into it. One
concept per module: `task_engine` / `flow_engine` sequence a run, `runs` holds
the run records and the events they emit, `resolution` and `rendering` handle
inputs, `retries`, `timeouts` and `hooks` are the cross-cutting behaviours.
"""
