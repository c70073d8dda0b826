"""TaskService: submit, get, wait and list tasks; the one entry point for the MCP layer and the CLI."""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio

from videogen_mcp import catalog
from videogen_mcp.config import Settings
from videogen_mcp.errors import InvalidInput, TaskFinished, TaskNotFound
from videogen_mcp.http import new_client
from videogen_mcp.images import ImageInput, load_image
from videogen_mcp.models import ModelInfo, ProviderInfo, Task, resource_uri
from videogen_mcp.providers import REGISTRY, Provider, SubmitRequest, build_adapters
from videogen_mcp.tasks import money
from videogen_mcp.tasks.downloader import Downloader
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.poller import DEFAULT_POLL_BUDGET, Poller, Submission
from videogen_mcp.tasks.redownload import Redownloader
from videogen_mcp.tasks.requests import GenerateRequest
from videogen_mcp.tasks.routing import Router
from videogen_mcp.tasks.store import Budget, OverBudget, TaskStore, open_store
from videogen_mcp.tasks.timing import Outlook, PollSchedule, now_iso
from videogen_mcp.urlguard import UrlGuard
from videogen_mcp.validation import check_generate, check_offering, check_task_arguments

#: The longest gap between two polls unless VIDEOGEN_POLL_MAX_INTERVAL says otherwise. Polls this sparse
#: happen only while the video cannot be ready yet (a 1,000-task backlog then costs ~17 polls a second).
DEFAULT_MAX_GAP = 60.0
#: How often a waiting call with a progress token re-estimates progress between task changes.
PROGRESS_TICK = 1.0

#: The longest a cancel waits for the provider to confirm; the task is cancelled here before the provider is asked.
CANCEL_WAIT = 10.0
CANCELLING = "cancelled; asking the provider to stop the job"

ProgressReport = Callable[[float, str], Awaitable[None]]


class TaskService:
    def __init__(self, settings: Settings, store: TaskStore, events: TaskEvents, adapters: dict[str, Provider],
                 poller: Poller, router: Router | None = None) -> None:
        self.settings = settings
        self.events = events
        self._store = store
        self._adapters = adapters
        self._poller = poller
        self.router = router or Router(settings, adapters)

    # -- providers ---------------------------------------------------------------------------
    def providers(self) -> list[ProviderInfo]:
        default = self.settings.chosen_default()
        return [self._provider_info(cls, default) for cls in REGISTRY]

    def _provider_info(self, cls: type[Provider], default: str) -> ProviderInfo:
        name = cls.name
        models = [
            ModelInfo(
                id=o.model.id,
                provider_model_id=o.provider_model_id,
                mode=o.mode,
                durations=list(o.durations),
                end_image=o.end_image,
                sound=o.sound,
                not_together=[sorted(rule.arguments) for rule in o.forbidden],
                guidance_parameter=o.guidance_parameter,
                prompt_required=o.prompt_required,
                price_usd=_prices(o),
                price_source=o.pricing.source,
                price_read=o.pricing.read,
                price_note=o.pricing.note,
                is_default=o.model.id == catalog.DEFAULT_MODEL,
            )
            for o in catalog.offerings(name)
        ]
        configured = cls.configured(self.settings)
        return ProviderInfo(name=name, configured=configured, is_default=name == default, models=models,
                            setup=cls.setup(configured), health=self.router.health(name))

    # -- submit ------------------------------------------------------------------------------
    def quote(self, req: GenerateRequest) -> money.Price:
        """What a call would cost at the provider it would go to first (for a confirmation before generate), or
        InvalidInput when no provider can serve it as asked."""
        route = self.router.route(req.provider, req.model).keeping(lambda offering: check_offering(req, offering))
        return money.price_of(route.first.provider.name, route.first.offering.model.id, req.duration)

    def confirmation_due(self, price: money.Price) -> bool:
        return money.confirmation_due(self.settings, price)

    async def spent_today(self) -> float:
        """What the tasks created in the last 24 h count against the daily budget together, in USD."""
        return await self._store.spent_since(money.window_start())

    async def generate(
        self, req: GenerateRequest, *, allow_local_files: bool = True, submit_wait: float = math.inf,
        confirmed_usd: float | None = None,
    ) -> Task:
        """Check every argument, write the task, hand it to the poller, and return once the provider accepted it.

        A provider refusal (bad key, no credit, ...) is raised; the task stays in the store as failed.
        If the provider has not answered within `submit_wait` seconds, the task is returned as it
        stands (queued, no provider id yet) and the submission goes on in the background.
        A generation priced above VIDEOGEN_CONFIRM_ABOVE_USD needs `confirmed_usd` (the price the user
        confirmed, see quote) at least as high; one that would pass the daily budget is refused (OverBudget).
        """
        check_generate(req)
        if not req.prompt.strip():
            raise InvalidInput("prompt is blank: describe what should happen in the video")
        route = self.router.route(req.provider, req.model).keeping(lambda offering: check_offering(req, offering))
        adapter, offering = route.first.provider, route.first.offering
        price = money.price_of(adapter.name, offering.model.id, req.duration)
        if self.confirmation_due(price) and (confirmed_usd is None or price.counted > confirmed_usd):
            raise money.confirmation_needed(self.settings, price, "it was not confirmed at that price")
        image = await self._image(adapter, req.image, allow_local_files)
        end_image = await self._image(adapter, req.end_image, allow_local_files) if req.end_image else None
        task = self._new_task(adapter.name, offering.model.id, req).model_copy(
            update={"failover": route.skipped, "cost_usd": price.usd})
        submission = Submission(SubmitRequest(offering, req.prompt, req.duration, req.negative_prompt,
                                              req.guidance_scale, end_image, req.sound), image, route,
                                budget=self._budget, price_ceiling=self._price_ceiling(confirmed_usd))
        with self._poller.making(task.task_id):  # the rescan must not pick the new row up without its submission
            await self._insert(task, _request_record(req, image, offering, end_image), price)
            await self.events.publish(task.task_id, created=True)
            await self._poller.follow(task.task_id, submission)
        with anyio.move_on_after(submit_wait):
            await submission.done.wait()
        if submission.error is not None:
            raise submission.error
        return await self.get(task.task_id)

    @staticmethod
    async def _image(adapter: Provider, ref: str, allow_local_files: bool) -> ImageInput:
        """An image argument loaded and checked, then made ready for the provider (before any task is stored)."""
        image = await anyio.to_thread.run_sync(lambda: load_image(ref, allow_local=allow_local_files))
        return await adapter.prepare_image(image)

    async def _insert(self, task: Task, request: dict[str, object], price: money.Price) -> None:
        try:
            await self._store.insert(task, request, self._poller.owner, self._poller.lease_ttl,
                                     counted_usd=price.counted, budget=self._budget())
        except OverBudget as exc:
            raise money.over_budget(self.settings.daily_budget_usd or 0.0, price, exc.spent) from None

    def _budget(self) -> Budget | None:
        """The daily budget as the store checks it now: None when VIDEOGEN_DAILY_BUDGET_USD is unset."""
        cap = self.settings.daily_budget_usd
        return None if cap is None else Budget(cap, money.window_start())

    def _price_ceiling(self, confirmed_usd: float | None) -> float | None:
        """The most a failover may move the task to without asking again: the threshold or the confirmed price."""
        threshold = self.settings.confirm_above_usd
        return None if threshold is None else max(threshold, confirmed_usd or 0.0)

    def _new_task(self, provider: str, model: str, req: GenerateRequest) -> Task:
        task_id = uuid.uuid4().hex
        stamp = now_iso()
        return Task(task_id=task_id, status="queued", provider=provider, model=model, provider_task_id=None,
                    progress=0, eta_seconds=None, video_url=None, video_path=None, error=None, prompt=req.prompt,
                    duration=req.duration, created_at=stamp, updated_at=stamp, resource_uri=resource_uri(task_id))

    # -- read --------------------------------------------------------------------------------
    async def get(self, task_id: str) -> Task:
        check_task_arguments(task_id=task_id)
        return await self._read(task_id.strip())

    async def _read(self, task_id: str) -> Task:
        """The stored task (its id already checked), or TaskNotFound."""
        task = await self._store.get(task_id)
        if task is None:
            raise TaskNotFound(f"no task has id {task_id!r}; call list_tasks to see the stored tasks")
        return task

    async def list(self, status: str | None = None, limit: int = 20) -> list[Task]:
        check_task_arguments(status=status, limit=limit)
        return await self._store.list(status, limit)

    async def page(self, offset: int, size: int) -> tuple[list[Task], bool]:
        """Tasks newest first from `offset`, and whether more follow (cursor paging)."""
        tasks = await self._store.list(None, offset + size + 1)
        return tasks[offset:offset + size], len(tasks) > offset + size

    async def cancel(self, task_id: str) -> Task:
        """Cancel a task: cancelled in the store before this returns, whatever the provider does later, and no
        longer polled; the provider's own cancel, where it documents one, is asked for once, best effort."""
        task = await self.get(task_id)
        if task.finished:
            raise TaskFinished(f"task {task.task_id} is already {task.status}, so there is nothing to cancel")
        if not await self._store.cancel(task.task_id, CANCELLING, now_iso()):
            finished = await self.get(task.task_id)
            raise TaskFinished(f"task {task.task_id} {finished.status} before it could be cancelled")
        await self.events.publish(task.task_id)
        adapter = self._adapters.get(task.provider)
        confirmed = None
        if adapter is not None and task.provider_task_id:
            with anyio.move_on_after(CANCEL_WAIT):
                confirmed = False
                confirmed = await adapter.cancel(task.provider_task_id)
        await self._store.cancel(task.task_id, _cancel_note(task, confirmed), now_iso())
        await self.events.publish(task.task_id)
        return await self.get(task.task_id)

    async def wait(self, task_id: str, seconds: float, report: ProgressReport | None = None) -> Task:
        """Wait up to `seconds` for the task to finish, reporting rising progress; never polls a provider."""
        check_task_arguments(task_id=task_id, wait_seconds=seconds)
        task_id = task_id.strip()
        task = await self._read(task_id)
        if not task.finished:
            await self._poller.follow(task_id)  # a task another process made (and perhaps left) is followed here too
        if report is None and (task.finished or seconds <= 0):
            return task  # nothing to wait for or report: one read
        deadline = anyio.current_time() + seconds
        last = -1.0
        with self.events.watching(task_id) as next_change:
            while True:
                changed = next_change()
                task = await self._read(task_id)
                if report is not None:
                    value, message = await self._progress(task)
                    if value > last:
                        await report(value, message)
                        last = value
                left = deadline - anyio.current_time()
                if task.finished or left <= 0:
                    return task
                with anyio.move_on_after(min(left, PROGRESS_TICK) if report else left):
                    await changed.wait()

    async def _progress(self, task: Task) -> tuple[float, str]:
        seen = await self.outlook(task)
        return seen.progress, seen.message

    async def outlook(self, task: Task) -> Outlook:
        """Progress, progress message and when the next change is likely (see Poller.outlook)."""
        return await self._poller.current_outlook(task)


def _cancel_note(task: Task, confirmed: bool | None) -> str:
    """What `error` says of a cancelled task: whether the provider may still finish and bill the job."""
    provider = task.provider
    if not task.provider_task_id:
        return (f"cancelled while it was being submitted to {provider}: if {provider} received it, the job may "
                "still run and be billed")
    if confirmed:
        return f"cancelled; {provider} confirmed it stopped job {task.provider_task_id}"
    if confirmed is False:
        return (f"cancelled here, but {provider} did not confirm stopping job {task.provider_task_id}: it may "
                f"still finish and be billed (check the {provider} dashboard)")
    return (f"cancelled here; {provider} offers no way to stop job {task.provider_task_id}, so it may still "
            "finish and be billed")


def _request_record(req: GenerateRequest, image: ImageInput, offering: catalog.Offering,
                    end_image: ImageInput | None = None) -> dict[str, object]:
    """What the store keeps of the request: never the image bytes."""
    return {
        "image": _image_note(image),
        "negative_prompt": req.negative_prompt,
        "guidance_scale": req.guidance_scale,
        "provider_model_id": offering.provider_model_id,
        "end_image": _image_note(end_image) if end_image else None,
        "sound": bool(req.sound),
    }


def _image_note(image: ImageInput) -> str:
    return image.url or f"{image.mime} {image.width}x{image.height}"


@asynccontextmanager
async def open_service(settings: Settings, *, follow: bool = True) -> AsyncIterator[TaskService]:
    """Open the store (PostgreSQL if VIDEOGEN_DATABASE_URL is set, else SQLite in the data dir), the HTTP client
    and the poller's task group; resume unfinished tasks if `follow`.

    Read-only commands (tasks, providers) pass follow=False so they never touch another process's tasks.
    """
    async with unwrap_single_error(), open_store(settings) as store, new_client() as client, \
            anyio.create_task_group() as group:
        adapters = build_adapters(settings, client)
        events = TaskEvents()
        guard = UrlGuard(settings.allow_private_urls)
        downloader = (Downloader(client, settings.data_dir / "videos", guard=guard, adapters=adapters)
                      if settings.download else None)
        schedules = _schedules(settings, adapters)
        budget = DEFAULT_POLL_BUDGET if settings.poll_budget is None else settings.poll_budget
        poller = Poller(store, events, adapters, downloader, schedules, group, poll_budget=budget)
        service = TaskService(settings, store, events, adapters, poller)
        if follow:
            group.start_soon(store.relay_changes, events)
            await poller.resume()
            group.start_soon(poller.rescan_forever)
            if downloader is not None:
                group.start_soon(Redownloader(store, events, downloader).run_forever)
        try:
            yield service
        finally:
            await poller.release()
        group.cancel_scope.cancel()


@asynccontextmanager
async def unwrap_single_error() -> AsyncIterator[None]:
    """Let the caller's own error out of the task group unwrapped, so callers can catch it by class."""
    try:
        yield
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


def _schedules(settings: Settings, adapters: dict[str, Provider]) -> dict[str, PollSchedule]:
    schedules = {}
    for name, adapter in adapters.items():
        min_gap = settings.poll_interval or adapter.poll_interval
        max_gap = max(settings.poll_max_interval or DEFAULT_MAX_GAP, min_gap)
        schedules[name] = PollSchedule(min_gap, max_gap)
    return schedules


def _prices(offering: catalog.Offering) -> dict[str, float | None] | None:
    """The offering's price per length (null where unpublished); null as a whole when no length has one."""
    usd = {str(d): offering.pricing.price(d) for d in offering.durations}
    return usd if any(p is not None for p in usd.values()) else None
