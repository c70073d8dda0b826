"""A generation followed end to end over stdio, in both protocol eras."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from tests.conftest import ERAS
from tests.e2e.helpers import ProgressLog, text_of

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ERAS)
async def test_generation_completes_with_url_and_downloaded_file(start_server, png, fake, mode):
    async with start_server(mode) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    task = result.structured_content
    assert not result.is_error, text_of(result)
    assert task["status"] == "completed" and task["progress"] == 100
    job_id = task["provider_task_id"]
    assert task["video_url"] == f"{fake.url}/files/{job_id}.mp4"
    video = Path(task["video_path"])
    assert video.name == f"{task['task_id']}.mp4"
    assert video.read_bytes() == fake.file_bytes(job_id)
    assert not [p for p in video.parent.iterdir() if p.name.endswith(".part")]
    assert "The video is ready" in text_of(result)


async def test_download_never_carries_the_provider_key(start_server, png, fake):
    async with start_server() as client:
        await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    assert len(fake.downloads) == 1
    assert "authorization" not in fake.downloads[0].headers


async def test_download_can_be_switched_off(start_server, png, fake, tmp_path):
    async with start_server(VIDEOGEN_DOWNLOAD="0") as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    assert result.structured_content["status"] == "completed"
    assert result.structured_content["video_path"] is None
    assert result.structured_content["video_url"]
    assert fake.downloads == []


async def test_failed_download_keeps_the_url_and_leaves_no_temporary_file(start_server, png, fake, tmp_path):
    from tests.fakes import FakeError

    fake.download_errors = [FakeError(502)] * 3
    async with start_server() as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    task = result.structured_content
    assert task["status"] == "completed" and task["video_path"] is None and task["video_url"]
    assert "download" in task["error"]
    videos = tmp_path / "data" / "videos"
    assert list(videos.iterdir()) == []


@pytest.mark.parametrize("mode", ERAS)
async def test_progress_rises_strictly_out_of_100_while_waiting(start_server, png, fake, mode):
    fake.provider("wavespeed").job_seconds = 2.5
    progress = ProgressLog()
    async with start_server(mode) as client:
        result = await client.call_tool(
            "generate_video", {"image": str(png), "prompt": "a cat waves"}, progress_callback=progress
        )
    assert result.structured_content["status"] == "completed"
    values = progress.values
    assert len(values) >= 3, progress.events
    assert all(b > a for a, b in pairwise(values)), values
    assert all(total == 100 for _, total, _ in progress.events)
    assert values[-1] == 100 and 100 not in values[:-1]
    assert all(message for _, _, message in progress.events)


@pytest.mark.parametrize("mode", ERAS)
async def test_long_job_returns_early_and_get_task_waits_for_it(start_server, png, fake, mode):
    fake.provider("wavespeed").job_seconds = 3
    async with start_server(mode) as client:
        first = await client.call_tool(
            "generate_video", {"image": str(png), "prompt": "a slow pan", "wait_seconds": 0.5}
        )
        task = first.structured_content
        assert not first.is_error
        assert task["status"] in ("queued", "processing")
        assert "get_task" in text_of(first) and task["task_id"] in text_of(first)
        later = await client.call_tool("get_task", {"task_id": task["task_id"], "wait_seconds": 30})
    assert later.structured_content["status"] == "completed"
    assert later.structured_content["video_path"]
    assert len(fake.provider("wavespeed").submits()) == 1


async def test_cancelling_a_wait_does_not_cancel_the_generation(start_server, png, fake):
    import anyio

    fake.provider("wavespeed").job_seconds = 2
    async with start_server() as client:
        first = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 0})
        task_id = first.structured_content["task_id"]
        with anyio.move_on_after(0.3):
            await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
        done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
    assert done.structured_content["status"] == "completed"


async def test_provider_side_failure_gives_a_failed_task_with_the_reason(start_server, png, fake):
    fake.provider("wavespeed").fail_next = "content moderation: image rejected"
    async with start_server() as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    assert not result.is_error
    task = result.structured_content
    assert task["status"] == "failed"
    assert task["error"] == "content moderation: image rejected"
    assert "failed" in text_of(result)


async def test_unknown_provider_status_fails_the_task_after_ten_polls(start_server, png, fake):
    fake.provider("wavespeed").unknown_status = "mysterious"
    async with start_server() as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    task = result.structured_content
    assert task["status"] == "failed"
    assert "'mysterious'" in task["error"]
    assert len(fake.provider("wavespeed").polls()) == 10


async def test_list_tasks_returns_newest_first_with_limit(start_server, png, fake):
    async with start_server() as client:
        ids = []
        for prompt in ("one", "two", "three"):
            result = await client.call_tool("generate_video", {"image": str(png), "prompt": prompt, "wait_seconds": 0})
            ids.append(result.structured_content["task_id"])
        listed = await client.call_tool("list_tasks", {"limit": 2})
    assert [t["task_id"] for t in listed.structured_content["tasks"]] == ids[::-1][:2]


async def test_list_providers_shows_configuration_and_models(start_server, fake):
    async with start_server() as client:
        result = await client.call_tool("list_providers", {})
    providers = {p["name"]: p for p in result.structured_content["providers"]}
    assert list(providers) == ["wavespeed", "gptproto", "aimlapi", "myrouter", "local"]
    assert providers["local"]["configured"] and not providers["local"]["is_default"]
    assert providers["wavespeed"]["configured"] and providers["wavespeed"]["is_default"]
    assert not providers["gptproto"]["configured"] and "GPTPROTO_API_KEY" in providers["gptproto"]["setup"]
    pro = next(m for m in providers["wavespeed"]["models"] if m["id"] == "kling-v2.1-i2v-pro")
    assert pro["durations"] == [5, 10] and pro["price_usd"] == {"5": 0.45, "10": 0.9}


async def test_tools_declare_schemas_and_annotations(start_server):
    async with start_server() as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == {"list_providers", "generate_video", "get_task", "list_tasks", "cancel_task"}
    generate = tools["generate_video"]
    props = generate.input_schema["properties"]
    assert props["prompt"]["maxLength"] == 2500
    assert props["wait_seconds"]["maximum"] == 900
    assert generate.output_schema["properties"]["task_id"]
    assert generate.annotations.open_world_hint and not generate.annotations.idempotent_hint
    assert tools["get_task"].annotations.read_only_hint


async def test_slow_submit_never_holds_the_call_past_its_budget(start_server, png, fake):
    import anyio

    fake.provider("wavespeed").submit_delay = 12
    async with start_server() as client:
        started = anyio.current_time()
        first = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 0})
        spent = anyio.current_time() - started
        task = first.structured_content
        assert task["status"] == "queued" and task["provider_task_id"] is None
        assert "still being submitted" in text_of(first)
        done = await client.call_tool("get_task", {"task_id": task["task_id"], "wait_seconds": 30})
    assert spent < 11.5
    assert done.structured_content["status"] == "completed"
    assert len(fake.provider("wavespeed").submits()) == 1
