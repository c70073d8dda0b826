"""Streamable HTTP: the same tools at /mcp, progress over SSE, local paths refused, bearer token enforced."""

from __future__ import annotations

import base64
import subprocess

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import ERAS, SERVER_COMMAND, server_env
from tests.e2e.helpers import ProgressLog, text_of
from tests.support.servers import http_server

pytestmark = pytest.mark.anyio


def data_uri(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


@pytest.mark.parametrize("mode", ERAS)
async def test_generation_over_http_streams_progress(fake, tmp_path, png, mode):
    fake.provider("wavespeed").job_seconds = 2
    progress = ProgressLog()
    with http_server(server_env(fake, tmp_path / "data")) as url:
        async with Client(url, mode=mode) as client:
            result = await client.call_tool(
                "generate_video", {"image": data_uri(png), "prompt": "a cat"}, progress_callback=progress
            )
            refused = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat"})
    assert result.structured_content["status"] == "completed", text_of(result)
    assert len(progress.values) >= 2 and progress.values[-1] == 100
    assert refused.is_error and "VIDEOGEN_ALLOW_LOCAL_FILES" in text_of(refused)
    assert len(fake.provider("wavespeed").submits()) == 1


async def test_http_token_is_required_when_set(fake, tmp_path):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_HTTP_TOKEN="s3cret-token")
    with http_server(env) as url:
        async with httpx2.AsyncClient() as plain:
            denied = await plain.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        headers = {"Authorization": "Bearer s3cret-token"}
        async with (
            httpx2.AsyncClient(headers=headers) as authed,
            Client(streamable_http_client(url, http_client=authed), mode="legacy") as client,
        ):
            tools = await client.list_tools()
    assert denied.status_code == 401 and "s3cret" not in denied.text
    assert {t.name for t in tools.tools} >= {"generate_video", "get_task"}


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}}}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


async def post_initialize(url: str, **headers: str) -> httpx2.Response:
    async with httpx2.AsyncClient() as plain:
        return await plain.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})


async def test_dns_rebinding_is_refused_on_loopback(fake, tmp_path):
    with http_server(server_env(fake, tmp_path / "data")) as url:
        port = url.split(":")[2].split("/")[0]
        foreign_host = await post_initialize(url, Host=f"evil.example:{port}")
        foreign_origin = await post_initialize(url, Origin="http://evil.example")
        own = await post_initialize(url, Origin=f"http://localhost:{port}")
    assert foreign_host.status_code == 421
    assert foreign_origin.status_code == 403
    assert own.status_code == 200


async def test_a_public_bind_needs_the_token_and_a_named_host(fake, tmp_path):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_HTTP_TOKEN="s3cret-token",
                     VIDEOGEN_HTTP_ALLOWED_HOSTS="videogen.internal")
    with http_server(env, host="0.0.0.0") as url:
        port = url.split(":")[2].split("/")[0]
        token = {"Authorization": "Bearer s3cret-token"}
        no_token = await post_initialize(url, Host=f"videogen.internal:{port}")
        foreign = await post_initialize(url, Host=f"evil.example:{port}", **token)
        named = await post_initialize(url, Host=f"videogen.internal:{port}", **token)
    assert no_token.status_code == 401
    assert foreign.status_code == 421
    assert named.status_code == 200


def test_non_loopback_host_without_token_refuses_to_start(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VIDEOGEN_DATA_DIR": str(tmp_path)}
    done = subprocess.run([SERVER_COMMAND, "serve", "--transport", "streamable-http", "--host", "0.0.0.0"],
                          env=env, capture_output=True, text=True, timeout=20)
    assert done.returncode == 2 and "VIDEOGEN_HTTP_TOKEN" in done.stderr


async def test_operator_can_allow_local_paths_over_http(fake, tmp_path, png):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_ALLOW_LOCAL_FILES="1")
    with http_server(env) as url:
        async with Client(url, mode="legacy") as client:
            result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat"})
    assert result.structured_content["status"] == "completed", text_of(result)
    assert fake.provider("wavespeed").uploads()[0].file_bytes == png.read_bytes()
