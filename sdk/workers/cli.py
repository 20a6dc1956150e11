"""`python -m sdk serve module:name [module:name ...] [--concurrency N] [--name NAME]`."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

USAGE = "usage: python -m sdk serve module:name [module:name ...] [--concurrency N] [--name NAME]"


def load(spec: str) -> Any:
    """`package.module:attribute` → the object (a @task or @flow)."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{spec!r} is not module:name (e.g. my_project.flows:nightly)")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules of the current directory
    module = importlib.import_module(module_name)
    try:
        obj = module
        for part in attribute.split("."):
            obj = getattr(obj, part)
    except AttributeError:
        raise ValueError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return obj


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sdk serve", usage=USAGE)
    parser.add_argument("targets", nargs="+", metavar="module:name")
    parser.add_argument("--concurrency", type=int, default=1, help="runs at once (threads), default 1")
    parser.add_argument("--name", default=None, help="worker name (default hostname:pid)")
    parser.add_argument("--loglevel", default="WARNING")
    args = parser.parse_args(argv)
    try:
        targets = [load(spec) for spec in args.targets]
    except (ValueError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from sdk.workers.api import ReportingOff
    from sdk.workers.serve import serve

    try:
        serve(*targets, concurrency=args.concurrency, name=args.name, loglevel=args.loglevel)
    except (TypeError, ValueError, ReportingOff) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
