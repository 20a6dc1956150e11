"""Run logging under Prefect's module path: `from sdk.logging import get_run_logger`.

The machinery is in `sdk.logs`; this package gives it Prefect's names:
`get_run_logger`, `disable_run_logger`, `get_logger`, and in `sdk.logging.loggers`
`flow_run_logger` / `task_run_logger` (loggers for a run you hold, e.g. in a hook).
"""
from __future__ import annotations

from sdk.logging.loggers import (disable_run_logger, flow_run_logger, get_logger, get_run_logger,
                                 task_run_logger)

__all__ = ["get_run_logger", "disable_run_logger", "get_logger", "flow_run_logger", "task_run_logger"]
