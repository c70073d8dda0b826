"""Legacy (2025-11-25) subscriptions end with their session: nothing is kept for a closed or broken one."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import anyio
import mcp_types as types
import pytest
import uvicorn
from mcp import Client
from mcp.server.mcpserver import MCPServer

from videogen_mcp.notifications import LegacySubscriptions

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore:resources/subscribe is removed")]

URI = "task://t1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def served(legacy: LegacySubscriptions) -> AsyncIterator[str]:
    """A small MCP server with the legacy subscriptions installed, over streamable HTTP on loopback."""
    server = MCPServer("sessions")

    @server.resource(URI)
    def task() -> str:
        return "{}"

    legacy.install(server)
    port = free_port()
    config = uvicorn.Config(server.streamable_http_app(), host="127.0.0.1", port=port, log_level="warning")
    web = uvicorn.Server(config)
    async with anyio.create_task_group() as group:
        group.start_soon(web.serve)
        while not web.started:
            await anyio.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            web.should_exit = True


async def test_closed_http_sessions_that_subscribed_are_forgotten():
    legacy = LegacySubscriptions()
    async with served(legacy) as url:
        for _ in range(20):
            async with Client(url, mode="legacy") as client:
                await client.subscribe_resource(URI)
                assert legacy.session_count >= 1
        with anyio.fail_after(10):
            while legacy.session_count:
                await anyio.sleep(0.05)
    assert legacy.subscriber_count(URI) == 0


async def test_a_session_whose_send_fails_is_forgotten():
    legacy = LegacySubscriptions()

    class Broken:
        async def send_resource_updated(self, uri: str) -> None:
            raise anyio.BrokenResourceError

    ctx = SimpleNamespace(session=Broken(), protocol_version="2025-11-25")
    await legacy._subscribe(ctx, types.SubscribeRequestParams(uri=URI))
    assert (legacy.session_count, legacy.subscriber_count(URI)) == (1, 1)
    await legacy.updated(URI)
    assert (legacy.session_count, legacy.subscriber_count(URI)) == (0, 0)
