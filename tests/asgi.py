"""Calling an ASGI application in process, as Daphne would: a scope, the body in messages, what it sends."""
from __future__ import annotations

import asyncio


def http_scope(path: str, method: str = "POST", headers=(), query: bytes = b"") -> dict:
    """An HTTP scope; `headers` as (name, value) strings (a Host of testserver unless one is given)."""
    raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]
    if not any(name == b"host" for name, _ in raw):
        raw.insert(0, (b"host", b"testserver"))
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": path, "raw_path": path.encode(), "root_path": "", "query_string": query, "headers": raw,
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)}


async def drive(app, scope: dict, chunks: list[bytes] = (b"",)) -> list[dict]:
    """Run one request through `app`, its body in `chunks` (one ASGI message each; the client then stays
    connected); the messages the app sent."""
    incoming = [{"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)]
    sent: list[dict] = []

    async def receive() -> dict:
        if incoming:
            return incoming.pop(0)
        await asyncio.Event().wait()  # the client stays connected
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def status_of(sent: list[dict]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def body_of(sent: list[dict]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
