"""MCP Tasks end to end over stdio, in both protocol eras, with a raw JSON-RPC client (the SDK's hides `task`)."""

from __future__ import annotations

import time

import pytest

from tests.support.raw import MODERN, TASKS_EXTENSION, RawClient
from tests.support.servers import run_cli, server_env

RELATED = "io.modelcontextprotocol/related-task"


@pytest.fixture
def env(fake, tmp_path):
    return server_env(fake, tmp_path / "data")


@pytest.fixture
def legacy(env):
    client = RawClient(env)
    yield client
    client.close()


@pytest.fixture
def modern(env):
    client = RawClient(env, MODERN, {TASKS_EXTENSION: {}})
    yield client
    client.close()


def until(check, seconds: float = 20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("the condition never held")


def test_legacy_initialize_advertises_tasks_and_only_generate_video_takes_them(env):
    client = RawClient(env)
    try:
        init = client.request("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                             "clientInfo": {"name": "raw", "version": "0"}})
        tools = client.request("tools/list")["result"]["tools"]
    finally:
        client.close()
    assert init["result"]["capabilities"]["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    executions = {t["name"]: t.get("execution") for t in tools}
    assert executions.pop("generate_video") == {"taskSupport": "optional"}
    assert set(executions.values()) == {None}


def test_legacy_task_create_get_list_result(fake, legacy, png):
    fake.provider("wavespeed").job_seconds = 1.5
    made = legacy.call("generate_video", {"image": str(png), "prompt": "a cat"}, task={"ttl": 60000},
                       _meta={"progressToken": "p1"})
    task = made["result"]["task"]
    assert task["status"] == "working" and task["taskId"]
    got = legacy.request("tasks/get", {"taskId": task["taskId"]})["result"]
    assert got["taskId"] == task["taskId"] and got["ttl"] is None and 1000 <= got["pollInterval"] <= 30000
    listed = legacy.request("tasks/list")["result"]["tasks"]
    assert [t["taskId"] for t in listed] == [task["taskId"]]
    result = legacy.request("tasks/result", {"taskId": task["taskId"]})["result"]
    assert result["_meta"][RELATED] == {"taskId": task["taskId"]}
    assert result["structuredContent"]["status"] == "completed" and not result.get("isError")
    assert result["structuredContent"]["task_id"] == task["taskId"]  # one id: the MCP taskId is the task_id
    status = legacy.wait_for("notifications/tasks/status")["params"]
    assert status["taskId"] == task["taskId"] and status["status"] == "completed"
    progress = [n["params"] for n in legacy.notifications if n["method"] == "notifications/progress"]
    assert progress and {p["progressToken"] for p in progress} == {"p1"}  # the call's token kept working


def test_legacy_tasks_list_pages_newest_first(fake, legacy, png):
    made = [legacy.call("generate_video", {"image": str(png), "prompt": f"cat {i}"}, task={})["result"]["task"]
            for i in range(3)]
    first = legacy.request("tasks/list")["result"]
    assert [t["taskId"] for t in first["tasks"]] == [t["taskId"] for t in reversed(made)]
    assert "nextCursor" not in first
    bad = legacy.request("tasks/list", {"cursor": "not-ours"})
    assert bad["error"]["code"] == -32602


def test_modern_task_create_get_until_result_inlined(fake, modern, png):
    discover = modern.request("server/discover")["result"]
    assert TASKS_EXTENSION in discover["capabilities"]["extensions"]
    made = modern.call("generate_video", {"image": str(png), "prompt": "a cat"})["result"]
    assert made["resultType"] == "task" and made["status"] == "working" and made["ttlMs"] is None
    assert 1000 <= made["pollIntervalMs"] <= 30000
    done = until(lambda: (r := modern.request("tasks/get", {"taskId": made["taskId"]})["result"])["status"]
                 == "completed" and r)
    assert done["result"]["structuredContent"]["status"] == "completed"
    assert done["result"]["structuredContent"]["video_path"]
    assert modern.request("tasks/update", {"taskId": made["taskId"], "inputResponses": {}})["result"]


def test_a_request_without_the_extension_never_gets_a_task(fake, env, png):
    client = RawClient(env, MODERN, {})
    try:
        result = client.call("generate_video", {"image": str(png), "prompt": "a cat", "wait_seconds": 20})["result"]
    finally:
        client.close()
    assert result.get("resultType") != "task" and result["structuredContent"]["status"] == "completed"


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_unknown_task_ids_are_invalid_params(era, legacy, modern):
    client = legacy if era == "legacy" else modern
    methods = ["tasks/get", "tasks/cancel"] + (["tasks/result"] if era == "legacy" else [])
    for method in methods:
        answer = client.request(method, {"taskId": "no-such-task"})
        assert answer["error"]["code"] == -32602, (method, answer)


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_invalid_arguments_create_no_task(fake, era, legacy, modern, png):
    client = legacy if era == "legacy" else modern
    extra = {"task": {}} if era == "legacy" else {}
    for arguments in ({"image": str(png), "prompt": "a cat", "duration": 7},
                      {"image": str(png), "prompt": "a cat", "durration": 10}):
        result = client.call("generate_video", arguments, **extra)["result"]
        assert result["isError"] and "task" not in result and result.get("resultType") != "task"
    assert client.call("list_tasks", {})["result"]["structuredContent"]["tasks"] == []
    assert not fake.provider("wavespeed").submits()


def test_cancel_mid_job_stays_cancelled_is_no_longer_polled_and_downloads_nothing(fake, legacy, png, tmp_path):
    provider = fake.provider("wavespeed")
    provider.job_seconds = 4.0
    task_id = legacy.call("generate_video", {"image": str(png), "prompt": "a cat"}, task={})["result"]["task"]["taskId"]
    until(lambda: provider.polls())  # the provider has the job and is being polled
    cancelled = legacy.request("tasks/cancel", {"taskId": task_id})["result"]
    assert cancelled["status"] == "cancelled" and "wavespeed confirmed" in cancelled["statusMessage"]
    assert len(provider.cancels()) == 1
    polls = len(provider.polls())
    time.sleep(provider.job_seconds + 1.0)  # the provider finishes the job anyway
    assert len(provider.polls()) <= polls + 1  # at most the poll already in flight
    after = legacy.request("tasks/get", {"taskId": task_id})["result"]
    assert after["status"] == "cancelled"
    assert not list((tmp_path / "data" / "videos").glob("*.mp4"))
    again = legacy.request("tasks/cancel", {"taskId": task_id})
    assert again["error"]["code"] == -32602


def test_cancel_task_tool_and_refusal_when_finished(fake, modern, png):
    provider = fake.provider("wavespeed")
    provider.job_seconds = 30
    provider.refuse_cancel = True
    task_id = modern.call("generate_video", {"image": str(png), "prompt": "a cat"})["result"]["taskId"]
    until(lambda: provider.polls())
    result = modern.call("cancel_task", {"task_id": task_id})["result"]
    task = result["structuredContent"]
    assert task["status"] == "cancelled" and "may still finish and be billed" in task["error"]
    refused = modern.call("cancel_task", {"task_id": task_id})["result"]
    assert refused["isError"] and "already cancelled" in refused["content"][0]["text"]
    assert modern.request("tasks/cancel", {"taskId": task_id})["error"]["code"] == -32602


def test_cancel_from_the_command_line(fake, env, png):
    provider = fake.provider("wavespeed")
    provider.job_seconds = 30
    client = RawClient(env, MODERN, {})
    try:
        made = client.call("generate_video", {"image": str(png), "prompt": "a cat", "wait_seconds": 0})["result"]
        task_id = made["structuredContent"]["task_id"]
        until(lambda: provider.polls())
        done = run_cli(["cancel", task_id], env)
        unknown = run_cli(["cancel", "no-such-task"], env)
        task = client.call("get_task", {"task_id": task_id})["result"]["structuredContent"]
    finally:
        client.close()
    assert done.returncode == 0 and "cancelled" in done.stderr
    assert unknown.returncode != 0 and "no task has id" in unknown.stderr
    assert task["status"] == "cancelled" and len(provider.cancels()) == 1


def test_a_task_survives_a_sigkill_between_create_and_result(fake, env, png):
    fake.provider("wavespeed").job_seconds = 1.5
    first = RawClient(env)
    task_id = first.call("generate_video", {"image": str(png), "prompt": "a cat"}, task={})["result"]["task"]["taskId"]
    until(lambda: fake.provider("wavespeed").submits())
    first.kill()
    second = RawClient(env)
    try:
        result = second.request("tasks/result", {"taskId": task_id}, timeout=60)["result"]
    finally:
        second.close()
    assert result["structuredContent"]["status"] == "completed" and result["_meta"][RELATED]["taskId"] == task_id
