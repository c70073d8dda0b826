"""The offline `local` provider: renders a real MP4 from the image with a camera move; no AI, no account.

Jobs render on a worker thread. The source image and request are kept in DATA_DIR/local/ until the render
is done, so a render interrupted by a restart starts again at the next poll instead of being lost; the
finished MP4 waits there until the downloader moves it into videos/.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import httpx2

from videogen_mcp.errors import InvalidInput
from videogen_mcp.http import HttpClient
from videogen_mcp.images import MAX_BYTES, ImageInput, check_image_bytes
from videogen_mcp.providers.base import ImageTransport, PollResult, SubmitRequest
from videogen_mcp.render import render
from videogen_mcp.urlguard import OPT_OUT, UrlGuard, UrlRefused

if TYPE_CHECKING:
    from videogen_mcp.config import Settings

log = logging.getLogger(__name__)

#: What list_providers says of `local`: what it is, honestly, and how to get it when PyAV is missing.
DESCRIPTION = (
    "offline preview, not an AI model: animates the still image with a camera move taken from the prompt "
    "(zoom in/out, pan left/right, tilt up/down, orbit; slow push-in otherwise) into a real H.264 MP4; "
    "no account, no cost"
)
INSTALL = "pip install 'videogen-mcp-server[local]'"
SETUP = f"not installed: {INSTALL} adds PyAV for the offline preview (animates the still image; not an AI model)"

#: Renders at once; each uses the encoder's own threads.
SLOTS = 2
#: Staged files older than this are removed when the server starts.
KEEP_SECONDS = 2 * 24 * 3600
#: Every failure to read an image URL says the same, so the answers cannot tell an open port from a closed one.
FETCH_FAILED = ("the local provider could not fetch the image URL: check the URL is reachable from this machine, "
                "or pass a local file or a data URI (private addresses are refused unless the operator sets "
                f"{OPT_OUT})")


@dataclass
class _Job:
    id: str
    started: float
    done_frames: int = 0
    total_frames: int = 0
    finished: bool = False
    error: str | None = None


class Local:
    """Implements the Provider protocol itself: it runs here, needs no key, and reads image bytes directly."""

    name: ClassVar[str] = "local"
    key_env_var: ClassVar[str | None] = None
    base_url_env_var: ClassVar[str | None] = None
    poll_interval: ClassVar[float] = 0.5
    reports_progress: ClassVar[bool] = True
    polls_over_network: ClassVar[bool] = False
    image_transport: ClassVar[ImageTransport] = "bytes"
    base_url: str | None = None

    def __init__(self, staging: Path, client: HttpClient, guard: UrlGuard | None = None) -> None:
        self.render_dir: Path | None = staging
        self._staging = staging
        self._client = client
        self._guard = guard or UrlGuard()
        self._jobs: dict[str, _Job] = {}
        self._slots = threading.Semaphore(SLOTS)
        self._lock = threading.Lock()
        _remove_old_files(staging)

    def __repr__(self) -> str:
        return f"Local(render_dir={str(self._staging)!r})"

    @classmethod
    def configured(cls, settings: Settings) -> bool:
        return settings.local_available

    @classmethod
    def build(cls, settings: Settings, client: HttpClient) -> Local:
        return cls(settings.data_dir / "local", client, UrlGuard(settings.allow_private_urls))

    @classmethod
    def setup(cls, configured: bool) -> str:
        return DESCRIPTION if configured else SETUP

    @classmethod
    def not_configured(cls, configured: list[str], key_variables: list[str]) -> str:
        if not configured:
            return (f"no provider is configured: set one of {', '.join(key_variables)} in the server's environment, "
                    f"or install the offline local provider with {INSTALL}")
        return (f"provider 'local' is not installed: run {INSTALL}, or choose a configured provider "
                f"({', '.join(configured)})")

    async def submit(self, req: SubmitRequest, image: ImageInput) -> str:
        data = (await self.prepare_image(image)).data or b""
        job_id = f"local-{uuid.uuid4().hex}"
        self._staging.mkdir(parents=True, exist_ok=True)
        self._path(job_id, ".src").write_bytes(data)
        if req.end_image is not None:
            self._path(job_id, ".end").write_bytes((await self.prepare_image(req.end_image)).data or b"")
        self._path(job_id, ".json").write_text(json.dumps({"prompt": req.prompt, "duration": req.duration}))
        self._start(job_id)
        return job_id

    async def poll(self, provider_task_id: str) -> PollResult:
        job = self._jobs.get(provider_task_id) or self._restart(provider_task_id)
        if job is None:
            return PollResult("failed", "missing", error="the local render's source image is gone; generate again")
        if job.error:
            return PollResult("failed", "failed", error=job.error)
        if job.finished:
            return PollResult("completed", "completed", progress=100, video_url=self._path(job.id, ".mp4").as_uri())
        progress = int(99 * job.done_frames / job.total_frames) if job.total_frames else 0
        return PollResult("processing", "processing", progress=progress, eta_seconds=_eta(job))

    async def prepare_image(self, image: ImageInput) -> ImageInput:
        """Read an image URL now (at most 10 MB, never more into memory) and check it like a local file."""
        if image.data is not None:
            return image
        data = bytearray()
        try:
            async with self._guard.stream(self._client, image.url or "") as response:
                response.raise_for_status()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_BYTES:
                        raise InvalidInput("the image at the URL is larger than 10 MB")
        except (httpx2.HTTPError, UrlRefused, OSError) as exc:  # one sentence whatever happened: no port scanning
            log.info("local: fetching an image URL failed: %s", type(exc).__name__)
            raise InvalidInput(FETCH_FAILED) from None
        return replace(check_image_bytes(bytes(data), "at the URL"), url=image.url)  # the task record keeps the URL

    def charged_usd(self, provider_task_id: str) -> float | None:
        return None  # a render here costs nothing beyond the catalog's $0

    async def cancel(self, provider_task_id: str) -> bool | None:
        return None

    def _restart(self, job_id: str) -> _Job | None:
        if self._path(job_id, ".mp4").is_file():
            job = self._jobs[job_id] = _Job(job_id, time.monotonic(), finished=True)
            return job
        if not self._path(job_id, ".src").is_file():
            return None
        log.info("restarting local render %s after a restart of the server", job_id)
        return self._start(job_id)

    def _start(self, job_id: str) -> _Job:
        with self._lock:
            job = self._jobs.setdefault(job_id, _Job(job_id, time.monotonic()))
        threading.Thread(target=self._render, args=(job,), name=f"render {job_id}", daemon=True).start()
        return job

    def _render(self, job: _Job) -> None:
        request = json.loads(self._path(job.id, ".json").read_text())
        part = self._path(job.id, ".mp4.part")
        with self._slots:
            job.started = time.monotonic()
            try:
                end = self._path(job.id, ".end")
                render(self._path(job.id, ".src").read_bytes(), request["prompt"], int(request["duration"]), part,
                       lambda done, total: _advance(job, done, total),
                       end_image=end.read_bytes() if end.is_file() else None)
                os.replace(part, self._path(job.id, ".mp4"))
                job.finished = True
            except Exception as exc:
                log.exception("local render %s failed", job.id)
                job.error = f"rendering failed ({type(exc).__name__}: {exc})"
            finally:
                part.unlink(missing_ok=True)
        # the input is spent; a render cut by a restart never got here and keeps it
        for suffix in (".src", ".end", ".json"):
            self._path(job.id, suffix).unlink(missing_ok=True)

    def _path(self, job_id: str, suffix: str) -> Path:
        return self._staging / f"{job_id}{suffix}"


def _advance(job: _Job, done: int, total: int) -> None:
    job.done_frames, job.total_frames = done, total


def _eta(job: _Job) -> int | None:
    if not job.done_frames:
        return None
    spent = time.monotonic() - job.started
    return max(1, round(spent / job.done_frames * (job.total_frames - job.done_frames)))


def _remove_old_files(staging: Path) -> None:
    if not staging.is_dir():
        return
    cutoff = time.time() - KEEP_SECONDS
    for path in staging.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            pass
