"""MCP Tasks over streamable HTTP: 2026-07-28 (create, tasks/get until the result is inlined) and 2025-11-25
(create, tasks/get, tasks/result, tasks/cancel)."""

from __future__ import annotations

import json
import time

import httpx2

from tests.support.raw import LEGACY, MODERN, TASKS_EXTENSION
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


class LegacySession:
    """A 2025-11-25 streamable HTTP session, spoken to request by request (answers as JSON or as an SSE stream)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.headers = {"Accept": "application/json, text/event-stream"}
        answer = self.post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                            "params": {"protocolVersion": LEGACY, "capabilities": {},
                                       "clientInfo": {"name": "raw", "version": "0"}}})
        self.session = answer.headers.get("mcp-session-id")
        self.headers = {**self.headers, "MCP-Protocol-Version": LEGACY,
                        **({"Mcp-Session-Id": self.session} if self.session else {})}
        self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def post(self, body: dict) -> httpx2.Response:
        return httpx2.post(self.url, json=body, headers=self.headers, timeout=60)

    def request(self, method: str, params: dict) -> dict:
        answer = self.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            messages = [json.loads(line[5:]) for line in answer.text.splitlines() if line.startswith("data:")]
            return next(m for m in messages if m.get("id") == 1)
        return answer.json()


def test_a_legacy_task_over_streamable_http(fake, tmp_path, png):
    provider = fake.provider("wavespeed")
    log = tmp_path / "server.log"
    with http_server(server_env(fake, tmp_path / "data", VIDEOGEN_ALLOW_LOCAL_FILES="1"), stderr=log) as url:
        client = LegacySession(url)
        arguments = {"image": str(png), "prompt": "a cat"}
        made = client.request("tools/call", {"name": "generate_video", "arguments": arguments, "task": {}})
        task_id = made["result"]["task"]["taskId"]
        got = client.request("tasks/get", {"taskId": task_id})["result"]
        result = client.request("tasks/result", {"taskId": task_id})["result"]
        provider.job_seconds = 30
        doomed = client.request("tools/call", {"name": "generate_video", "arguments": arguments, "task": {}})
        doomed_id = doomed["result"]["task"]["taskId"]
        until_polled(provider)
        cancelled = client.request("tasks/cancel", {"taskId": doomed_id})["result"]
        again = client.request("tasks/cancel", {"taskId": doomed_id})
    assert made["result"]["task"]["status"] == "working" and got["taskId"] == task_id
    assert result["structuredContent"]["status"] == "completed" and result["structuredContent"]["task_id"] == task_id
    assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task_id}
    assert cancelled["status"] == "cancelled" and len(provider.cancels()) == 1
    assert again["error"]["code"] == -32602
    assert "Traceback" not in log.read_text()


def until_polled(provider, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not provider.polls():
        assert time.monotonic() < deadline, "the provider was never polled"
        time.sleep(0.05)
