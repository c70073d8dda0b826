"""The offline `local` provider: with no API key at all, a real MP4 is rendered from the image."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from tests.conftest import ERAS, make_image, server_env, stdio_client
from tests.e2e.helpers import ProgressLog

pytestmark = pytest.mark.anyio


def probe(path: Path) -> tuple[str, int, int, int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return stream.codec_context.name, stream.width, stream.height, frames


@pytest.mark.parametrize("mode", ERAS)
async def test_without_keys_the_local_provider_renders_a_real_mp4(fake, tmp_path, mode):
    image = make_image(tmp_path / "wide.jpg", (1600, 900), "JPEG")
    progress = ProgressLog()
    async with stdio_client(server_env(fake, tmp_path / "data", ()), mode) as client:
        result = await client.call_tool(
            "generate_video", {"image": str(image), "prompt": "slow zoom out", "wait_seconds": 60},
            progress_callback=progress,
        )
    task = result.structured_content
    assert (task["status"], task["provider"], task["progress"]) == ("completed", "local", 100)
    assert probe(Path(task["video_path"])) == ("h264", 1280, 720, 5 * 24)
    assert progress.values[-1] == 100 and progress.values == sorted(set(progress.values))


async def test_local_render_interrupted_by_a_restart_completes_after_it(fake, tmp_path):
    image = make_image(tmp_path / "photo.png", (640, 640))
    env = server_env(fake, tmp_path / "data", ())
    async with stdio_client(env) as client:
        made = await client.call_tool(
            "generate_video", {"image": str(image), "prompt": "tilt up", "duration": 10, "wait_seconds": 0}
        )
    task_id = made.structured_content["task_id"]
    async with stdio_client(env) as client:
        done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})
    assert done.structured_content["status"] == "completed"
    assert probe(Path(done.structured_content["video_path"]))[3] == 10 * 24


async def test_local_provider_renders_from_an_image_url(fake, tmp_path):
    """The local provider fetches URL images itself; the fake serves an uploaded PNG back."""
    import httpx2

    image = make_image(tmp_path / "photo.png", (640, 480))
    async with httpx2.AsyncClient() as http:
        reply = await http.post(
            f"{fake.base_url('wavespeed')}/api/v3/media/upload/binary",
            headers={"Authorization": f"Bearer {fake.api_key('wavespeed')}"},
            files={"file": ("photo.png", image.read_bytes(), "image/png")},
        )
    url = reply.json()["data"]["download_url"]
    async with stdio_client(server_env(fake, tmp_path / "data", ())) as client:
        result = await client.call_tool("generate_video", {"image": url, "prompt": "pan right"})
        missing = await client.call_tool("generate_video", {"image": f"{fake.url}/files/uploads/99.png", "prompt": "x"})
    assert result.structured_content["status"] == "completed"
    assert probe(Path(result.structured_content["video_path"]))[1:3] == (640, 480)
    assert missing.is_error and "could not fetch the image URL" in missing.content[0].text
