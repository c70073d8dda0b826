"""The task layer in-process: Task rows, a scripted provider, and one "process" (store, events, poller,
service) to run them in, with waits on conditions instead of fixed sleeps."""

from __future__ import annotations

import ipaddress
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2

from tests.support.waits import until
from videogen_mcp.config import Settings
from videogen_mcp.images import ImageInput
from videogen_mcp.models import Task
from videogen_mcp.providers.base import Adapter, PollResult, SubmitRequest
from videogen_mcp.tasks.downloader import Downloader
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.poller import Poller
from videogen_mcp.tasks.redownload import failed_note
from videogen_mcp.tasks.service import TaskService, unwrap_single_error
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import PollSchedule
from videogen_mcp.urlguard import UrlGuard

JOB = "job-1"
IMAGE_URL = "https://cdn.example.com/cat.png"
VIDEO_URL = "https://cdn.example.com/out/video.mp4"
#: Enough of an MP4 header for a downloaded file to look like one.
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64
FAST = PollSchedule(min_gap=0.001, max_gap=0.01)
#: Longest any one rig may run: a hang fails the test instead of stalling the suite.
LIMIT = 3.0


def _no_network(request: httpx2.Request) -> httpx2.Response:
    raise AssertionError(f"unit tests never reach the network: {request.method} {request.url}")


def offline_client() -> httpx2.AsyncClient:
    """A client that fails any request; cheap to make (no TLS context) and safe."""
    return httpx2.AsyncClient(transport=httpx2.MockTransport(_no_network))


def task(task_id: str = "t1", **fields: object) -> Task:
    values: dict[str, object] = {
        "task_id": task_id,
        "status": "queued",
        "provider": "wavespeed",
        "model": "kling-v2.1-i2v-pro",
        "provider_task_id": None,
        "progress": 0,
        "eta_seconds": None,
        "video_url": None,
        "video_path": None,
        "error": None,
        "prompt": "a cat walks",
        "duration": 5,
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "resource_uri": f"task://{task_id}",
    }
    values.update(fields)
    return Task(**values)


# -- a scripted provider -------------------------------------------------------------------------

#: One scripted answer: a value, an exception to raise, or an async callable producing either.
Step = Any


def processing(progress: int | None = None, eta: int | None = None) -> PollResult:
    return PollResult("processing", "processing", progress=progress, eta_seconds=eta)


def completed(url: str = VIDEO_URL) -> PollResult:
    return PollResult("completed", "completed", progress=100, video_url=url)


def unknown(raw: str = "warming-up") -> PollResult:
    return PollResult(None, raw)


async def _play(step: Step) -> Any:
    if callable(step):
        step = await step()
    if isinstance(step, BaseException):
        raise step
    return step


class FakeAdapter(Adapter):
    """A provider that answers from a script: each poll plays the next step; past the end it says processing."""

    name = "wavespeed"
    default_base_url = "https://fake-provider.invalid"
    poll_interval = 0.001

    def __init__(self, polls: Iterable[Step] = (), *, submit: Step = JOB) -> None:
        super().__init__("sk-fake-key-000", None, offline_client())
        self.script: deque[Step] = deque(polls)
        self.submit_step = submit
        self.submits: list[SubmitRequest] = []
        self.polls: list[tuple[str, float]] = []

    async def submit(self, req: SubmitRequest, image: ImageInput) -> str:
        self.submits.append(req)
        return await _play(self.submit_step)

    async def poll(self, provider_task_id: str) -> PollResult:
        self.polls.append((provider_task_id, anyio.current_time()))
        return await _play(self.script.popleft() if self.script else processing())


class ProgressAdapter(FakeAdapter):
    """The same, for a provider whose poll replies carry a real percentage."""

    reports_progress = True


# -- the rig: store, events, poller and service in one task group --------------------------------


@dataclass
class Rig:
    store: TaskStore
    events: TaskEvents
    poller: Poller
    service: TaskService
    adapter: FakeAdapter


@asynccontextmanager
async def rig(tmp_path: Path, adapter: FakeAdapter | None = None, *, downloader: Downloader | None = None,
              db: Path | None = None) -> AsyncIterator[Rig]:
    """One "process": its own store connection, events and poller over `db` (default tmp_path/tasks.db)."""
    adapter = adapter or FakeAdapter()
    store = SqliteTaskStore(db or tmp_path / "tasks.db")
    events = TaskEvents()
    adapters: dict[str, Adapter] = {adapter.name: adapter}
    try:
        with anyio.fail_after(LIMIT):
            async with unwrap_single_error(), anyio.create_task_group() as group:
                poller = Poller(store, events, adapters, downloader, {adapter.name: FAST}, group)
                service = TaskService(Settings(data_dir=tmp_path), store, events, adapters, poller)
                yield Rig(store, events, poller, service, adapter)
                group.cancel_scope.cancel()
    finally:
        await store.close()


async def _public_address(host: str, port: int) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        return ["93.184.216.34"]


#: The address policy with every name resolving to one public address (IP literals to themselves): no DNS in tests.
PUBLIC_DNS = UrlGuard(resolver=_public_address)


def video_downloader(tmp_path: Path, handler: Callable[[httpx2.Request], Any]) -> Downloader:
    """A Downloader over a mock transport; one attempt, so a failure costs no back-off sleep."""
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return Downloader(client, tmp_path / "videos", attempts=1, guard=PUBLIC_DNS)


def ago(seconds: float) -> str:
    stamp = datetime.now(UTC) - timedelta(seconds=seconds)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def put(store: TaskStore, task_id: str = "t1", *, age: float = 0.0, **fields: object) -> Task:
    """Store a task created `age` seconds ago (and last written then)."""
    row = task(task_id, created_at=ago(age), updated_at=ago(age), **fields)
    await store.insert(row, {})
    return row


async def settled(store: TaskStore, task_id: str = "t1") -> Task:
    """The task once it is finished (the rig's time limit turns a hang into a failure)."""
    await until(stored(store, task_id, "finished"))
    return await store.get(task_id)


def stored(store: TaskStore, task_id: str, field: str) -> Callable[[], Any]:
    """A condition for `until`: the stored task's `field` is set (truthy)."""
    async def check() -> object:
        row = await store.get(task_id)
        return row is not None and getattr(row, field)

    return check


class Cdn:
    """Fails the first `failures` requests with HTTP 503, then serves the video."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests += 1
        if self.requests <= self.failures:
            return httpx2.Response(503)
        return httpx2.Response(200, content=MP4)


async def failed_download(store: TaskStore, task_id: str = "t1") -> None:
    await put(store, task_id, status="completed", provider_task_id="job", progress=100, video_url=VIDEO_URL,
              error=failed_note("HTTP 503"))


def requested_url(request: httpx2.Request) -> str:
    """The URL a fetch asked for: fetches go to the checked address, with the URL's name in the Host header."""
    return str(request.url.copy_with(host=request.headers["host"].split(":")[0]))
