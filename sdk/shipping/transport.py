"""One POST of an event batch, and what its answer means for the shipper.

httpx is imported when the first batch is sent, so neither `import sdk` nor a
process that reports nothing pays for it.
"""
from __future__ import annotations

import gzip
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["Outcome", "Transport", "MAX_BATCH_BYTES", "GZIP_MIN_BYTES"]

MAX_BATCH_BYTES = 8 * 1024 * 1024  # half of what the server takes in one request
GZIP_MIN_BYTES = 16 * 1024  # smaller bodies are sent as they are

# What the shipper does with a batch, by outcome kind:
OK = "ok"  # acknowledged (some events may be listed as rejected: log and drop those)
SPLIT = "split"  # the batch as a whole was refused (400/413/other 4xx): split it to isolate the bad event
RETRY = "retry"  # transient (network, timeout, 429, 5xx): keep the events, back off, retry
CONFIG = "config"  # needs a person (wrong key, wrong URL): keep the events spooled, retry rarely


@dataclass
class Outcome:
    kind: str
    problem: str = ""  # a short key: the shipper warns once per problem
    message: str = ""
    rejected: list = field(default_factory=list)
    retry_after: float | None = None


class Transport:
    def __init__(self, api_url: str, api_key: str | None, timeout: float, max_batch_bytes: int,
                 gzip_min_bytes: int) -> None:
        self.endpoint = api_url.rstrip("/") + "/events/"
        self.api_key = api_key
        self.timeout = timeout
        self.max_batch_bytes = max_batch_bytes
        # Compressing for a server on this machine never pays: it only burns the user's CPU.
        self.gzip_min_bytes = float("inf") if _is_loopback(api_url) else gzip_min_bytes
        self._client = None

    def _get_client(self):
        if self._client is None:
            import httpx

            headers = {"Content-Type": "application/json", "User-Agent": "orchestrator-sdk-shipping/1"}
            if self.api_key:
                headers["Authorization"] = f"Bearer {self.api_key}"
            self._client = httpx.Client(
                headers=headers, timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0))
            )
        return self._client

    def send(self, events: list[dict]) -> Outcome:
        try:
            body = json.dumps({"events": events}, separators=(",", ":"), default=str).encode("ascii")
        except (TypeError, ValueError) as exc:
            return Outcome(SPLIT, "encode", f"an event cannot be encoded as JSON: {exc}")
        if len(body) > self.max_batch_bytes:
            return Outcome(SPLIT, "too-large", f"event too large ({len(body)} bytes > {self.max_batch_bytes})")
        headers = {}
        if len(body) >= self.gzip_min_bytes:
            body = gzip.compress(body, compresslevel=1, mtime=0)
            headers["Content-Encoding"] = "gzip"
        try:
            client = self._get_client()
            response = client.post(self.endpoint, content=body, headers=headers)
            if response.status_code == 415 and headers:
                self.gzip_min_bytes = float("inf")  # a server without gzip support: send plain JSON from now on
                return self.send(events)
        except Exception as exc:  # every network failure is classified, never raised
            return classify_error(exc, self.endpoint)
        return classify_response(response, self.endpoint)

    def prepare(self) -> None:
        """Make the HTTP client now (before threads share it)."""
        self._get_client()

    def close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                client.close()
            except Exception:
                pass

    def forget(self) -> None:
        """After fork: never reuse the parent's connections."""
        self._client = None


def _is_loopback(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return host == "localhost" or host.startswith("127.") or host == "::1"


def classify_error(exc: Exception, endpoint: str) -> Outcome:
    try:
        import httpx
    except ImportError:
        return Outcome(CONFIG, "no-httpx", f"cannot report to {endpoint}: httpx is not installed ({exc})")

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL)) or not isinstance(exc, httpx.HTTPError):
        return Outcome(CONFIG, "bad-url", f"cannot send to {endpoint}: {text} (check ORCHESTRATOR_API_URL)")
    lowered = text.lower()
    if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
        return Outcome(RETRY, "tls", f"TLS error talking to {endpoint}: {text}")
    if isinstance(exc, httpx.TimeoutException):
        return Outcome(RETRY, "timeout", f"{endpoint} did not answer in time: {text}")
    if "name or service not known" in lowered or "name resolution" in lowered or "nodename nor servname" in lowered \
            or "no address associated" in lowered or "getaddrinfo" in lowered:
        return Outcome(RETRY, "dns", f"cannot resolve the host of {endpoint}: {text} (check ORCHESTRATOR_API_URL)")
    if isinstance(exc, httpx.ConnectError):
        return Outcome(RETRY, "connect", f"cannot connect to {endpoint}: {text}")
    return Outcome(RETRY, "network", f"network error talking to {endpoint}: {text}")


def _reason(response) -> str:
    try:
        data = response.json()
    except Exception:
        return response.text[:300].strip() or response.reason_phrase
    if isinstance(data, dict):
        for key in ("error", "detail", "message"):
            if key in data:
                return str(data[key])[:300]
    return json.dumps(data)[:300]


def _retry_after(response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def classify_response(response, endpoint: str) -> Outcome:
    status = response.status_code
    if 200 <= status < 300:
        try:
            data = response.json()
        except Exception:
            data = None
        if not isinstance(data, dict):
            return Outcome(CONFIG, "not-api", f"{endpoint} answered {status} with something that is not the "
                                              f"orchestrator API (check ORCHESTRATOR_API_URL)")
        rejected = data.get("rejected") or []
        return Outcome(OK, rejected=rejected if isinstance(rejected, list) else [])
    reason = _reason(response)
    if status in (401, 403):
        return Outcome(CONFIG, "auth", f"{endpoint} refused the API key ({status}: {reason}); events are kept in "
                                       f"the spool until a process with a valid ORCHESTRATOR_API_KEY sends them")
    if status in (404, 405) or 300 <= status < 400:
        return Outcome(CONFIG, "not-found", f"{endpoint} answered {status} ({reason}); check ORCHESTRATOR_API_URL "
                                            f"(it should end with /api)")
    if status in (408, 429) or status >= 500:
        return Outcome(RETRY, f"http-{status}", f"{endpoint} answered {status}: {reason}",
                       retry_after=_retry_after(response))
    return Outcome(SPLIT, f"http-{status}", f"{status}: {reason}")
