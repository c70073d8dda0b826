"""What the Downloader agrees to fetch: a provider's file:// URL only from its own render directory, http(s)
only to addresses the UrlGuard allows; a URL that can never be fetched ends at once and is never retried."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import httpx2
import pytest

from tests.support.rig import PUBLIC_DNS, put, requested_url, stored, until
from videogen_mcp.config import load_settings
from videogen_mcp.errors import ConfigError
from videogen_mcp.providers.local import Local
from videogen_mcp.providers.wavespeed import WaveSpeed
from videogen_mcp.tasks import redownload
from videogen_mcp.tasks.downloader import Downloader, DownloadFailed
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.redownload import NOT_DOWNLOADED, Redownloader, failed_note
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore

pytestmark = pytest.mark.anyio
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
BASE = "http://127.0.0.1:8123/wavespeed"


class Network:
    """A mock transport that serves MP4 to every request and records the URLs asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.asked.append(requested_url(request))
        return httpx2.Response(200, content=MP4)


@pytest.fixture
def network() -> Network:
    return Network()


@pytest.fixture
def renders(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "local"
    path.mkdir(parents=True)
    return path


@pytest.fixture
def downloader(tmp_path: Path, network: Network, renders: Path) -> Downloader:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(network))
    adapters = {"local": Local(renders, client), "wavespeed": WaveSpeed("key", BASE, client)}
    return Downloader(client, tmp_path / "data" / "videos", attempts=3, max_bytes=1000, guard=PUBLIC_DNS,
                      adapters=adapters)


def videos(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "videos").iterdir())


async def refused(downloader: Downloader, url: str, provider: str) -> DownloadFailed:
    with anyio.fail_after(2), pytest.raises(DownloadFailed) as caught:  # no retry back-off: refused at once
        await downloader.fetch(url, "t1", provider)
    assert caught.value.final, caught.value
    return caught.value


async def test_a_local_render_is_moved_into_videos_not_copied(downloader, renders, tmp_path):
    render = renders / "local-abc.mp4"
    render.write_bytes(MP4)
    path = await downloader.fetch(render.as_uri(), "t1", "local")
    assert path.read_bytes() == MP4 and videos(tmp_path) == [path]
    assert not render.exists()


@pytest.mark.parametrize("url", ["file:///proc/self/environ", "file:///dev/zero", "file:///etc/passwd"])
async def test_a_hosted_provider_s_file_url_is_refused_and_nothing_is_read(downloader, tmp_path, url, network):
    failed = await refused(downloader, url, "wavespeed")
    assert "file:" in str(failed) and "only http:// and https://" in str(failed)
    assert videos(tmp_path) == [] and network.asked == []


@pytest.mark.parametrize("url", ["file:///proc/self/environ", "file:///dev/zero"])
async def test_the_local_provider_s_file_url_outside_its_render_directory_is_refused(downloader, tmp_path, url):
    assert "outside the provider's render directory" in str(await refused(downloader, url, "local"))
    assert videos(tmp_path) == []


async def test_a_symlink_in_the_render_directory_is_judged_by_its_target(downloader, renders, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("API_KEY=sk-123")
    (renders / "local-link.mp4").symlink_to(secret)
    assert "outside" in str(await refused(downloader, (renders / "local-link.mp4").as_uri(), "local"))
    assert secret.read_text() == "API_KEY=sk-123" and videos(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
async def test_a_fifo_in_the_render_directory_is_refused_without_blocking(downloader, renders, tmp_path):
    os.mkfifo(renders / "local-fifo.mp4")
    assert "not a regular file" in str(await refused(downloader, (renders / "local-fifo.mp4").as_uri(), "local"))


async def test_a_render_over_the_size_cap_is_refused_and_left_in_place(downloader, renders, tmp_path):
    render = renders / "local-big.mp4"
    render.write_bytes(b"\x00" * 1001)
    assert "larger than the" in str(await refused(downloader, render.as_uri(), "local"))
    assert render.exists() and videos(tmp_path) == []


@pytest.mark.parametrize("url", ["ftp://cdn.example.com/v.mp4", "javascript:alert(1)", "/out/v.mp4", "v.mp4",
                                 "gopher://cdn.example.com/v"])
async def test_a_url_of_another_scheme_ends_at_once_without_a_request(downloader, network, url):
    assert "only http:// and https://" in str(await refused(downloader, url, "wavespeed"))
    assert network.asked == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/x.mp4", "http://[::ffff:10.0.0.1]/x.mp4",
                                 "http://169.254.169.254/latest/meta-data"])
async def test_a_private_address_ends_at_once_without_a_request(downloader, network, url):
    assert "VIDEOGEN_ALLOW_PRIVATE_URLS=1" in str(await refused(downloader, url, "wavespeed"))
    assert network.asked == []


async def test_the_provider_s_own_base_host_and_port_is_fetched_but_not_for_another_provider(downloader, network):
    await downloader.fetch("http://127.0.0.1:8123/files/job.mp4", "t1", "wavespeed")
    await refused(downloader, "http://127.0.0.1:8123/files/job.mp4", "local")
    await refused(downloader, "http://127.0.0.1:8123/files/job.mp4", "myrouter")  # not configured: no base URL
    assert network.asked == ["http://127.0.0.1:8123/files/job.mp4"]


async def test_a_never_fetchable_url_gets_a_final_note_the_redownloader_never_picks_up(tmp_path, downloader, network,
                                                                                       monkeypatch):
    monkeypatch.setattr(redownload, "CHECK_INTERVAL", 0.01)
    store = SqliteTaskStore(tmp_path / "tasks.db")
    note = failed_note("a ftp: URL cannot be downloaded", final=True)
    assert note.startswith(NOT_DOWNLOADED) and "tries again" not in note
    await put(store, "final", status="completed", progress=100, video_url="ftp://x/v.mp4", error=note)
    await put(store, "old", status="completed", progress=100, video_url="https://cdn.example.com/v.mp4",
        error=failed_note("HTTP 503"))
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(Redownloader(store, TaskEvents(), downloader).run_forever)
            await until(stored(store, "old", "video_path"))
            group.cancel_scope.cancel()
    assert network.asked == ["https://cdn.example.com/v.mp4"]
    assert (await store.get("final")).error == note


def test_allow_private_urls_is_a_flag_and_a_bad_value_names_the_variable():
    assert load_settings({}).allow_private_urls is False
    assert load_settings({"VIDEOGEN_ALLOW_PRIVATE_URLS": "1"}).allow_private_urls is True
    with pytest.raises(ConfigError, match=r"^VIDEOGEN_ALLOW_PRIVATE_URLS must be 1 or 0, got 'perhaps'$"):
        load_settings({"VIDEOGEN_ALLOW_PRIVATE_URLS": "perhaps"})
