"""The one Poller of a process: submits new tasks and follows every unfinished one to its end."""

from __future__ import annotations

import logging
import os
import random
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

import anyio
from anyio.abc import TaskGroup

from videogen_mcp.catalog import typical_seconds
from videogen_mcp.errors import ProviderError, StorageError, VideogenError
from videogen_mcp.images import ImageInput
from videogen_mcp.models import Failover, Task
from videogen_mcp.providers import PollResult, Provider, SubmitRequest
from videogen_mcp.tasks import money
from videogen_mcp.tasks.budget import RequestBudget, on_grid
from videogen_mcp.tasks.downloader import Downloader, DownloadFailed
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.loops import run_every
from videogen_mcp.tasks.redownload import failed_note
from videogen_mcp.tasks.routing import Route
from videogen_mcp.tasks.store import Budget, OverBudget, TaskStore
from videogen_mcp.tasks.timing import Outlook, PollSchedule, elapsed_seconds, now_iso, outlook
from videogen_mcp.tasks.typical import TypicalTimes

log = logging.getLogger(__name__)

UNKNOWN_STATUS_LIMIT = 10
#: Polls in a row that fail for a reason asking again will not fix (bad key, unreadable reply).
PERMANENT_ERROR_LIMIT = 10
#: A task is given up after this many typical durations, and never before GIVE_UP_FLOOR seconds.
GIVE_UP_FACTOR = 24
GIVE_UP_FLOOR = 3 * 3600
#: A submit that has not recorded its provider id after this long was cut off by a stopped process.
SUBMIT_GRACE = 120.0
#: Pause before following a task again after an unexpected error in this server.
RETRY_AFTER_BUG = 30.0
#: How long a lease on a task lasts unless renewed; the holder renews it every third of that, whatever it
#: is doing (submitting, sleeping through a Retry-After, downloading), so only a dead holder loses it.
#: Fixed, whatever the poll settings: a process killed outright leaves its tasks for at most this long.
LEASE_TTL = 30.0
#: Most status polls a second to one provider, all tasks together (VIDEOGEN_POLL_BUDGET).
DEFAULT_POLL_BUDGET = 20.0
#: How often a process re-reads the tasks another process holds (one read for all of them), to wake its own
#: waiters on their changes and to take over a task once its lease is free.
OBSERVE_INTERVAL = 1.0
#: The same, where the store pushes other processes' changes (PostgreSQL): the re-read is then only to take over
#: a task whose holder died (within LEASE_TTL plus this) and to catch a change notification that went missing.
TAKEOVER_INTERVAL = 5.0
#: Longest a clean stop waits to hand its leases back (they lapse on their own anyway).
RELEASE_TIMEOUT = 3.0
#: How often the store is scanned for unfinished tasks nobody here follows (made, or handed back at a clean
#: stop, by another process): a released task is polled here within about this long. One indexed read of ids.
RESCAN_INTERVAL = 1.0
#: A task's next poll waits for the next multiple of this many seconds on the event loop's clock after the
#: schedule's time, so tasks due within the same tick share one wake-up of the process (waking from idle
#: costs more CPU than the poll itself). The default poll budget's spacing (1 / DEFAULT_POLL_BUDGET).
WAKE_TICK = 0.05
INTERRUPTED = (
    "the server stopped while submitting this task, so whether the provider received it is unknown; "
    "check the provider's dashboard before submitting again"
)


@dataclass
class Submission:
    """A task still to be sent to its provider; `done` is set once the provider answered (or failed to).
    With a `route`, the submit may move on to its next provider (the task's provider changes first)."""

    request: SubmitRequest
    image: ImageInput
    route: Route | None = None
    #: The daily budget a failover to a pricier provider is checked against (None: no cap).
    budget: Callable[[], Budget | None] = lambda: None
    #: The highest price a failover may move the task to without the user confirming again (None: any).
    price_ceiling: float | None = None
    done: anyio.Event = field(default_factory=anyio.Event)
    error: VideogenError | None = None


@dataclass
class _Watch:
    """A task another process holds, as this one last saw it; `free` is set once it finished or its lease is free."""

    seen: str
    free: anyio.Event = field(default_factory=anyio.Event)


class LeaseLost(Exception):
    """Another process took over a task this one was following (this one stalled past its lease)."""


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
        adapters: dict[str, Provider],
        downloader: Downloader | None,
        schedules: dict[str, PollSchedule],
        task_group: TaskGroup,
        lease_ttl: float | None = None,
        poll_budget: float | None = DEFAULT_POLL_BUDGET,
    ) -> None:
        self._store = store
        self._events = events
        self._adapters = adapters
        self._downloader = downloader
        self._schedules = schedules
        self._group = task_group
        self._following: set[str] = set()
        self._making: set[str] = set()
        self._typical_times = TypicalTimes(store)
        self._replans: dict[tuple[str, str, int], anyio.Event] = {}
        self._held: dict[str, anyio.CancelScope] = {}
        self._lost: set[str] = set()
        self._renewing = False
        self._released = False
        self._leasing = anyio.Lock()  # a renewal and the hand-back never overlap (a pooled store runs both at once)
        self._watched: dict[str, _Watch] = {}
        self._sweeping = False
        self._budgets = {name: RequestBudget(poll_budget if adapter.polls_over_network else None)
                         for name, adapter in adapters.items()}
        self.lease_ttl = lease_ttl or LEASE_TTL
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    @property
    def following(self) -> frozenset[str]:
        """The tasks this process follows now (empty once every one it took on has finished)."""
        return frozenset(self._following)

    async def release(self) -> None:
        """Clean shutdown: hand this process's leases back so the next start resumes at once (even while the
        server is being cancelled). From then on this process neither renews nor takes a lease: a renewal after
        the hand-back would take the tasks back until that lease lapsed."""
        self._released = True
        with anyio.CancelScope(shield=True), anyio.move_on_after(RELEASE_TIMEOUT):
            try:
                async with self._leasing:  # after a renewal already under way, not before it
                    await self._store.release(self.owner)
            except StorageError as exc:  # the leases lapse on their own within LEASE_TTL
                log.warning("could not hand the task leases back: %s", exc)

    @contextmanager
    def making(self, task_id: str) -> Iterator[None]:
        """Around writing a new task and follow(task_id, submission): nothing else here (the rescan, a waiter)
        starts following the task meanwhile, without its submission, which would leave it never submitted."""
        self._making.add(task_id)
        try:
            yield
        finally:
            self._making.discard(task_id)

    async def follow(self, task_id: str, submission: Submission | None = None) -> None:
        """Follow an unfinished task of a configured provider (once: later calls change nothing)."""
        if self._taken(task_id, submission):
            return
        task = await self._store.get(task_id)
        if task is None or task.finished or task.provider not in self._adapters or self._taken(task_id, submission):
            return
        self._start(task_id, submission)

    def _taken(self, task_id: str, submission: Submission | None) -> bool:
        """Followed here already, or being made here and this call is not the one with its submission."""
        return task_id in self._following or (submission is None and task_id in self._making)

    def _start(self, task_id: str, submission: Submission | None = None) -> None:
        self._following.add(task_id)
        self._group.start_soon(self._follow, task_id, submission, name=f"follow {task_id}")

    async def resume(self) -> None:
        """Called at start-up: follow every unfinished task left by an earlier run."""
        for task in await self._store.unfinished():
            if task.provider not in self._adapters:
                log.warning("task %s needs %s, which is not configured; not following it", task.task_id, task.provider)
            elif await self._interrupted_long_ago(task):
                await self._save(task, status="failed", error=INTERRUPTED)  # before anyone is answered
            elif task.task_id not in self._following:
                self._start(task.task_id)

    async def _interrupted_long_ago(self, task: Task) -> bool:
        """A task with no provider id past the submit grace: its submitter stopped. True once we hold its lease."""
        if task.provider_task_id is not None or elapsed_seconds(task, since=task.updated_at) < SUBMIT_GRACE:
            return False
        return await self._claim(task)

    async def rescan_forever(self) -> None:
        """Pick up tasks another process created and may have left (it stopped, its lease lapses)."""
        await run_every(RESCAN_INTERVAL, self._rescan, "scanning the store for unfinished tasks", wait_first=True)

    async def _rescan(self) -> None:
        for task_id in await self._store.unfinished_ids():
            if task_id not in self._following:
                await self.follow(task_id)

    async def _follow(self, task_id: str, submission: Submission | None) -> None:
        try:
            while True:
                try:
                    await self._follow_once(task_id, submission)
                    return
                except LeaseLost:
                    log.warning("another process took over task %s; watching it instead", task_id)
                except Exception:  # a bug here must neither stop the server nor drop the task
                    log.exception("following task %s failed; trying again in %.0f s", task_id, RETRY_AFTER_BUG)
                    await anyio.sleep(RETRY_AFTER_BUG)
        finally:
            self._following.discard(task_id)
            if submission is not None:
                submission.done.set()

    async def _follow_once(self, task_id: str, submission: Submission | None) -> None:
        task = await self._task(task_id)
        if not await self._claim(task):
            task = await self._observe(task_id)  # another process follows it; take over if it stops
            if task.finished:
                return
        async with self._holding_lease(task_id):
            if submission is not None and not submission.done.is_set():
                if not await self._submit(task_id, submission):
                    return
            elif not await self._has_provider_id(task_id):
                return
            await self._poll_until_finished(task_id)

    @asynccontextmanager
    async def _holding_lease(self, task_id: str) -> AsyncIterator[None]:
        """Hold the task's lease while the body works (renewed by one loop for all tasks); LeaseLost if taken."""
        if not self._renewing:
            self._renewing = True
            self._group.start_soon(self._renew_leases_forever, name="renew leases")
        with anyio.CancelScope() as scope:
            self._held[task_id] = scope
            try:
                yield
            finally:
                del self._held[task_id]
        if task_id in self._lost:
            self._lost.discard(task_id)
            raise LeaseLost(task_id)

    async def _renew_leases_forever(self) -> None:
        """Renew every lease this process holds every third of the TTL, whatever each task is doing
        (submitting, sleeping through a Retry-After, downloading): only a dead process loses a lease."""
        while True:
            await anyio.sleep(self.lease_ttl / 3)
            try:
                async with self._leasing:
                    if self._released:
                        return
                    lost = await self._store.renew(self.owner, self.lease_ttl, list(self._held))
            except Exception:  # a busy or broken database must not stop the server: try again next round
                log.exception("renewing %d task leases failed; trying again in %.0f s", len(self._held),
                              self.lease_ttl / 3)
                continue
            for task_id in lost:
                if task_id in self._held:
                    self._lost.add(task_id)
                    self._held[task_id].cancel()

    async def _submit(self, task_id: str, submission: Submission) -> bool:
        task = await self._task(task_id)

        async def moving_to(provider: str, failover: list[Failover]) -> None:
            """Record where the job will run (and what it costs there) before submitting there: a crash mid-submit
            names the right one. The new price is held to the budget and the confirmed price first."""
            nonlocal task
            price = await self._charge(task, provider, submission)
            task = await self._save(task, provider=provider, failover=failover, cost_usd=price.usd)
            if task.provider != provider:
                raise LeaseLost(task_id)

        try:
            if submission.route is None:
                provider_task_id = await self._adapters[task.provider].submit(submission.request, submission.image)
            else:
                provider_task_id = await submission.route.submit(submission.request, submission.image, moving_to)
        except LeaseLost:
            raise
        except Exception as exc:
            submission.error = _as_videogen_error(exc)
            nothing_spent = isinstance(exc, VideogenError) and (getattr(exc, "no_job", False) or
                                                                 isinstance(exc, money.OverBudget | money.NotConfirmed))
            spent = {"cost_usd": 0.0} if nothing_spent else {}  # a job that certainly never started costs nothing
            await self._save(task, status="failed", error=str(submission.error), **spent)
            return False
        finally:
            submission.done.set()
        reported = self._adapters[task.provider].charged_usd(provider_task_id)
        spent = {} if reported is None else {"cost_usd": reported}
        await self._save(task, provider_task_id=provider_task_id, **spent)
        return True

    async def _charge(self, task: Task, provider: str, submission: Submission) -> money.Price:
        """Price the task at the provider a failover moves it to, within the confirmed price and the budget."""
        price = money.price_of(provider, task.model, task.duration)
        ceiling = submission.price_ceiling
        if ceiling is not None and price.counted > ceiling:
            raise money.failover_not_confirmed(price, ceiling)
        budget = submission.budget()
        try:
            await self._store.charge(task.task_id, price.usd, price.counted, budget)
        except OverBudget as exc:
            raise money.over_budget(budget.cap if budget else 0.0, price, exc.spent) from None
        return price

    async def _has_provider_id(self, task_id: str) -> bool:
        """A task without a provider id whose lease we got: its submitter stopped (or an old row: wait a grace)."""
        task = await self._task(task_id)
        if task.provider_task_id is None and not task.finished:
            await anyio.sleep(max(0.0, SUBMIT_GRACE - elapsed_seconds(task, since=task.updated_at)))
            task = await self._task(task_id)
            if task.provider_task_id is None and not task.finished:
                await self._save(task, status="failed", error=INTERRUPTED)
        return task.provider_task_id is not None and not task.finished

    async def _claim(self, task: Task) -> bool:
        if self._released:
            return False
        return await self._store.claim(task.task_id, self.owner, self.lease_ttl)

    async def _observe(self, task_id: str) -> Task:
        """Another process holds the task: wait until the sweep finds it finished or its lease free (its holder
        died or handed it back), and take over then."""
        if not self._sweeping:
            self._sweeping = True
            self._group.start_soon(self._sweep_forever, name="watch tasks other processes hold")
        task = await self._task(task_id)
        while not task.finished:
            watch = self._watched[task_id] = _Watch(task.updated_at)
            try:
                await watch.free.wait()
            finally:
                del self._watched[task_id]
            task = await self._task(task_id)
            if task.finished or await self._claim(task):
                return task
        return task

    async def _sweep_forever(self) -> None:
        """Re-read every task another process holds, in one read each round (not one per task): wake this
        process's waiters on a change (where the store does not push changes, or a notification went missing),
        and the task's observer once it finished or its lease is free."""
        interval = TAKEOVER_INTERVAL if self._store.pushes_changes else OBSERVE_INTERVAL
        await run_every(interval, self._sweep, "re-reading the tasks other processes follow", wait_first=True)

    async def _sweep(self) -> None:
        if not self._watched:
            return
        asked = list(self._watched)
        states = {state.task_id: state for state in await self._store.leases(asked)}
        for task_id in asked:
            watch, state = self._watched.get(task_id), states.get(task_id)
            if watch is None:
                continue
            if state is not None and state.updated_at != watch.seen:
                watch.seen = state.updated_at
                await self._events.publish(task_id)
            if state is None or state.finished or state.free:  # gone from the store: its observer reads why
                watch.free.set()

    async def _poll_until_finished(self, task_id: str) -> None:
        state = _PollState()
        task = await self._task(task_id)
        adapter = self._adapters[task.provider]
        while not task.finished:
            await self._wait_for_next_poll(task, state)
            task = await self._task(task_id)
            if task.finished:  # another process finished it: tell this process's waiters
                await self._events.publish(task_id)
                return
            task = await self._poll_once(adapter, task, state)
            if not task.finished and elapsed_seconds(task) > self._give_up_after(task):
                await self._give_up(task)
                return

    async def _poll_once(self, adapter: Provider, task: Task, state: _PollState) -> Task:
        """Ask the provider once (also after a long downtime, before any deadline) and record the answer."""
        try:
            await self._budgets[task.provider].wait()
            result = await adapter.poll(task.provider_task_id or "")
        except Exception as exc:
            return await self._poll_failed(task, state, _as_videogen_error(exc))
        state.errors, state.retry_after = 0, None
        return await self._apply(task, result, state)

    def typical(self, task: Task) -> float:
        """How long this provider usually takes for this model and length (learned, else the catalog's)."""
        return self._typical_times.get(task.provider, task.model, task.duration)

    def _gap(self, task: Task, state: _PollState) -> float:
        return self._planned_gap(task, state.retry_after, random.random())

    def _planned_gap(self, task: Task, retry_after: float | None = None, jitter: float = 0.0) -> float:
        """The schedule's gap for this task, from everything learned of its kind (the poll plan and the outlook)."""
        schedule = self._schedules[task.provider]
        eta = task.eta_seconds if self._adapters[task.provider].reports_progress else None  # else our own estimate
        known = self._typical_times.estimate(*_kind(task))
        return schedule.planned(elapsed_seconds(task), known, eta, retry_after, jitter)

    async def _wait_for_next_poll(self, task: Task, state: _PollState) -> None:
        """Sleep the schedule's gap; when a task of the same kind finishes far from the expected time
        meanwhile, re-plan from the last poll with what was just learned (at once if that time is past)."""
        last_poll = anyio.current_time()
        while True:
            await self._typical_times.refresh(task.provider, task.model, task.duration)
            replan = self._replans.setdefault(_kind(task), anyio.Event())
            due = on_grid(last_poll + self._gap(task, state), WAKE_TICK)
            with anyio.move_on_after(max(0.0, due - anyio.current_time())):
                await replan.wait()
                continue
            return

    def _give_up_after(self, task: Task) -> float:
        # The catalog's time only: the learned one counts running tasks, so a stuck task would postpone its own end.
        return max(GIVE_UP_FACTOR * typical_seconds(task.provider, task.model, task.duration), GIVE_UP_FLOOR)

    async def _give_up(self, task: Task) -> None:
        hours = elapsed_seconds(task) / 3600
        error = (f"{task.provider} had not finished this task after {hours:.1f} h, so the server stopped following "
                 f"it; check the {task.provider} dashboard for job {task.provider_task_id}")
        await self._save(task, status="failed", error=error, eta_seconds=None)

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
                said = f"an unknown status {result.raw_status!r}" if result.raw_status else "no status"
                error = f"{task.provider} reported {said} {state.unknown} times in a row"
                return await self._save(task, status="failed", error=error, eta_seconds=None)
            return task
        state.unknown = 0
        if result.status == "completed":
            return await self._complete(task, result.video_url or "")
        if result.status in ("failed", "cancelled"):
            task = await self._save(task, status=result.status, error=result.error, eta_seconds=None)
            if task.status == "failed":
                await self._observed(task)  # early failures are learned: they set how often young tasks are probed
            return task
        return await self._save(task, status=result.status, **await self._progress(task, result))

    async def _progress(self, task: Task, result: PollResult) -> dict[str, int | None]:
        if result.progress is not None:
            return {"progress": max(0, min(result.progress, 99)), "eta_seconds": result.eta_seconds}
        await self._typical_times.refresh(task.provider, task.model, task.duration)
        seen = self.outlook(task.model_copy(update={"status": result.status}))
        return {"progress": int(seen.progress), "eta_seconds": seen.eta_seconds}  # the Task keeps whole percents

    async def current_outlook(self, task: Task) -> Outlook:
        """outlook() with this kind's typical time freshly learned (another process may be following the task)."""
        await self._typical_times.refresh(task.provider, task.model, task.duration)
        return self.outlook(task)

    def outlook(self, task: Task) -> Outlook:
        """The task's progress, message and next likely change, estimated once for every caller."""
        adapter = self._adapters.get(task.provider)
        if adapter is None:  # a provider not configured here: what the store says is all there is
            return outlook(task, 0.0, True, LEASE_TTL)
        return outlook(task, self.typical(task), adapter.reports_progress, self._planned_gap(task))

    async def _observed(self, task: Task) -> None:
        """Learn from a task seen ended by its provider; wake the others of its kind to re-plan if that moved."""
        if await self._typical_times.observed(*_kind(task), task.task_id, elapsed_seconds(task)):
            self._replans.pop(_kind(task), anyio.Event()).set()

    async def _complete(self, task: Task, video_url: str) -> Task:
        done = {"status": "completed", "progress": 100, "video_url": video_url, "eta_seconds": None}
        await self._observed(task)
        if self._downloader is None:
            return await self._save(task, **done)
        task = await self._save(task, status="processing", video_url=video_url, progress=99, eta_seconds=None)
        if task.finished:
            return task  # finished by another process
        try:
            path = await self._downloader.fetch(video_url, task.task_id, task.provider)
        except DownloadFailed as exc:
            return await self._save(task, **done, error=failed_note(str(exc), exc.final))
        if video_url.startswith("file:"):  # a render moved into videos/: the old place is gone
            done["video_url"] = path.as_uri()
        return await self._save(task, **done, video_path=str(path))

    async def _task(self, task_id: str) -> Task:
        task = await self._store.get(task_id)
        assert task is not None, task_id
        return task

    async def _save(self, task: Task, **changes: object) -> Task:
        """Write first, then tell waiters and subscribers. A row another process finished is left alone."""
        updated = Task.model_validate({**task.model_dump(), **changes, "updated_at": now_iso()})
        if not await self._store.update(updated, owner=self.owner):
            updated = await self._task(task.task_id)  # finished, or taken over, by another process
        await self._events.publish(task.task_id)
        return updated


def _kind(task: Task) -> tuple[str, str, int]:
    return task.provider, task.model, task.duration


def _as_videogen_error(exc: Exception) -> VideogenError:
    if isinstance(exc, VideogenError):
        return exc
    log.exception("unexpected error while talking to a provider")
    return ProviderError(f"internal error while talking to the provider ({type(exc).__name__}); see the server log")
