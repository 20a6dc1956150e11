"""Websocket routes of the dashboard (mounted by orchestrator/asgi.py)."""
from django.urls import path

from dashboard.consumers import LiveUpdatesConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveUpdatesConsumer.as_asgi()),
]
