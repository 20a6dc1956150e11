"""`python -m sdk serve module:name [module:name ...]`: start a task worker (sdk/workers/cli.py)."""
from __future__ import annotations

import sys

USAGE = "usage: python -m sdk serve module:name [module:name ...]"


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "serve":
        print(USAGE, file=sys.stderr)
        return 2
    from sdk.workers.cli import main as serve_main

    return serve_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
