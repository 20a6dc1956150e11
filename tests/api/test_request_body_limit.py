"""Request bodies over the limit get 413 from the server where it starts (Daphne), before it buffers them."""
from __future__ import annotations

import asyncio
import socket

import pytest

from orchestrator.body_limit import BodyLimits, RequestBodyLimit
from tests.shipping.live_server import running_server


@pytest.fixture(scope="module")
def server():
    with running_server() as server:
        yield server


def send_raw(port: int, head: bytes, body_parts, timeout: float = 30) -> bytes:
    """Send a request's head and then body parts until the server answers; return what it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        answer = b""
        try:
            for part in body_parts:
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed the connection after refusing: read its answer
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def test_a_declared_huge_body_is_refused_before_it_is_sent(server):
    head = (b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 500000000\r\n\r\n")
    answer = send_raw(server.port, head, [b"a" * 65536])  # 64 KB of the 500 MB, then wait for the answer
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"the limit for this path" in answer


def test_a_chunked_body_is_refused_once_it_passes_the_limit(server):
    head = b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"a" * 65536
    parts = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(64))  # 4 MiB in all, over the 2 MiB default
    answer = send_raw(server.port, head, parts)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_the_ingest_path_takes_bodies_up_to_the_batch_limit(server):
    body = b'{"events": [' + b" " * (3 * 1024 * 1024) + b"]}"  # over the default limit, under the batch limit
    head = (b"POST /api/events/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer " + server.key.encode() + b"\r\nConnection: close\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n")
    answer = send_raw(server.port, head, [body])
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]


def run_asgi(limits: BodyLimits, path: str, headers: list, chunks: list[bytes]) -> list[dict]:
    """Drive RequestBodyLimit around an app that reads the whole body; return what was sent."""
    sent: list[dict] = []
    incoming = [{"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)]

    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": headers}
    asyncio.run(RequestBodyLimit(app, limits)(scope, receive, send))
    return sent


def test_the_asgi_guard_refuses_a_declared_length_over_the_limit_without_calling_the_app():
    sent = run_asgi(BodyLimits(default=10, ingest=100), "/login/", [(b"content-length", b"11")], [b"x" * 11])
    assert sent[0]["status"] == 413


def test_the_asgi_guard_counts_a_body_without_a_declared_length():
    sent = run_asgi(BodyLimits(default=10, ingest=100), "/login/", [], [b"x" * 6, b"x" * 6])
    assert sent[0]["status"] == 413
    assert run_asgi(BodyLimits(default=10, ingest=100), "/api/events/", [], [b"x" * 6, b"x" * 6])[0]["status"] == 200
