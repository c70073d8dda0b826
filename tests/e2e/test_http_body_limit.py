"""Over streamable HTTP a 10 MB image fits as a data URI; a 200 MB body is still refused."""

from __future__ import annotations

import base64
import io
import os
import socket
from urllib.parse import urlparse

import pytest
from mcp import Client
from PIL import Image

from tests.conftest import server_env
from tests.e2e.helpers import text_of
from tests.support.servers import http_server

pytestmark = pytest.mark.anyio


def noise_png(side: int) -> bytes:
    """A PNG of random pixels: it does not compress, so its size is about 3 bytes a pixel."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG", compress_level=0)
    return buffer.getvalue()


async def test_a_9_5_mb_image_as_a_data_uri_gets_a_task(fake, tmp_path):
    png = noise_png(1780)
    assert 9_500_000 < len(png) < 10 * 1024 * 1024
    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    with http_server(server_env(fake, tmp_path / "data")) as url:
        async with Client(url, mode="legacy") as client:
            result = await client.call_tool("generate_video", {"image": uri, "prompt": "a cat", "wait_seconds": 0})
    assert not result.is_error, text_of(result)
    assert result.structured_content["task_id"]
    assert len(fake.provider("wavespeed").submits()) == 1


def test_a_200_mb_body_is_refused(fake, tmp_path):
    with http_server(server_env(fake, tmp_path / "data")) as url:
        address = urlparse(url)
        with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
            sock.sendall(f"POST {address.path} HTTP/1.1\r\nHost: 127.0.0.1:{address.port}\r\n"
                         "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
                         f"Content-Length: {200 * 1024 * 1024}\r\n\r\n".encode())
            reply = sock.recv(4096).decode("latin-1")
    assert reply.startswith("HTTP/1.1 413"), reply[:200]
