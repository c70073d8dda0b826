"""Downloads finished videos to DATA_DIR/videos/<task_id>.mp4: a temporary name first, then a rename."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import anyio
import httpx2

from videogen_mcp.errors import disk_full, is_disk_full
from videogen_mcp.http import HttpClient, backoff

log = logging.getLogger(__name__)

#: Longest one download attempt may take, whatever the file size.
DOWNLOAD_TIMEOUT = 600.0
#: A Kling clip is tens of MB; a URL serving more than this is not a video we asked for.
MAX_VIDEO_BYTES = 2 * 1024**3


class DownloadFailed(Exception):
    """The video could not be fetched; `final` when asking again cannot help (too large)."""

    def __init__(self, reason: str, final: bool = False) -> None:
        super().__init__(reason)
        self.final = final


class TooLarge(Exception):
    pass


class Downloader:
    """Fetches with the shared client, which carries no provider key: the URL may be a third party's CDN."""

    def __init__(self, client: HttpClient, videos_dir: Path, attempts: int = 3,
                 timeout: float = DOWNLOAD_TIMEOUT, max_bytes: int = MAX_VIDEO_BYTES) -> None:
        self._client = client
        self._dir = videos_dir
        self._attempts = attempts
        self._timeout = timeout
        self._max_bytes = max_bytes

    async def fetch(self, url: str, task_id: str) -> Path:
        """Download with retries (exponential backoff, jitter); DownloadFailed says why the last one failed."""
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # the task must still end, with a note saying why
            raise DownloadFailed(disk_full(self._dir) if is_disk_full(exc) else f"cannot create {self._dir} "
                                 f"({exc.strerror})") from None
        for attempt in range(1, self._attempts + 1):
            try:
                with anyio.fail_after(self._timeout):  # a CDN that trickles bytes must not hold the task forever
                    return await self._fetch_once(url, self._dir / f"{task_id}.mp4")
            except TooLarge:
                raise DownloadFailed(f"the file is larger than the {self._max_bytes // 1024**2} MB cap",
                                     final=True) from None
            except Exception as exc:  # whatever went wrong, the task must end: the URL stays in video_url
                reason = disk_full(self._dir) if is_disk_full(exc) else _reason(exc)
                log.warning("download of task %s failed (attempt %d): %s", task_id, attempt, reason)
                if attempt == self._attempts:
                    raise DownloadFailed(reason) from None
                await anyio.sleep(backoff(attempt, base=1.0, cap=30.0))
        raise AssertionError("unreachable")

    async def _fetch_once(self, url: str, dest: Path) -> Path:
        part = dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.part")
        try:
            if url.startswith("file://"):  # the local provider's render
                await anyio.to_thread.run_sync(shutil.copyfile, Path(url2pathname(urlparse(url).path)), part)
            else:
                await self._stream_to(url, part)
            os.replace(part, dest)
            return dest
        finally:
            part.unlink(missing_ok=True)

    async def _stream_to(self, url: str, part: Path) -> None:
        async with self._client.stream("GET", url) as response:
            response.raise_for_status()
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > self._max_bytes:
                raise TooLarge
            written = 0
            async with await anyio.open_file(part, "wb") as out:
                async for chunk in response.aiter_bytes(1 << 16):
                    written += len(chunk)
                    if written > self._max_bytes:  # the header lied, or there was none
                        raise TooLarge
                    await out.write(chunk)


def _reason(exc: Exception) -> str:
    if isinstance(exc, httpx2.HTTPStatusError):
        return f"HTTP {exc.response.status_code}"
    if isinstance(exc, TimeoutError):
        return "timed out"
    return type(exc).__name__
