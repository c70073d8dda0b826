"""MCP Tasks (2026-07-28 extension) over streamable HTTP: create, then tasks/get until the result is inlined."""

from __future__ import annotations

import time

import httpx2

from tests.support.raw import MODERN, TASKS_EXTENSION
from tests.support.servers import http_server, server_env

META = {"io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {"extensions": {TASKS_EXTENSION: {}}}}


def rpc(url: str, method: str, params: dict) -> dict:
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN,
               "Mcp-Method": method, "Mcp-Name": params.get("name") or params.get("taskId", "")}
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": {**params, "_meta": META}}
    return httpx2.post(url, json=body, headers=headers, timeout=30).json()


def test_a_task_over_streamable_http(fake, tmp_path, png):
    with http_server(server_env(fake, tmp_path / "data", VIDEOGEN_ALLOW_LOCAL_FILES="1")) as url:
        made = rpc(url, "tools/call", {"name": "generate_video", "arguments": {"image": str(png), "prompt": "a cat"}})
        task_id = made["result"]["taskId"]
        assert made["result"]["resultType"] == "task"
        deadline = time.monotonic() + 20
        while (got := rpc(url, "tasks/get", {"taskId": task_id})["result"])["status"] == "working":
            assert time.monotonic() < deadline, "the task never finished"
            time.sleep(0.2)
    assert got["status"] == "completed" and got["result"]["structuredContent"]["task_id"] == task_id
