"""Shared fixtures: the fake providers, test images, and the real server started over stdio."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from PIL import Image

from tests.fakes import FakeServer

PROVIDERS = ("wavespeed", "gptproto", "aimlapi", "myrouter")
ERAS = ("legacy", "2026-07-28")
SERVER_COMMAND = str(Path(sys.executable).with_name("videogen-mcp"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> FakeServer:
    with FakeServer() as server:
        yield server
        assert not server.bugs, server.bugs


def make_image(path: Path, size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, format=fmt)
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def png(tmp_path: Path) -> Path:
    return make_image(tmp_path / "photo.png")


def server_env(fake: FakeServer, data_dir: Path, providers: tuple[str, ...] = ("wavespeed",), **extra: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(data_dir),
        "VIDEOGEN_DATA_DIR": str(data_dir),
        "VIDEOGEN_POLL_INTERVAL": "0.05",
        "VIDEOGEN_POLL_MAX_INTERVAL": "0.5",
    }
    for name in providers:
        env[f"{name.upper()}_API_KEY"] = fake.api_key(name)
        env[f"{name.upper()}_BASE_URL"] = fake.base_url(name)
    env.update(extra)
    return env


@asynccontextmanager
async def stdio_client(env: dict, mode: str = "legacy", **kwargs) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=SERVER_COMMAND, args=[], env=env)
    async with Client(params, mode=mode, **kwargs) as client:
        yield client


@pytest.fixture
def start_server(fake: FakeServer, tmp_path: Path) -> Callable:
    """start_server(mode, providers=..., **env) -> async context manager of a connected client."""

    def start(mode: str = "legacy", providers: tuple[str, ...] = ("wavespeed",), **extra: str):
        return stdio_client(server_env(fake, tmp_path / "data", providers, **extra), mode)

    return start
