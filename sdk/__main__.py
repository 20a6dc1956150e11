"""`python -m sdk serve module:name [module:name ...]`: start a task worker (not available yet).
`python -m sdk replay`: send the events spooled for ORCHESTRATOR_API_URL now."""
from __future__ import annotations

import sys

from sdk.shipping import replay
from sdk.workers import NOT_AVAILABLE

USAGE = "usage: python -m sdk serve module:name [module:name ...]\n       python -m sdk replay"


def main(argv: list[str]) -> int:
    if argv and argv[0] == "replay":
        return replay.main(argv[1:])
    if not argv or argv[0] != "serve":
        print(USAGE, file=sys.stderr)
        return 2
    print(f"error: {NOT_AVAILABLE}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
