"""The server's settings with no channel layer, so nothing is published: the baseline that
bench/ingest.py --live-updates compares ingestion against."""
from orchestrator.settings import *  # noqa: F403

CHANNEL_LAYERS: dict = {}
