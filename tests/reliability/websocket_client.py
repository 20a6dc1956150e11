"""A minimal RFC 6455 websocket client over a plain socket, for talking to a real Daphne process.

Channels' WebsocketCommunicator runs the consumer in-process; the scale-out test needs a
socket to one server process while events arrive through another. Enough of the protocol
for that: the handshake (with a Cookie), reading text frames (fragmented too), closing.
"""
from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeRefused(Exception):
    pass


class WebsocketClient:
    def __init__(self, host: str, port: int, path: str, cookie: str = "", timeout: float = 30) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n")
        self.sock.sendall(request.encode("latin-1"))
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise HandshakeRefused(f"connection closed during the handshake: {self.buffer[:200]!r}")
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status + b" ":
            raise HandshakeRefused(status.decode("latin-1"))
        accept = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())
        if accept not in head:
            raise HandshakeRefused("wrong Sec-WebSocket-Accept")

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _frame(self) -> tuple[bool, int, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._read(8))[0]
        mask = self._read(4) if second & 0x80 else b""
        payload = self._read(length)
        if mask:
            payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        return bool(first & 0x80), first & 0x0F, payload

    def receive_text(self, timeout: float) -> str:
        """The next text message (fragments joined); ConnectionError when the server closes."""
        self.sock.settimeout(timeout)
        parts: list[bytes] = []
        while True:
            fin, opcode, payload = self._frame()
            if opcode == 0x8:
                raise ConnectionError(f"closed by the server: {payload[:2].hex()}")
            if opcode == 0x9:  # ping: answer, keep reading
                self._send(0xA, payload)
                continue
            if opcode in (0x1, 0x0):
                parts.append(payload)
                if fin:
                    return b"".join(parts).decode()

    def receive_until(self, predicate, timeout: float) -> str:
        """Text messages until one satisfies `predicate` (returned); TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no matching websocket message")
            try:
                text = self.receive_text(remaining)
            except socket.timeout as exc:
                raise TimeoutError("no matching websocket message") from exc
            if predicate(text):
                return text

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)  # clients always mask
        header = bytes([0x80 | opcode, 0x80 | len(payload)]) if len(payload) < 126 else \
            bytes([0x80 | opcode, 0x80 | 126]) + struct.pack("!H", len(payload))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def close(self) -> None:
        try:
            self._send(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()
