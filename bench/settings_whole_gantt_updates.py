"""The server's settings with every flow-run page update carrying its whole Gantt (the way
before changed rows were sent alone): the comparison bench/dashboard.py measures live updates against."""
from orchestrator.settings import *  # noqa: F403

DASHBOARD_GANTT_ROW_UPDATES = False
