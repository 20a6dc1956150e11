"""One SDK process of the soak: a flow of N tasks, each logging, reported to ORCHESTRATOR_API_URL.

Every event it emits is recorded (id, type, the run ids) and written to `--ids` at the
end, so the soak can compare the database with exactly what was emitted.

  --mode deliver      run the flow, flush until acknowledged, exit 0 (3 if not acknowledged)
  --mode spool-wait   run the flow while the server is away; once every event is on disk
                      in the spool, print SPOOLED and wait to be SIGKILLed
"""
from __future__ import annotations

import argparse
import json
import sys
import time

KEEP = ("id", "type", "flow_run_id", "task_run_id")


class RecordingSink:
    """Passes events on and keeps what the comparison needs of each."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.records: list[dict] = []

    def emit(self, event: dict) -> None:
        record = {k: event[k] for k in KEEP if k in event}
        if "state_type" in event:
            record["state_type"] = event["state_type"]
        self.records.append(record)
        self.inner.emit(event)

    def flush(self, timeout=None) -> bool:
        return self.inner.flush(timeout)

    def close(self, timeout=None) -> None:
        self.inner.close(timeout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, required=True)
    parser.add_argument("--ids", required=True)
    parser.add_argument("--mode", choices=["deliver", "spool-wait"], default="deliver")
    parser.add_argument("--flush-timeout", type=float, default=600)
    args = parser.parse_args()

    from sdk import events, flow, get_run_logger, task
    from sdk.shipping import ShippingSink

    shipping = ShippingSink.from_environment()
    sink = RecordingSink(shipping)
    events.set_sink(sink)

    @task
    def step(i: int) -> int:
        get_run_logger().info("step %d of the soak", i)
        return i

    @flow(name="soak")
    def soak_flow(n: int) -> int:
        return sum(step(i) for i in range(n))

    started = time.monotonic()
    soak_flow(args.tasks)
    emitted_at = time.monotonic()
    if args.mode == "spool-wait":
        deadline = time.monotonic() + args.flush_timeout
        while shipping.stats["spooled"] < len(sink.records) and time.monotonic() < deadline:
            time.sleep(0.05)
        write_ids(args.ids, sink.records)
        print("SPOOLED" if shipping.stats["spooled"] >= len(sink.records) else "NOT-SPOOLED", flush=True)
        time.sleep(3600)  # the soak SIGKILLs this process here
        return 1
    delivered = sink.flush(args.flush_timeout)
    write_ids(args.ids, sink.records)
    print(json.dumps({"events": len(sink.records), "emit_seconds": emitted_at - started,
                      "total_seconds": time.monotonic() - started, "delivered": delivered}), flush=True)
    return 0 if delivered else 3


def write_ids(path: str, records: list[dict]) -> None:
    with open(path, "w") as out:
        for record in records:
            out.write(json.dumps(record, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    sys.exit(main())
