"""Downloads that failed are tried again later: a video the provider finished must reach the disk."""

from __future__ import annotations

import logging
import time

from videogen_mcp.models import Task
from videogen_mcp.tasks.downloader import Downloader, DownloadFailed
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.loops import run_every
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import now_iso

log = logging.getLogger(__name__)

#: The start of the note a completed task carries while its video is not on disk.
DOWNLOAD_FAILED = "the video is ready at video_url, but downloading it failed"
#: The note of a completed task whose video is never downloaded (a refused URL, over the size cap): never retried.
NOT_DOWNLOADED = "the video is ready at video_url, but the server will not download it"
#: How often the store is checked for such tasks.
CHECK_INTERVAL = 30.0
#: Waits between later attempts at one task: 1, 2, 4 ... minutes, at most an hour apart.
FIRST_WAIT, LONGEST_WAIT = 60.0, 3600.0


def failed_note(reason: str, final: bool = False) -> str:
    if final:
        return f"{NOT_DOWNLOADED} ({reason}); fetch it from video_url yourself if you trust it"
    return f"{DOWNLOAD_FAILED} ({reason}); the server tries again later, or download it from video_url"


class Redownloader:
    """Finds completed tasks whose download failed (here or in an earlier run) and tries them again."""

    def __init__(self, store: TaskStore, events: TaskEvents, downloader: Downloader) -> None:
        self._store = store
        self._events = events
        self._downloader = downloader
        self._next_try: dict[str, tuple[float, float]] = {}  # task_id -> (when, wait after that)
        self._given_up: set[str] = set()

    async def run_forever(self) -> None:
        """At start-up and then every CHECK_INTERVAL: try each due task once."""
        await run_every(CHECK_INTERVAL, self._check, "retrying failed downloads")

    async def _check(self) -> None:
        for task in await self._store.failed_downloads(DOWNLOAD_FAILED):
            if self._due(task.task_id):
                await self._try(task)

    def _due(self, task_id: str) -> bool:
        if task_id in self._given_up:
            return False
        when, _ = self._next_try.get(task_id, (0.0, FIRST_WAIT))
        return time.monotonic() >= when

    async def _try(self, task: Task) -> None:
        try:
            path = await self._downloader.fetch(task.video_url or "", task.task_id, task.provider)
        except DownloadFailed as exc:
            self._after_failure(task, exc)
            return
        self._next_try.pop(task.task_id, None)
        if await self._store.record_download(task.task_id, str(path), now_iso()):
            log.info("task %s: the video is on disk after a later attempt", task.task_id)
            await self._events.publish(task.task_id)

    def _after_failure(self, task: Task, exc: DownloadFailed) -> None:
        if exc.final:
            self._given_up.add(task.task_id)
            return
        _, wait = self._next_try.get(task.task_id, (0.0, FIRST_WAIT))
        self._next_try[task.task_id] = (time.monotonic() + wait, min(wait * 2, LONGEST_WAIT))
        log.info("task %s: download failed again (%s); next try in %.0f s", task.task_id, exc, wait)
