"""Task resources: read back, listed newest first, and subscribers told of every change, in both eras."""

from __future__ import annotations

import json

import anyio
import pytest
from mcp.shared.subscriptions import ResourcesListChanged, ResourceUpdated

from tests.conftest import ERAS, server_env, stdio_client
from tests.e2e.helpers import MessageLog
from tests.support.waits import until

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ERAS)
async def test_task_resource_reads_back_the_task(start_server, png, mode):
    async with start_server(mode) as client:
        made = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
        task = made.structured_content
        read = await client.read_resource(task["resource_uri"])
        templates = await client.list_resource_templates()
    content = read.contents[0]
    assert content.mime_type == "application/json"
    assert json.loads(content.text) == task
    assert [t.uri_template for t in templates.resource_templates] == ["task://{task_id}"]


@pytest.mark.parametrize("mode", ERAS)
async def test_resource_list_shows_tasks_newest_first(start_server, png, mode):
    async with start_server(mode) as client:
        ids = []
        for prompt in ("first", "second"):
            made = await client.call_tool("generate_video", {"image": str(png), "prompt": prompt, "wait_seconds": 0})
            ids.append(made.structured_content["task_id"])
        listed = await client.list_resources(cache_mode="bypass")
    assert [str(r.uri) for r in listed.resources] == [f"task://{i}" for i in reversed(ids)]


async def test_unknown_task_resource_is_not_found(start_server):
    from mcp.shared.exceptions import MCPError

    async with start_server() as client:
        with pytest.raises(MCPError):
            await client.read_resource("task://missing")


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
async def test_legacy_subscriber_is_told_of_every_change(fake, png, tmp_path):
    fake.provider("wavespeed").job_seconds = 1.5
    log = MessageLog()
    env = server_env(fake, tmp_path / "data")
    async with stdio_client(env, "legacy", message_handler=log) as client:
        assert client.server_capabilities.resources.subscribe
        assert client.server_capabilities.resources.list_changed
        made = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 0})
        uri = made.structured_content["resource_uri"]
        await client.subscribe_resource(uri)
        done = await client.call_tool("get_task", {"task_id": made.structured_content["task_id"], "wait_seconds": 30})
        await until(lambda: "notifications/resources/list_changed" in log.methods() and len(log.updated_uris()) >= 2,
                    timeout=10)
    assert done.structured_content["status"] == "completed"
    assert "notifications/resources/list_changed" in log.methods()
    assert len(log.updated_uris()) >= 2 and set(log.updated_uris()) == {uri}


async def test_modern_listener_is_told_of_changes_and_new_tasks(fake, png, tmp_path):
    fake.provider("wavespeed").job_seconds = 1.5
    env = server_env(fake, tmp_path / "data")
    events = []
    async with stdio_client(env, "2026-07-28") as client:
        made = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 0})
        uri = made.structured_content["resource_uri"]
        async with (
            client.listen(resources_list_changed=True, resource_subscriptions=[uri]) as sub,
            anyio.create_task_group() as group,
        ):

            async def collect():
                async for event in sub:
                    events.append(event)

            group.start_soon(collect)
            await client.call_tool("generate_video", {"image": str(png), "prompt": "b", "wait_seconds": 0})
            task_id = made.structured_content["task_id"]
            await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
            await until(lambda: {type(e) for e in events} >= {ResourcesListChanged, ResourceUpdated}, timeout=10)
            group.cancel_scope.cancel()
    assert any(isinstance(e, ResourcesListChanged) for e in events)
    updates = [e for e in events if isinstance(e, ResourceUpdated)]
    assert updates and all(str(e.uri) == uri for e in updates)
