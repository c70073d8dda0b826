"""Downloads finished videos to DATA_DIR/videos/<task_id>.mp4: a temporary name first, then a rename.

Only http(s) URLs that the UrlGuard allows are fetched; a file:// URL only when it is one of the provider's own
renders (a regular file in its render_dir), which is moved, not copied.
"""

from __future__ import annotations

import logging
import os
import shutil
import stat
import uuid
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import anyio
import httpx2

from videogen_mcp.errors import disk_full, is_disk_full
from videogen_mcp.http import REDACTED, HttpClient, backoff
from videogen_mcp.providers import Provider
from videogen_mcp.urlguard import UrlGuard, UrlRefused

log = logging.getLogger(__name__)

#: Longest one download attempt may take, whatever the file size.
DOWNLOAD_TIMEOUT = 600.0
#: A Kling clip is tens of MB; a URL serving more than this is not a video we asked for.
MAX_VIDEO_BYTES = 2 * 1024**3


class DownloadFailed(Exception):
    """The video could not be fetched; `final` when asking again cannot help (too large, a refused URL)."""

    def __init__(self, reason: str, final: bool = False) -> None:
        super().__init__(reason)
        self.final = final


class TooLarge(Exception):
    pass


class Downloader:
    """Fetches with the shared client, which carries no provider key: the URL may be a third party's CDN.

    `adapters` tells, per provider, the base URL whose host and port the guard allows and the render_dir
    whose files may be taken."""

    def __init__(self, client: HttpClient, videos_dir: Path, attempts: int = 3,
                 timeout: float = DOWNLOAD_TIMEOUT, max_bytes: int = MAX_VIDEO_BYTES, *,
                 guard: UrlGuard | None = None, adapters: Mapping[str, Provider] | None = None) -> None:
        self._client = client
        self._dir = videos_dir
        self._attempts = attempts
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._guard = guard or UrlGuard()
        self._adapters = adapters or {}

    async def fetch(self, url: str, task_id: str, provider: str = "") -> Path:
        """Download with retries (exponential backoff, jitter); DownloadFailed says why the last one failed."""
        adapter = self._adapters.get(provider)
        if REDACTED in url:  # the provider signed it with its API key, which the server never sends to a CDN
            raise DownloadFailed("the video URL carried the provider's API key, which the server removed and never "
                                 "sends; download the video from the provider's dashboard", final=True)
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # the task must still end, with a note saying why
            raise DownloadFailed(disk_full(self._dir) if is_disk_full(exc) else f"cannot create {self._dir} "
                                 f"({exc.strerror})") from None
        for attempt in range(1, self._attempts + 1):
            try:
                with anyio.fail_after(self._timeout):  # a CDN that trickles bytes must not hold the task forever
                    return await self._fetch_once(url, self._dir / f"{task_id}.mp4", adapter)
            except TooLarge:
                raise DownloadFailed(f"the file is larger than the {self._max_bytes // 1024**2} MB cap",
                                     final=True) from None
            except UrlRefused as exc:
                log.warning("task %s: the video URL is refused: %s", task_id, exc)
                raise DownloadFailed(str(exc), final=True) from None
            except Exception as exc:  # whatever went wrong, the task must end: the URL stays in video_url
                reason = disk_full(self._dir) if is_disk_full(exc) else _reason(exc)
                log.warning("download of task %s failed (attempt %d): %s", task_id, attempt, reason)
                if attempt == self._attempts:
                    raise DownloadFailed(reason) from None
                await anyio.sleep(backoff(attempt, base=1.0, cap=30.0))
        raise AssertionError("unreachable")

    async def _fetch_once(self, url: str, dest: Path, adapter: Provider | None) -> Path:
        part = dest.with_name(f".{dest.stem}.{uuid.uuid4().hex[:8]}.part")
        render_dir = adapter.render_dir if adapter else None
        try:
            if render_dir is not None and urlsplit(url).scheme.lower() == "file":
                await anyio.to_thread.run_sync(self._take_render, url, render_dir, part)
            else:
                guard = self._guard.trusting(adapter.base_url if adapter else None)
                await self._stream_to(guard, url, part)
            os.replace(part, dest)
            return dest
        finally:
            part.unlink(missing_ok=True)

    def _take_render(self, url: str, render_dir: Path, part: Path) -> None:
        """Move a render to `part`: only a regular file inside render_dir (symlinks resolved), under the cap."""
        parts = urlsplit(url)
        path = Path(url2pathname(parts.path)).resolve()
        if parts.netloc not in ("", "localhost") or not path.is_relative_to(render_dir.resolve()):
            raise UrlRefused("the file:// URL is outside the provider's render directory, so it is never read")
        info = path.stat()  # a missing file is an ordinary failure, tried again like an HTTP 404
        if not stat.S_ISREG(info.st_mode):
            raise UrlRefused("the file:// URL is not a regular file, so it is never read")
        if info.st_size > self._max_bytes:
            raise TooLarge
        shutil.move(path, part)  # the render's one copy: a rename within the data dir

    async def _stream_to(self, guard: UrlGuard, url: str, part: Path) -> None:
        async with guard.stream(self._client, url) as response:
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
