"""A server that does not take gzip answers 415: the shipper sends the same batch as plain
JSON, keeps sending plain JSON from then on, and nothing is lost."""
from __future__ import annotations

import httpx

from sdk.shipping import ShippingSink
from tests.shipping.helpers import StubServer, synthetic_flow


class GzipRefusingProxy(StubServer):
    """Answers 415 to a gzip body; forwards plain JSON to the real server and relays its answer."""

    def __init__(self, target: str, key: str) -> None:
        self.target = target.rstrip("/") + "/events/"
        self.key = key
        self.encodings: list[str | None] = []
        super().__init__()

    def answer_request(self, headers: dict[str, str], body: bytes) -> tuple[int, dict]:
        encoding = {k.lower(): v for k, v in headers.items()}.get("content-encoding")
        self.encodings.append(encoding)
        if encoding == "gzip":
            return 415, {"detail": "Unsupported media type \"gzip\" in request."}
        response = httpx.post(self.target, content=body, timeout=60, headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.key}"})
        return response.status_code, response.json()


def test_a_415_to_a_gzip_body_switches_to_plain_json_for_good(server, home):
    proxy = GzipRefusingProxy(server.url, server.key)
    sink = ShippingSink(proxy.url, None, home, register_atexit=False)
    try:
        sink._transport.gzip_min_bytes = 1024  # loopback is never compressed by default: force it
        first = list(synthetic_flow(300))
        for event in first:
            sink.emit(event)
        assert sink.flush(30)
        second = list(synthetic_flow(300))
        for event in second:
            sink.emit(event)
        assert sink.flush(30)
    finally:
        sink.close(0)
        proxy.close()
    assert proxy.encodings[0] == "gzip"  # tried once
    assert proxy.encodings.count("gzip") == 1, proxy.encodings  # and never again
    assert len(proxy.encodings) >= 3  # the refused batch again as plain JSON, then the second flow
    server.db.assert_holds(first + second)
