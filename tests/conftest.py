"""Shared fixtures: the fake providers, a test image, and the real server started over stdio.

The helpers behind them live in tests/support; the names below stay importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fakes import FakeServer
from tests.support.images import make_image
from tests.support.servers import ERAS, PROVIDERS, SERVER_COMMAND, server_env, stdio_client

__all__ = ["ERAS", "PROVIDERS", "SERVER_COMMAND", "make_image", "server_env", "stdio_client"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> FakeServer:
    with FakeServer() as server:
        yield server
        assert not server.bugs, server.bugs


@pytest.fixture
def png(tmp_path: Path) -> Path:
    return make_image(tmp_path / "photo.png")


@pytest.fixture
def start_server(fake: FakeServer, tmp_path: Path) -> Callable:
    """start_server(mode, providers=..., **env) -> async context manager of a connected client."""

    def start(mode: str = "legacy", providers: tuple[str, ...] = ("wavespeed",), **extra: str):
        return stdio_client(server_env(fake, tmp_path / "data", providers, **extra), mode)

    return start
