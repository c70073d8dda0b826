"""The `local` provider keeps one copy of each render: the MP4 is moved into videos/, its staged input removed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_image, server_env, stdio_client

pytestmark = pytest.mark.anyio


async def test_a_finished_local_render_leaves_one_file_in_the_data_dir(fake, tmp_path):
    image = make_image(tmp_path / "photo.png", (640, 480))
    data = tmp_path / "data"
    async with stdio_client(server_env(fake, data, ())) as client:
        result = await client.call_tool("generate_video", {"image": str(image), "prompt": "zoom", "wait_seconds": 60})
    task = result.structured_content
    assert task["status"] == "completed", task["error"]
    video = Path(task["video_path"])
    assert sorted(data.glob("**/*.mp4")) == [video] and video.parent == data / "videos"
    assert list((data / "local").iterdir()) == []  # no render copy, no staged image, no request file
    assert task["video_url"] == video.as_uri()  # where the one copy is, not where it was rendered


async def test_with_downloads_off_the_render_stays_in_local_and_its_staged_input_goes(fake, tmp_path):
    image = make_image(tmp_path / "photo.png", (640, 480))
    data = tmp_path / "data"
    async with stdio_client(server_env(fake, data, (), VIDEOGEN_DOWNLOAD="0")) as client:
        result = await client.call_tool("generate_video", {"image": str(image), "prompt": "pan", "wait_seconds": 60})
    task = result.structured_content
    assert task["status"] == "completed" and task["video_path"] is None
    assert [p.name for p in (data / "local").iterdir()] == [f"{task['provider_task_id']}.mp4"]
    assert task["video_url"] == (data / "local" / f"{task['provider_task_id']}.mp4").as_uri()
