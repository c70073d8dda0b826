"""What the server fetches, end to end: a hostile provider's video URL or a caller's image URL never makes the
server read its own files or a service on its network."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import make_image, server_env, stdio_client
from tests.e2e.helpers import text_of
from tests.fakes import FakeError, InternalService
from tests.fakes.internal import SECRET

pytestmark = pytest.mark.anyio


@pytest.fixture
def internal():
    with InternalService() as service:
        yield service


def videos_of(tmp_path: Path) -> list[Path]:
    videos = tmp_path / "data" / "videos"
    return sorted(videos.iterdir()) if videos.is_dir() else []


async def generate(start_server, png, **env: str) -> dict:
    async with start_server(**env) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    assert not result.is_error, text_of(result)
    return result.structured_content


async def test_a_file_url_from_a_hosted_provider_is_not_copied(start_server, png, fake, tmp_path):
    fake.provider("wavespeed").reported_video_url = "file:///proc/self/environ"
    task = await generate(start_server, png)
    assert (task["status"], task["video_path"]) == ("completed", None)
    assert task["video_url"] == "file:///proc/self/environ"
    assert "will not download it" in task["error"] and "file:" in task["error"]
    assert videos_of(tmp_path) == []


async def test_a_video_url_on_another_loopback_port_is_not_fetched(start_server, png, fake, tmp_path, internal):
    fake.provider("wavespeed").reported_video_url = f"{internal.url}/latest/meta-data"
    task = await generate(start_server, png)
    assert internal.paths == []
    assert (task["status"], task["video_path"]) == ("completed", None)
    assert "VIDEOGEN_ALLOW_PRIVATE_URLS" in task["error"] and "will not download it" in task["error"]
    assert videos_of(tmp_path) == []


async def test_a_redirect_from_the_provider_to_another_loopback_port_is_not_followed(
        start_server, png, fake, tmp_path, internal):
    fake.download_errors = [FakeError(302, body="", headers={"Location": f"{internal.url}/admin"})]
    task = await generate(start_server, png)
    assert internal.paths == []
    assert task["video_path"] is None and "VIDEOGEN_ALLOW_PRIVATE_URLS" in task["error"]


async def test_with_private_urls_allowed_the_operator_s_own_address_is_fetched(start_server, png, fake, internal):
    fake.provider("wavespeed").reported_video_url = f"{internal.url}/video.mp4"
    task = await generate(start_server, png, VIDEOGEN_ALLOW_PRIVATE_URLS="1")
    assert internal.paths == ["/video.mp4"]
    assert Path(task["video_path"]).read_bytes() == SECRET


async def test_the_local_provider_does_not_fetch_a_private_image_url_nor_tell_open_ports_from_closed(
        fake, tmp_path, internal):
    served = fake.add_upload(make_image(tmp_path / "photo.png").read_bytes(), "photo.png", "image/png")
    closed = f"http://127.0.0.1:{closed_port()}/photo.png"
    async with stdio_client(server_env(fake, tmp_path / "data", ())) as client:
        refused = [await client.call_tool("generate_video", {"image": url, "prompt": "pan right"})
                   for url in (f"{internal.url}/photo.png", served, closed)]
    async with stdio_client(server_env(fake, tmp_path / "data2", (), VIDEOGEN_ALLOW_PRIVATE_URLS="1")) as client:
        missing = await client.call_tool("generate_video", {"image": f"{fake.url}/files/none.png", "prompt": "x"})
        shut = await client.call_tool("generate_video", {"image": closed, "prompt": "x"})
    assert internal.paths == [] and [d.path for d in fake.downloads] == ["/files/none.png"]  # the opt-out's 404
    texts = {text_of(result) for result in (*refused, missing, shut)}
    assert all(result.is_error for result in (*refused, missing, shut))
    assert len(texts) == 1, texts  # one sentence whatever the port: no port scan through the local provider
    assert "VIDEOGEN_ALLOW_PRIVATE_URLS" in texts.pop()


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
