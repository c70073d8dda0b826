"""Redownloader and Downloader limits: a finished video whose download failed reaches the disk later."""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest

from tests.support.rig import MP4, PUBLIC_DNS, VIDEO_URL, Cdn, failed_download, put, stored, until, video_downloader
from videogen_mcp.tasks import redownload
from videogen_mcp.tasks.downloader import Downloader, DownloadFailed
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.redownload import Redownloader
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.store import TaskStore

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redownload, "CHECK_INTERVAL", 0.01)
    monkeypatch.setattr(redownload, "FIRST_WAIT", 0.02)


async def run_until(store: TaskStore, downloader: Downloader, condition) -> TaskEvents:
    events = TaskEvents()
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(Redownloader(store, events, downloader).run_forever)
            await until(condition)
            group.cancel_scope.cancel()
    return events


async def test_a_failed_download_is_tried_again_until_the_file_is_on_disk(tmp_path):
    store, cdn = SqliteTaskStore(tmp_path / "tasks.db"), Cdn(failures=3)
    await failed_download(store)
    await put(store, "other", status="completed", provider_task_id="j2", progress=100, video_url=VIDEO_URL,
        error="the provider said something else")  # not a download failure: left alone
    await run_until(store, video_downloader(tmp_path, cdn), stored(store, "t1", "video_path"))
    task = await store.get("t1")
    assert Path(task.video_path).read_bytes() == MP4
    assert (task.status, task.error, task.video_url) == ("completed", None, VIDEO_URL)
    assert cdn.requests == 4  # three failures, one per (growing) wait, then the file
    assert (await store.get("other")).video_path is None


async def test_a_task_with_its_file_or_without_a_failure_note_is_not_downloaded_again(tmp_path):
    store, cdn = SqliteTaskStore(tmp_path / "tasks.db"), Cdn(failures=0)
    await put(store, "done", status="completed", progress=100, video_url=VIDEO_URL, video_path="/v.mp4")
    await put(store, "off", status="completed", progress=100, video_url=VIDEO_URL)  # VIDEOGEN_DOWNLOAD=0 earlier
    await failed_download(store, "t1")
    await run_until(store, video_downloader(tmp_path, cdn), stored(store, "t1", "video_path"))
    assert cdn.requests == 1
    assert (await store.get("off")).video_path is None and (await store.get("done")).video_path == "/v.mp4"


async def test_a_video_over_the_size_cap_is_refused_and_not_retried(tmp_path):
    def huge(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=b"\x00" * 5000)

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(huge))
    downloader = Downloader(client, tmp_path / "videos", attempts=3, max_bytes=1000, guard=PUBLIC_DNS)
    with pytest.raises(DownloadFailed, match="larger than the") as caught:
        await downloader.fetch(VIDEO_URL, "t1")
    assert caught.value.final
    assert list((tmp_path / "videos").iterdir()) == []  # the partial file is gone


async def test_a_lying_content_length_is_refused_before_reading_the_body(tmp_path):
    def declared(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=b"\x00" * 10, headers={"content-length": str(10**12)})

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(declared))
    with pytest.raises(DownloadFailed, match="cap"):
        await Downloader(client, tmp_path / "videos", max_bytes=1000, guard=PUBLIC_DNS).fetch(VIDEO_URL, "t1")
