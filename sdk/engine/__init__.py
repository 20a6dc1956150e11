"""Running task and flow runs: the attempt loop and everything it sequences.

Nothing here is public API; `sdk.tasks` and `sdk.flows` call into it. One
concept per module: `task_engine` / `flow_engine` sequence a run and `attempts`
holds what they share, `runs` the run records and the events they emit,
`resolution` and `rendering` handle inputs, `retries`, `timeouts` and `hooks`
are the cross-cutting behaviours, `errors` describes exceptions, `options`
checks decorator options, `signatures` binds calls, `names` and `stamps` make
run names, ids and timestamps, `coroutines` runs `async def` bodies.
"""
