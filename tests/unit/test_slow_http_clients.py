"""A client that sends its request too slowly (headers or body) has its connection closed by the server."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from threading import Thread
from typing import Any

import pytest
import uvicorn

from videogen_mcp import http_deadline
from videogen_mcp.http_transport import uvicorn_config

#: How long the test waits for the server to close the connection: far above the lowered deadline.
PATIENCE = 15.0


async def echo_body(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """An ASGI app that reads the whole request body, then answers 200."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
def port(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(http_deadline, "REQUEST_SECONDS", 0.5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        number = s.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(echo_body, "127.0.0.1", number))
    thread = Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield number
    server.should_exit = True
    thread.join(10)


@contextmanager
def connection(port: int) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as sock:
        yield sock


def closed_by_server(sock: socket.socket, trickle: bytes = b"") -> bool:
    """Send `trickle` a byte every 0.1 s (then nothing); True once the server closes the connection."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        if select.select([sock], [], [], 0.1)[0]:
            try:
                return sock.recv(4096) == b""
            except ConnectionResetError:
                return True
        if trickle:
            try:
                sock.send(trickle[:1])
            except (BrokenPipeError, ConnectionResetError):
                return True
            trickle = trickle[1:]
    return False


def answer(sock: socket.socket) -> bytes:
    """Send a whole request and read its whole response (which ends in the body "ok")."""
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    reply = b""
    while not reply.endswith(b"ok"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        reply += chunk
    return reply


def test_a_complete_request_is_answered(port):
    with connection(port) as sock:
        assert answer(sock).startswith(b"HTTP/1.1 200")


def test_headers_sent_byte_by_byte_are_cut_off(port):
    with connection(port) as sock:
        assert closed_by_server(sock, b"POST / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000)


def test_a_connection_that_sends_nothing_is_closed(port):
    with connection(port) as sock:
        assert closed_by_server(sock)


def test_a_body_that_never_completes_is_cut_off(port):
    with connection(port) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + b"a" * 10)
        assert closed_by_server(sock)


def test_a_second_request_on_a_kept_alive_connection_has_its_own_deadline(port):
    with connection(port) as sock:
        assert answer(sock).startswith(b"HTTP/1.1 200")
        assert closed_by_server(sock, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n" + b"a" * 8)
