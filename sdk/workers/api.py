"""The HTTP calls of background runs: create (`.delay()`), wait, claim. Talks only to the API."""
from __future__ import annotations

import os
import threading
from typing import Any

__all__ = ["ApiError", "api_client", "ReportingOff"]


class ReportingOff(RuntimeError):
    """Background runs need a server: ORCHESTRATOR_API_URL is not set."""


class ApiError(RuntimeError):
    def __init__(self, status: int, detail: str, body: Any = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.body = body


class ApiClient:
    def __init__(self, api_url: str, api_key: str | None) -> None:
        import httpx

        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base = api_url.rstrip("/")
        self.http = httpx.Client(headers=headers, timeout=httpx.Timeout(10.0, read=75.0))

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        response = self.http.request(method, f"{self.base}/{path.lstrip('/')}", **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = {"error": response.text[:500]}
        return response.status_code, body

    def call(self, method: str, path: str, ok: tuple[int, ...] = (200, 201, 202), **kwargs: Any) -> Any:
        status, body = self.request(method, path, **kwargs)
        if status not in ok:
            detail = body.get("detail") or body.get("error") if isinstance(body, dict) else str(body)
            raise ApiError(status, str(detail), body)
        return body


_clients: dict[tuple[str, str | None], ApiClient] = {}
_lock = threading.Lock()


def api_client() -> ApiClient:
    """One keep-alive client per (ORCHESTRATOR_API_URL, ORCHESTRATOR_API_KEY)."""
    url = os.environ.get("ORCHESTRATOR_API_URL", "").strip()
    if not url:
        raise ReportingOff(
            "Background runs need the server: set ORCHESTRATOR_API_URL (and ORCHESTRATOR_API_KEY) "
            "to use .delay() or serve()."
        )
    key = (url, os.environ.get("ORCHESTRATOR_API_KEY") or None)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = _clients[key] = ApiClient(*key)
    return client


def _forget_clients() -> None:
    _clients.clear()  # an httpx client's connections do not survive a fork


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_clients)
