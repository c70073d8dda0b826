"""A submit the provider refuses (no credit), run as an MCP task: the result is exactly generate_video's isError."""

from __future__ import annotations

import time

import pytest

from tests.fakes.base import FakeError
from tests.support.raw import LEGACY, MODERN, TASKS_EXTENSION, RawClient
from tests.support.servers import server_env

RELATED = "io.modelcontextprotocol/related-task"


def no_credit(fake) -> None:
    fake.provider("wavespeed").submit_errors.append(FakeError(402))


def plain_refusal(fake, env, png, era: str = LEGACY) -> dict:
    """What a plain generate_video returns, on this era's wire, when the provider refuses the submit."""
    no_credit(fake)
    client = RawClient(env, era, {})
    try:
        return client.call("generate_video", {"image": str(png), "prompt": "a cat"})["result"]
    finally:
        client.close()


@pytest.fixture
def env(fake, tmp_path):
    return server_env(fake, tmp_path / "data")


def test_legacy_tasks_result_is_the_refusal_and_the_task_failed(fake, env, png):
    plain = plain_refusal(fake, env, png)
    assert plain["isError"] and "wavespeed" in plain["content"][0]["text"]
    no_credit(fake)
    client = RawClient(env)
    try:
        made = client.call("generate_video", {"image": str(png), "prompt": "a cat"}, task={})
        task_id = made["result"]["task"]["taskId"]
        result = client.request("tasks/result", {"taskId": task_id})["result"]
        got = client.request("tasks/get", {"taskId": task_id})["result"]
    finally:
        client.close()
    assert result.pop("_meta")[RELATED] == {"taskId": task_id}
    assert result == plain
    assert got["status"] == "failed" and got["statusMessage"] == plain["content"][0]["text"]


def test_modern_tasks_get_inlines_the_refusal_as_a_completed_call(fake, env, png):
    plain = plain_refusal(fake, env, png, MODERN)
    plain.pop("_meta")  # serverInfo, which the SDK stamps on every 2026-07-28 response
    no_credit(fake)
    client = RawClient(env, MODERN, {TASKS_EXTENSION: {}})
    try:
        task_id = client.call("generate_video", {"image": str(png), "prompt": "a cat"})["result"]["taskId"]
        deadline = time.monotonic() + 20
        while (got := client.request("tasks/get", {"taskId": task_id})["result"])["status"] == "working":
            assert time.monotonic() < deadline, "the task never finished"
            time.sleep(0.05)
    finally:
        client.close()
    assert got["status"] == "completed" and got["result"] == plain
