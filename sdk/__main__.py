"""`python -m sdk serve module:name [module:name ...]`: start a task worker (not available yet)."""
from __future__ import annotations

import sys

from sdk.workers import NOT_AVAILABLE

USAGE = "usage: python -m sdk serve module:name [module:name ...]"


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "serve":
        print(USAGE, file=sys.stderr)
        return 2
    print(f"error: {NOT_AVAILABLE}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
