"""The one Poller of a process: submits new tasks and follows every unfinished one to its end."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import anyio
from anyio.abc import TaskGroup

from videogen_mcp.catalog import typical_seconds
from videogen_mcp.errors import ProviderError, VideogenError
from videogen_mcp.images import ImageInput
from videogen_mcp.models import Task
from videogen_mcp.providers import Adapter, PollResult, SubmitRequest
from videogen_mcp.tasks.downloader import Downloader, DownloadFailed
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import PollSchedule, elapsed_seconds, estimated_eta, estimated_progress, now_iso

log = logging.getLogger(__name__)

UNKNOWN_STATUS_LIMIT = 10
PERMANENT_ERROR_LIMIT = 10
INTERRUPTED = (
    "the server stopped while submitting this task, so whether the provider received it is unknown; "
    "check the provider's dashboard before submitting again"
)


@dataclass
class Submission:
    """A task still to be sent to its provider; `done` is set once the provider answered."""

    request: SubmitRequest
    image: ImageInput
    done: anyio.Event = field(default_factory=anyio.Event)
    error: VideogenError | None = None


@dataclass
class _PollState:
    unknown: int = 0
    errors: int = 0
    retry_after: float | None = None


class Poller:
    def __init__(
        self,
        store: TaskStore,
        events: TaskEvents,
        adapters: dict[str, Adapter],
        downloader: Downloader | None,
        schedules: dict[str, PollSchedule],
        task_group: TaskGroup,
    ) -> None:
        self._store = store
        self._events = events
        self._adapters = adapters
        self._downloader = downloader
        self._schedules = schedules
        self._group = task_group
        self._following: set[str] = set()

    def follow(self, task_id: str, submission: Submission | None = None) -> None:
        if task_id not in self._following:
            self._following.add(task_id)
            self._group.start_soon(self._follow, task_id, submission, name=f"follow {task_id}")

    async def resume(self) -> None:
        """Called at start-up: follow every unfinished task left by an earlier run."""
        for task in self._store.unfinished():
            if task.provider_task_id is None:
                await self._save(task, status="failed", error=INTERRUPTED)
            elif task.provider not in self._adapters:
                log.warning("task %s needs %s, which is not configured; not following it", task.task_id, task.provider)
            else:
                self.follow(task.task_id)

    async def _follow(self, task_id: str, submission: Submission | None) -> None:
        try:
            if submission is None or await self._submit(task_id, submission):
                await self._poll_until_finished(task_id)
        except Exception:  # a bug must not take the server down; the task resumes at the next start
            log.exception("following task %s stopped", task_id)
        finally:
            self._following.discard(task_id)

    async def _submit(self, task_id: str, submission: Submission) -> bool:
        task = self._task(task_id)
        try:
            provider_task_id = await self._adapters[task.provider].submit(submission.request, submission.image)
        except Exception as exc:
            submission.error = _as_videogen_error(exc)
            await self._save(task, status="failed", error=str(submission.error))
            return False
        finally:
            submission.done.set()
        await self._save(task, provider_task_id=provider_task_id)
        return True

    async def _poll_until_finished(self, task_id: str) -> None:
        state = _PollState()
        task = self._task(task_id)
        adapter = self._adapters[task.provider]
        while not task.finished:
            await anyio.sleep(self._gap(task, state))
            task = self._task(task_id)
            try:
                result = await adapter.poll(task.provider_task_id or "")
            except Exception as exc:
                task = await self._poll_failed(task, state, _as_videogen_error(exc))
                continue
            state.errors, state.retry_after = 0, None
            task = await self._apply(task, result, state)

    def _gap(self, task: Task, state: _PollState) -> float:
        typical = typical_seconds(task.provider, task.model, task.duration)
        return self._schedules[task.provider].gap(elapsed_seconds(task), typical, task.eta_seconds, state.retry_after)

    async def _poll_failed(self, task: Task, state: _PollState, error: VideogenError) -> Task:
        transient = getattr(error, "transient", False)
        state.retry_after = getattr(error, "retry_after", None)
        state.errors += 0 if transient else 1
        log.info("poll of task %s failed: %s", task.task_id, error)
        if state.errors >= PERMANENT_ERROR_LIMIT:
            return await self._save(task, status="failed", error=str(error), eta_seconds=None)
        return task

    async def _apply(self, task: Task, result: PollResult, state: _PollState) -> Task:
        if result.status is None:
            state.unknown += 1
            if state.unknown >= UNKNOWN_STATUS_LIMIT:
                error = (f"{task.provider} reported a status this server does not know, {result.raw_status!r}, "
                         f"{state.unknown} times in a row")
                return await self._save(task, status="failed", error=error, eta_seconds=None)
            return task
        state.unknown = 0
        if result.status == "completed":
            return await self._complete(task, result.video_url or "")
        if result.status in ("failed", "cancelled"):
            return await self._save(task, status=result.status, error=result.error, eta_seconds=None)
        return await self._save(task, status=result.status, **self._progress(task, result))

    def _progress(self, task: Task, result: PollResult) -> dict[str, int | None]:
        if result.progress is not None:
            return {"progress": max(0, min(result.progress, 99)), "eta_seconds": result.eta_seconds}
        typical = typical_seconds(task.provider, task.model, task.duration)
        elapsed = elapsed_seconds(task)
        progress = estimated_progress(elapsed, typical, queued=result.status == "queued")
        return {"progress": max(task.progress, int(progress)), "eta_seconds": estimated_eta(elapsed, typical)}

    async def _complete(self, task: Task, video_url: str) -> Task:
        if self._downloader is None:
            return await self._save(task, status="completed", progress=100, video_url=video_url, eta_seconds=None)
        task = await self._save(task, video_url=video_url, progress=max(task.progress, 99), eta_seconds=None)
        try:
            path = await self._downloader.fetch(video_url, task.task_id)
        except DownloadFailed as exc:
            note = f"the video is ready at video_url, but downloading it failed ({exc}); download it soon"
            return await self._save(task, status="completed", progress=100, error=note)
        return await self._save(task, status="completed", progress=100, video_path=str(path))

    def _task(self, task_id: str) -> Task:
        task = self._store.get(task_id)
        assert task is not None, task_id
        return task

    async def _save(self, task: Task, **changes: object) -> Task:
        """Write first, then tell waiters and subscribers."""
        updated = task.model_copy(update={**changes, "updated_at": now_iso()})
        self._store.update(updated)
        await self._events.publish(task.task_id)
        return updated


def _as_videogen_error(exc: Exception) -> VideogenError:
    if isinstance(exc, VideogenError):
        return exc
    log.exception("unexpected error while talking to a provider")
    return ProviderError(f"internal error while talking to the provider ({type(exc).__name__}); see the server log")
