"""Request bodies over a limit are refused with 413 before anything buffers them.

Daphne (Twisted) would otherwise take any body: it spools the whole body to a
temporary file, then hands all of it to the application at once (every chunk is
queued in memory before the application reads one), and Django reads it all
again before a view can say no. So the limit is checked twice:

- in Daphne, as soon as the headers are in (`guard_daphne_requests`): a declared
  Content-Length over the limit is answered 413 and the connection closed, and a
  chunked body is counted as it arrives;
- in front of Django (`RequestBodyLimit`, ASGI), for any other server.

`/api/events/` may carry a whole event batch (ORCHESTRATOR_MAX_BATCH_BYTES); every
other path ORCHESTRATOR_MAX_REQUEST_BYTES. Behind a reverse proxy, set the same
limit there (docs/deploy.md).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import urlsplit

INGEST_PATH = "/api/events/"


class BodyLimits:
    def __init__(self, default: int, ingest: int) -> None:
        self.default, self.ingest = default, ingest

    def for_path(self, path: str) -> int:
        return self.ingest if path == INGEST_PATH else self.default

    @classmethod
    def from_settings(cls) -> BodyLimits:
        from django.conf import settings

        return cls(settings.ORCHESTRATOR_MAX_REQUEST_BYTES, settings.ORCHESTRATOR_MAX_BATCH_BYTES)


def refusal(limit: int) -> bytes:
    return json.dumps({"error": f"request body is over {limit} bytes, the limit for this path"}).encode()


class BodyTooLarge(Exception):
    pass


class RequestBodyLimit:
    """ASGI middleware: 413 for a declared or received body over the path's limit."""

    def __init__(self, app, limits: BodyLimits) -> None:
        self.app, self.limits = app, limits

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limits.for_path(scope["path"])
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self.refuse(send, limit)
        received = 0
        started = False

        async def counted_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await self.refuse(send, limit)

    @staticmethod
    async def refuse(send, limit: int) -> None:
        body = refusal(limit)
        await send({"type": "http.response.start", "status": 413, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]})
        await send({"type": "http.response.body", "body": body})


def guard_daphne_requests(limit_for: Callable[[str], int]) -> None:
    """Make Daphne refuse an oversized body while receiving it, not after spooling all of it."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # not served by Daphne
        return
    if getattr(WebRequest, "body_limit_guarded", False):
        return
    received_length = WebRequest.gotLength
    received_chunk = WebRequest.handleContentChunk

    def gotLength(self, length):
        target = getattr(self.channel, "_path", b"") or b""
        self.body_limit = limit_for(urlsplit(target.decode("latin-1")).path)
        self.body_received = 0
        self.body_refused = False
        if length is not None and length > self.body_limit:
            refuse_and_close(self)
        received_length(self, length)

    def handleContentChunk(self, data):
        if self.body_refused:
            return  # dropped: the connection is closing
        self.body_received += len(data)
        if self.body_received > self.body_limit:
            refuse_and_close(self)
            return
        received_chunk(self, data)

    def refuse_and_close(self):
        self.body_refused = True
        body = refusal(self.body_limit)
        transport = self.channel.transport
        transport.write(
            b"HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
        )
        transport.loseConnection()

    WebRequest.gotLength = gotLength
    WebRequest.handleContentChunk = handleContentChunk
    WebRequest.body_limit_guarded = True
