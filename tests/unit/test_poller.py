"""The Poller in-process: a scripted provider, a real store on disk, real events, and fast clocks."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import anyio
import httpx2
import pytest

from tests.support.rig import (
    FAST,
    JOB,
    VIDEO_URL,
    FakeAdapter,
    Rig,
    Step,
    completed,
    processing,
    put,
    requested_url,
    rig,
    settled,
    unknown,
    until,
    video_downloader,
)
from videogen_mcp.errors import ProviderUnavailable, RateLimited, UnexpectedReply
from videogen_mcp.models import Task
from videogen_mcp.providers.base import PollResult
from videogen_mcp.tasks import poller as poller_module
from videogen_mcp.tasks.poller import INTERRUPTED, Poller
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import now_iso

pytestmark = pytest.mark.anyio


async def idle(poller: Poller) -> None:
    await until(lambda: not poller.following)


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every gap the poller waits before a poll, in order (the waits still happen)."""
    delays: list[float] = []
    real_gap = Poller._gap

    def gap(self: Poller, *args: Any) -> float:
        delays.append(real_gap(self, *args))
        return delays[-1]

    monkeypatch.setattr(Poller, "_gap", gap)
    return delays


async def follow(r: Rig, task_id: str = "t1", **fields: object) -> Task:
    """Store a task the provider already accepted, follow it, and return it once finished."""
    fields = {"status": "processing", "provider_task_id": JOB, **fields}
    await put(r.store, task_id, **fields)
    await r.poller.follow(task_id)
    return await settled(r.store, task_id)


# -- unknown statuses ----------------------------------------------------------------------------


async def test_ten_unknown_statuses_in_a_row_fail_the_task_quoting_the_status(tmp_path):
    async with rig(tmp_path, FakeAdapter([unknown("warming-up")] * 10)) as r:
        done = await follow(r)
    assert done.status == "failed"
    assert "'warming-up'" in done.error
    assert "10 times in a row" in done.error
    assert len(r.adapter.polls) == 10


async def test_an_empty_status_ten_times_fails_saying_there_was_no_status(tmp_path):
    async with rig(tmp_path, FakeAdapter([unknown("")] * 10)) as r:
        done = await follow(r)
    assert done.status == "failed"
    assert "no status" in done.error


async def test_nine_unknown_statuses_then_completed_is_completed(tmp_path):
    async with rig(tmp_path, FakeAdapter([unknown()] * 9 + [completed()])) as r:
        done = await follow(r)
    assert done.status == "completed"
    assert done.error is None
    assert done.progress == 100


async def test_a_known_status_resets_the_count_of_unknown_ones(tmp_path):
    script = [unknown()] * 9 + [processing()] + [unknown()] * 9 + [completed()]
    async with rig(tmp_path, FakeAdapter(script)) as r:
        done = await follow(r)
    assert done.status == "completed"


async def test_an_unknown_status_is_never_taken_for_success(tmp_path):
    async with rig(tmp_path, FakeAdapter([unknown("succeeded-ish")] * 5)) as r:
        await put(r.store, status="processing", provider_task_id=JOB)
        await r.poller.follow("t1")
        await until(lambda: len(r.adapter.polls) >= 7)
        assert (await r.store.get("t1")).status == "processing"


# -- poll errors ---------------------------------------------------------------------------------


async def test_ten_unreadable_replies_in_a_row_fail_the_task_with_that_error(tmp_path):
    error = "wavespeed sent an unexpected reply: no data.status"
    async with rig(tmp_path, FakeAdapter([UnexpectedReply(error)] * 10)) as r:
        done = await follow(r)
    assert done.status == "failed"
    assert done.error == error
    assert done.eta_seconds is None
    assert len(r.adapter.polls) == 10


async def test_nine_unreadable_replies_then_completed_is_completed(tmp_path):
    async with rig(tmp_path, FakeAdapter([UnexpectedReply("bad")] * 9 + [completed()])) as r:
        done = await follow(r)
    assert done.status == "completed"


async def test_a_good_poll_resets_the_count_of_unreadable_replies(tmp_path):
    script = [UnexpectedReply("bad")] * 9 + [processing()] + [UnexpectedReply("bad")] * 9 + [completed()]
    async with rig(tmp_path, FakeAdapter(script)) as r:
        done = await follow(r)
    assert done.status == "completed"


async def test_transient_errors_interleaved_with_unreadable_replies_do_not_fail_the_task(tmp_path):
    script: list[Step] = []
    for i in range(9):
        script += [UnexpectedReply("bad"), ProviderUnavailable("wavespeed is down (HTTP 503)") if i % 2
                   else RateLimited("wavespeed asks to slow down (HTTP 429)")]
    async with rig(tmp_path, FakeAdapter([*script, completed()])) as r:
        done = await follow(r)
    assert done.status == "completed"
    assert len(r.adapter.polls) == 19


async def test_more_transient_errors_in_a_row_than_the_limit_do_not_fail_the_task(tmp_path):
    script = [ProviderUnavailable("down"), RateLimited("slow down")] * 6
    async with rig(tmp_path, FakeAdapter([*script, completed()])) as r:
        done = await follow(r)
    assert done.status == "completed"
    assert len(r.adapter.polls) == 13


@pytest.mark.parametrize("error_class", [RateLimited, ProviderUnavailable])
async def test_a_retry_after_is_honoured_as_the_next_gap_and_then_forgotten(tmp_path, sleeps, error_class):
    script = [error_class("slow down", retry_after=0.12), processing(), completed()]
    async with rig(tmp_path, FakeAdapter(script)) as r:
        await follow(r)
    first, retry, after_retry, *_ = sleeps
    assert first <= FAST.max_gap
    assert retry == pytest.approx(0.12)
    assert after_retry <= FAST.max_gap
    (_, t1), (_, t2), (_, t3) = r.adapter.polls
    assert t2 - t1 >= 0.12
    assert t3 - t2 < 0.12


async def test_gaps_between_polls_stay_within_the_schedule(tmp_path, sleeps):
    async with rig(tmp_path, FakeAdapter([processing()] * 4 + [completed()])) as r:
        await follow(r)
    assert len(sleeps) == 5
    assert all(FAST.min_gap <= gap <= FAST.max_gap for gap in sleeps)


# -- giving up -----------------------------------------------------------------------------------


async def test_a_task_still_unfinished_after_the_deadline_fails_naming_the_provider_job(tmp_path, monkeypatch):
    monkeypatch.setattr(poller_module, "GIVE_UP_FACTOR", 0)
    monkeypatch.setattr(poller_module, "GIVE_UP_FLOOR", 0.1)
    async with rig(tmp_path) as r:
        done = await follow(r, provider_task_id="job-77")
    assert done.status == "failed"
    assert "job job-77" in done.error
    assert "wavespeed" in done.error
    assert done.eta_seconds is None
    assert r.adapter.polls  # it was followed until the deadline


async def test_a_task_resumed_long_after_its_deadline_and_still_running_is_given_up(tmp_path):
    async with rig(tmp_path) as r:  # the real limits: 3 h at the least
        await put(r.store, age=4 * 3600, status="processing", provider_task_id="job-77")
        await r.poller.resume()
        done = await settled(r.store)
    assert done.status == "failed"
    assert "after 4.0 h" in done.error
    assert "wavespeed dashboard for job job-77" in done.error


async def test_a_task_resumed_after_its_deadline_is_asked_about_once_before_being_given_up(tmp_path):
    async with rig(tmp_path, FakeAdapter([completed()])) as r:
        await put(r.store, age=4 * 3600, status="processing", provider_task_id="job-77")
        await r.poller.resume()
        done = await settled(r.store)
    assert r.adapter.polls, "the provider was never asked"
    assert done.status == "completed"
    assert done.video_url == VIDEO_URL


# -- the provider's verdict ----------------------------------------------------------------------


async def test_a_provider_failure_fails_the_task_with_the_providers_reason(tmp_path):
    verdict = PollResult("failed", "failed", error="the prompt was flagged by the content filter")
    async with rig(tmp_path, FakeAdapter([processing(30, eta=40), verdict])) as r:
        done = await follow(r)
    assert done.status == "failed"
    assert done.error == "the prompt was flagged by the content filter"
    assert done.eta_seconds is None


async def test_a_cancelled_job_cancels_the_task(tmp_path):
    async with rig(tmp_path, FakeAdapter([PollResult("cancelled", "canceled")])) as r:
        done = await follow(r)
    assert done.status == "cancelled"
    assert done.video_path is None


async def test_completed_without_a_downloader_keeps_the_url_at_progress_100(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing(40), completed()])) as r:
        done = await follow(r)
    assert (done.status, done.progress, done.video_url, done.video_path) == ("completed", 100, VIDEO_URL, None)
    assert done.eta_seconds is None


async def test_reported_progress_is_kept_below_100_until_the_video_exists(tmp_path):
    seen: list[tuple[str, int]] = []
    async with rig(tmp_path, FakeAdapter([processing(40), processing(100), completed()])) as r:

        async def listener(task_id: str, created: bool) -> None:
            row = await r.store.get(task_id)
            seen.append((row.status, row.progress))

        r.events.add_listener(listener)
        await follow(r)
    assert seen == [("processing", 40), ("processing", 99), ("completed", 100)]


async def test_estimated_progress_never_goes_down_between_polls(tmp_path):
    progress: list[int] = []
    async with rig(tmp_path, FakeAdapter([processing()] * 5 + [completed()])) as r:

        async def listener(task_id: str, created: bool) -> None:
            progress.append((await r.store.get(task_id)).progress)

        r.events.add_listener(listener)
        await follow(r, progress=50)  # more than the elapsed time alone would give
    assert progress == [50] * 5 + [100]


# -- downloads -----------------------------------------------------------------------------------


async def test_a_completed_video_is_downloaded_and_its_path_recorded(tmp_path):
    requests: list[httpx2.Request] = []

    def cdn(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return httpx2.Response(200, content=b"\x00\x00\x00\x18ftypmp42 video")

    async with rig(tmp_path, FakeAdapter([completed()]), downloader=video_downloader(tmp_path, cdn)) as r:
        done = await follow(r)
    path = tmp_path / "videos" / "t1.mp4"
    assert (done.status, done.progress, done.video_path, done.error) == ("completed", 100, str(path), None)
    assert done.video_url == VIDEO_URL
    assert path.read_bytes() == b"\x00\x00\x00\x18ftypmp42 video"
    assert requested_url(requests[0]) == VIDEO_URL
    assert "authorization" not in requests[0].headers  # a CDN never sees a provider key


async def test_a_failed_download_completes_the_task_with_a_note_and_no_path(tmp_path):
    def cdn(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(500)

    async with rig(tmp_path, FakeAdapter([completed()]), downloader=video_downloader(tmp_path, cdn)) as r:
        done = await follow(r)
    assert (done.status, done.progress, done.video_path) == ("completed", 100, None)
    assert done.video_url == VIDEO_URL
    assert "downloading it failed (HTTP 500)" in done.error
    assert list((tmp_path / "videos").iterdir()) == []  # no partial file left


async def test_while_downloading_the_task_is_processing_at_99_never_queued(tmp_path):
    during: list[Task] = []
    statuses: list[tuple[str, int]] = []
    store_box: list[TaskStore] = []

    async def cdn(request: httpx2.Request) -> httpx2.Response:
        during.append(await store_box[0].get("t1"))
        return httpx2.Response(200, content=b"video")

    async with rig(tmp_path, FakeAdapter([completed()]), downloader=video_downloader(tmp_path, cdn)) as r:
        store_box.append(r.store)

        async def listener(task_id: str, created: bool) -> None:
            row = await r.store.get(task_id)
            statuses.append((row.status, row.progress))

        r.events.add_listener(listener)
        done = await follow(r, status="queued")  # the provider went straight from queued to completed
    [row] = during
    assert (row.status, row.progress, row.video_url, row.video_path) == ("processing", 99, VIDEO_URL, None)
    assert statuses == [("processing", 99), ("completed", 100)]
    assert done.video_path


# -- resuming at start-up ------------------------------------------------------------------------


async def test_resume_follows_an_unfinished_task_to_completion(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing(), completed()])) as r:
        await put(r.store, status="processing", provider_task_id="job-5")
        await put(r.store, "t2", status="completed", provider_task_id="job-6", progress=100)
        await r.poller.resume()
        done = await settled(r.store)
        await idle(r.poller)
    assert done.status == "completed"
    assert {job for job, _ in r.adapter.polls} == {"job-5"}


async def test_resume_follows_each_task_once_however_often_it_is_called(tmp_path):
    async with rig(tmp_path, FakeAdapter([completed()])) as r:
        await put(r.store, status="processing", provider_task_id=JOB)
        await r.poller.resume()
        await r.poller.resume()
        await r.poller.follow("t1")
        await settled(r.store)
        await idle(r.poller)
    assert len(r.adapter.polls) == 1


async def test_resume_leaves_tasks_of_unconfigured_providers_alone(tmp_path):
    async with rig(tmp_path) as r:
        row = await put(r.store, provider="myrouter", status="processing", provider_task_id=JOB)
        await r.poller.resume()
        await anyio.sleep(0.05)
        assert await r.store.get("t1") == row
        assert not r.poller.following
    assert r.adapter.polls == []


async def test_a_task_cut_off_while_submitting_fails_as_interrupted_after_the_grace_period(tmp_path):
    async with rig(tmp_path) as r:
        await put(r.store)  # queued, no provider id: the process stopped during its submit
        started = anyio.current_time()
        await r.poller.resume()
        await anyio.sleep(0.05)
        assert (await r.store.get("t1")).status == "queued"  # another process may still be submitting it
        done = await settled(r.store)
        waited = anyio.current_time() - started
    assert done.status == "failed"
    assert done.error == INTERRUPTED
    assert waited >= 0.1
    assert r.adapter.submits == [] and r.adapter.polls == []  # never resubmitted blindly


async def test_a_task_another_process_submits_within_the_grace_period_is_followed(tmp_path):
    async with rig(tmp_path, FakeAdapter([completed()])) as r:
        row = await put(r.store)
        await r.poller.resume()
        await anyio.sleep(0.05)
        other = SqliteTaskStore(tmp_path / "tasks.db")  # the process that is still submitting it
        await other.update(row.model_copy(update={"provider_task_id": "job-9", "updated_at": now_iso()}))
        await other.close()
        done = await settled(r.store)
    assert done.status == "completed"
    assert done.error is None
    assert [job for job, _ in r.adapter.polls] == ["job-9"]


async def test_a_task_cut_off_long_ago_is_marked_interrupted_without_waiting(tmp_path):
    async with rig(tmp_path) as r:
        await put(r.store, age=600)
        started = anyio.current_time()
        await r.poller.resume()
        done = await settled(r.store)
    assert done.error == INTERRUPTED
    assert anyio.current_time() - started < 0.1


# -- bugs must neither stop the server nor drop the task ----------------------------------------


async def test_an_unexpected_exception_from_the_adapter_does_not_stop_following(tmp_path):
    async with rig(tmp_path, FakeAdapter([RuntimeError("adapter bug"), completed()])) as r:
        done = await follow(r)
        await idle(r.poller)
    assert done.status == "completed"
    assert len(r.adapter.polls) == 2


async def test_a_repeated_adapter_exception_fails_the_task_without_leaking_its_message(tmp_path):
    async with rig(tmp_path, FakeAdapter([RuntimeError("boom sk-fake-key-000")] * 10)) as r:
        done = await follow(r)
    assert done.status == "failed"
    assert "internal error while talking to the provider (RuntimeError)" in done.error
    assert "boom" not in done.error and "sk-fake" not in done.error


async def test_a_bug_in_the_poller_itself_is_retried_and_other_tasks_go_on(tmp_path, monkeypatch, caplog):
    real = Poller._planned_gap
    calls = 0

    def buggy_once(self: Poller, task: Task, *args: object) -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("a bug outside the adapter")
        return real(self, task, *args)

    monkeypatch.setattr(Poller, "_planned_gap", buggy_once)
    caplog.set_level(logging.ERROR, logger=poller_module.__name__)
    async with rig(tmp_path, FakeAdapter([completed(), completed()])) as r:
        await put(r.store, "t1", status="processing", provider_task_id="job-a")
        await put(r.store, "t2", status="processing", provider_task_id="job-b")
        await r.poller.follow("t1")
        await r.poller.follow("t2")
        first, second = await settled(r.store, "t1"), await settled(r.store, "t2")
        await idle(r.poller)
    assert first.status == second.status == "completed"
    assert any("trying again" in record.getMessage() for record in caplog.records)


async def test_a_broken_listener_does_not_stop_the_poller(tmp_path):
    async def broken(task_id: str, created: bool) -> None:
        raise RuntimeError("listener bug")

    async with rig(tmp_path, FakeAdapter([processing(), completed()])) as r:
        r.events.add_listener(broken)
        done = await follow(r)
    assert done.status == "completed"


# -- two processes over one store ----------------------------------------------------------------


async def test_two_processes_following_one_task_poll_the_provider_from_one_only(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing(), processing(), completed()])) as a, rig(tmp_path) as b:
        await put(a.store, status="processing", provider_task_id=JOB)
        await a.poller.follow("t1")
        await until(lambda: a.adapter.polls)
        await b.poller.follow("t1")
        await idle(a.poller)
        await idle(b.poller)
        row = await b.store.get("t1")
    assert (row.status, row.progress, row.video_url) == ("completed", 100, VIDEO_URL)
    assert len(a.adapter.polls) == 3
    assert b.adapter.polls == []  # b only watched the row: a held the lease


async def test_waiters_in_the_other_process_wake_when_the_lease_holder_finishes(tmp_path):
    told: list[str] = []
    async with rig(tmp_path, FakeAdapter([processing(), processing(), completed()])) as a, rig(tmp_path) as b:

        async def listener(task_id: str, created: bool) -> None:
            told.append((await b.store.get(task_id)).status)

        b.events.add_listener(listener)
        await put(a.store, status="processing", provider_task_id=JOB)
        await a.poller.follow("t1")
        await until(lambda: a.adapter.polls)
        await b.poller.follow("t1")
        result = None
        with anyio.move_on_after(0.5):
            result = await b.service.wait("t1", 30)
    assert result is not None, "the waiter in process b was never woken"
    assert result.status == "completed"
    assert told and told[-1] == "completed"


async def test_a_task_whose_lease_holder_died_is_taken_over(tmp_path):
    async with rig(tmp_path, FakeAdapter([completed()])) as b:
        await put(b.store, status="processing", provider_task_id=JOB)
        assert await b.store.claim("t1", "a process that died", 0.1)
        await b.poller.follow("t1")
        await anyio.sleep(0.05)
        assert b.adapter.polls == []  # the dead process's lease still runs
        done = await settled(b.store)
    assert done.status == "completed" and len(b.adapter.polls) == 1


async def test_a_clean_shutdown_hands_its_leases_back(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing()] * 50)) as a:
        await put(a.store, status="processing", provider_task_id=JOB)
        await a.poller.follow("t1")
        await until(lambda: a.adapter.polls)
        assert not await a.store.claim("t1", "someone else", 60)
        await a.poller.release()
        await anyio.sleep(3 * poller_module.LEASE_TTL)  # renewals fall due meanwhile: none takes the lease back
        assert await a.store.claim("t1", "someone else", 60)


async def test_a_renewal_under_way_at_shutdown_does_not_take_the_leases_back(tmp_path, monkeypatch):
    real = SqliteTaskStore.renew
    started, renewed = anyio.Event(), anyio.Event()

    async def slow(self: SqliteTaskStore, *args: Any) -> set[str]:  # as on a pooled store: its write lands later
        started.set()
        await anyio.sleep(0.2)
        try:
            return await real(self, *args)
        finally:
            renewed.set()

    monkeypatch.setattr(SqliteTaskStore, "renew", slow)
    monkeypatch.setattr(poller_module, "LEASE_TTL", 3.0)  # a renewal every second, each good for 3 s
    async with rig(tmp_path, FakeAdapter([processing()] * 50)) as a:
        await put(a.store, status="processing", provider_task_id=JOB)
        await a.poller.follow("t1")
        await started.wait()
        await a.poller.release()
        await renewed.wait()
        assert await a.store.claim("t1", "someone else", 60)


async def test_the_time_a_task_took_is_recorded_for_learning_typical_times(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing(), completed()])) as r:
        done = await follow(r)
        [(seconds, created, status)] = await r.store.recent_durations(done.provider, done.model, done.duration, 5)
    assert 0 <= seconds < 5 and created == done.created_at and status == "completed"


async def test_a_failing_lease_renewal_is_logged_and_tried_again(tmp_path, monkeypatch, caplog):
    real = SqliteTaskStore.renew
    calls = 0

    async def flaky(self: SqliteTaskStore, *args: Any) -> set[str]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise sqlite3.OperationalError("database is locked")
        return await real(self, *args)

    monkeypatch.setattr(SqliteTaskStore, "renew", flaky)
    caplog.set_level(logging.ERROR, logger=poller_module.__name__)
    async with rig(tmp_path, FakeAdapter([processing()] * 40 + [completed()])) as r:
        done = await follow(r)
    assert done.status == "completed" and calls >= 2
    assert any("renewing" in record.getMessage() for record in caplog.records)
