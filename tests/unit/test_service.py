"""TaskService in-process: generate and wait over a scripted provider, a real store and real events."""

from __future__ import annotations

import sqlite3

import anyio
import httpx2
import pytest

from tests.support.rig import (
    JOB,
    VIDEO_URL,
    FakeAdapter,
    ProgressAdapter,
    completed,
    processing,
    put,
    rig,
    settled,
    until,
    video_downloader,
)
from videogen_mcp.config import Settings
from videogen_mcp.errors import (
    InvalidInput,
    KeyRejected,
    OutOfCredit,
    ProviderError,
    SubmitOutcomeUnknown,
    TaskNotFound,
)
from videogen_mcp.models import Task
from videogen_mcp.providers.base import PollResult
from videogen_mcp.tasks import service as service_module
from videogen_mcp.tasks.service import GenerateRequest, open_service
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore

pytestmark = pytest.mark.anyio

IMAGE_URL = "https://cdn.example.com/cat.png"


def request(**fields: object) -> GenerateRequest:
    return GenerateRequest(**{"image": IMAGE_URL, "prompt": "a cat walks", "provider": "wavespeed", **fields})


# -- generate ------------------------------------------------------------------------------------


async def test_the_task_is_stored_queued_before_the_provider_is_called(tmp_path):
    at_submit: list[list[Task]] = []
    store_box = []

    async def submit() -> str:
        at_submit.append(await store_box[0].list())
        return JOB

    async with rig(tmp_path, FakeAdapter(submit=submit)) as r:
        store_box.append(r.store)
        made = await r.service.generate(request())
    [[row]] = at_submit
    assert row.task_id == made.task_id
    assert (row.status, row.provider_task_id, row.progress) == ("queued", None, 0)


async def test_generate_returns_the_accepted_task_with_the_providers_id(tmp_path):
    async with rig(tmp_path) as r:
        made = await r.service.generate(request(model="kwaivgi/kling-v2.1-i2v-master", duration=10))
        assert await r.service.get(made.task_id) == made
    assert (made.status, made.provider_task_id, made.provider) == ("queued", JOB, "wavespeed")
    assert made.model == "kling-v2.1-i2v-master"  # the canonical id, whatever id the call used
    assert (made.prompt, made.duration, made.resource_uri) == ("a cat walks", 10, f"task://{made.task_id}")
    [sent] = r.adapter.submits
    assert (sent.offering.provider_model_id, sent.prompt, sent.duration) == (
        "kwaivgi/kling-v2.1-i2v-master", "a cat walks", 10)


@pytest.mark.parametrize("prompt", ["   ", "\n\t", "\u3000\u00a0"])
async def test_a_blank_prompt_is_refused_before_anything_is_stored_or_sent(tmp_path, prompt):
    async with rig(tmp_path) as r:
        with pytest.raises(InvalidInput, match="prompt is blank"):
            await r.service.generate(request(prompt=prompt))
        assert await r.store.list() == [] and r.adapter.submits == []


@pytest.mark.parametrize(
    "refusal",
    [
        KeyRejected("wavespeed rejected the API key (HTTP 401): check WAVESPEED_API_KEY"),
        OutOfCredit("wavespeed says the account has no credit left (HTTP 402): top it up"),
        SubmitOutcomeUnknown("wavespeed failed during the submit (HTTP 502); the job may exist"),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_a_submit_refusal_is_raised_and_leaves_a_failed_task_with_that_sentence(tmp_path, refusal):
    async with rig(tmp_path, FakeAdapter(submit=refusal)) as r:
        with pytest.raises(type(refusal)) as raised:
            await r.service.generate(request())
        [row] = await r.service.list()
        await until(lambda: not r.poller.following)
    assert str(raised.value) == str(refusal)
    assert (row.status, row.error, row.provider_task_id) == ("failed", str(refusal), None)
    assert r.adapter.polls == []
    assert not r.poller.following


async def test_an_adapter_bug_during_submit_is_raised_as_a_plain_provider_error(tmp_path):
    async with rig(tmp_path, FakeAdapter(submit=RuntimeError("bug with sk-fake-key-000 in it"))) as r:
        with pytest.raises(ProviderError) as raised:
            await r.service.generate(request())
        [row] = await r.service.list()
    assert "internal error while talking to the provider (RuntimeError)" in str(raised.value)
    assert row.status == "failed"
    assert "sk-fake" not in row.error


async def test_a_slow_submit_returns_the_queued_task_and_goes_on_in_the_background(tmp_path):
    async def slow_submit() -> str:
        await anyio.sleep(0.2)
        return JOB

    async with rig(tmp_path, FakeAdapter([completed()], submit=slow_submit)) as r:
        started = anyio.current_time()
        made = await r.service.generate(request(), submit_wait=0.05)
        returned_after = anyio.current_time() - started
        done = await settled(r.store, made.task_id)
    assert returned_after < 0.15
    assert (made.status, made.provider_task_id) == ("queued", None)
    assert (done.status, done.provider_task_id) == ("completed", JOB)
    assert len(r.adapter.submits) == 1


async def test_a_refusal_after_submit_wait_has_run_out_fails_the_task_quietly(tmp_path):
    async def slow_refusal() -> Exception:
        await anyio.sleep(0.1)
        return KeyRejected("wavespeed rejected the API key (HTTP 401): check WAVESPEED_API_KEY")

    async with rig(tmp_path, FakeAdapter(submit=slow_refusal)) as r:
        made = await r.service.generate(request(), submit_wait=0.02)
        done = await settled(r.store, made.task_id)
    assert made.status == "queued"
    assert (done.status, done.error) == ("failed", "wavespeed rejected the API key (HTTP 401): check WAVESPEED_API_KEY")


async def test_every_change_is_in_the_store_before_listeners_are_told(tmp_path, monkeypatch):
    def cdn(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=b"video")

    adapter = FakeAdapter([processing(40), completed()])
    async with rig(tmp_path, adapter, downloader=video_downloader(tmp_path, cdn)) as r:
        written: dict[str, Task] = {}
        heard: list[tuple[bool, Task, Task]] = []
        real_insert, real_update = r.store.insert, r.store.update

        async def insert(row: Task, record: dict, *lease: object, **money: object) -> None:
            await real_insert(row, record, *lease, **money)
            written[row.task_id] = row

        async def update(row: Task, owner: str | None = None) -> bool:
            ok = await real_update(row, owner)
            if ok:
                written[row.task_id] = row
            return ok

        async def listener(task_id: str, created: bool) -> None:
            heard.append((created, await r.store.get(task_id), written[task_id]))

        monkeypatch.setattr(r.store, "insert", insert)
        monkeypatch.setattr(r.store, "update", update)
        r.events.add_listener(listener)
        made = await r.service.generate(request())
        await settled(r.store, made.task_id)
    for _, stored, last_written in heard:
        assert stored == last_written
    assert [(created, row.status, row.provider_task_id, row.progress) for created, row, _ in heard] == [
        (True, "queued", None, 0),
        (False, "queued", JOB, 0),
        (False, "processing", JOB, 40),
        (False, "processing", JOB, 99),
        (False, "completed", JOB, 100),
    ]


async def test_open_service_leaves_tasks_of_unconfigured_providers_alone(tmp_path):
    store = SqliteTaskStore(tmp_path / "tasks.db")
    await put(store, provider="myrouter", status="processing", provider_task_id=JOB)  # not configured here
    await store.close()
    with anyio.fail_after(2):
        async with open_service(Settings(data_dir=tmp_path, download=False)) as service:
            await anyio.sleep(0.02)
            assert (await service.get("t1")).status == "processing"
            assert [p.name for p in service.providers() if p.configured] == ["local"]


# -- wait ----------------------------------------------------------------------------------------


async def test_waiting_on_a_finished_task_returns_at_once(tmp_path):
    async with rig(tmp_path) as r:
        await put(r.store, status="completed", provider_task_id=JOB, progress=100, video_url=VIDEO_URL)
        with anyio.fail_after(0.1):
            done = await r.service.wait("t1", 30)
    assert done.status == "completed"


async def test_waiting_zero_seconds_returns_the_task_as_it_stands(tmp_path):
    async with rig(tmp_path) as r:
        await put(r.store, status="processing", provider_task_id=JOB)
        with anyio.fail_after(0.1):
            now = await r.service.wait("t1", 0)
    assert now.status == "processing"


async def test_a_wait_that_runs_out_returns_the_unfinished_task(tmp_path):
    async with rig(tmp_path) as r:
        await put(r.store, status="processing", provider_task_id=JOB)
        await r.poller.follow("t1")
        started = anyio.current_time()
        now = await r.service.wait("t1", 0.05)
        waited = anyio.current_time() - started
    assert now.status == "processing"
    assert 0.05 <= waited < 0.3


async def test_a_wait_wakes_on_the_change_that_finishes_the_task(tmp_path):
    release = anyio.Event()

    async def finish_when_released():
        await release.wait()
        return completed()

    async with rig(tmp_path, FakeAdapter([finish_when_released])) as r:
        await put(r.store, status="processing", provider_task_id=JOB)
        await r.poller.follow("t1")
        async with anyio.create_task_group() as group:
            group.start_soon(r.service.wait, "t1", 30)
            await anyio.sleep(0.05)
            released_at = anyio.current_time()
            release.set()
        woke_after = anyio.current_time() - released_at
        assert (await r.store.get("t1")).status == "completed"
    assert woke_after < 0.1


async def test_waiting_on_a_task_nobody_follows_makes_the_poller_follow_it_once(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing(), completed()])) as r:
        await put(r.store, status="processing", provider_task_id=JOB)  # left by a process that stopped
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(r.service.wait, "t1", 30)
        done = await r.store.get("t1")
    assert done.status == "completed"
    assert len(r.adapter.polls) == 2  # five waiters, one poll loop


async def test_waiting_on_an_unknown_task_raises_task_not_found(tmp_path):
    async with rig(tmp_path) as r:
        with pytest.raises(TaskNotFound, match="no task has id 'nope'"):
            await r.service.wait("nope", 5)
        with pytest.raises(TaskNotFound):
            await r.service.get("nope")
        assert r.events.watched == frozenset()


async def test_reported_progress_rises_strictly_below_100_until_completed(tmp_path):
    def cdn(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=b"video")

    async def slow_cdn(request: httpx2.Request) -> httpx2.Response:
        await anyio.sleep(0.05)
        return cdn(request)

    script = [processing(10, eta=60), processing(30, eta=40), processing(20, eta=45), processing(60, eta=10),
              completed()]
    reports: list[tuple[float, str]] = []

    async def report(value: float, message: str) -> None:
        reports.append((value, message))

    async with rig(tmp_path, ProgressAdapter(script), downloader=video_downloader(tmp_path, slow_cdn)) as r:
        made = await r.service.generate(request())
        done = await r.service.wait(made.task_id, 30, report)
    values = [value for value, _ in reports]
    assert done.status == "completed"
    assert values == sorted(set(values)), values  # strictly rising
    assert values[-1] == 100.0 and all(v < 100 for v in values[:-1])
    assert set(values) <= {0.0, 10.0, 30.0, 60.0, 99.0, 100.0}
    assert {60.0, 99.0} <= set(values)
    assert dict(reports)[99.0] == "downloading the video"
    assert reports[-1] == (100.0, "completed")


async def test_estimated_progress_rises_with_time_and_jumps_to_100_only_when_completed(tmp_path, monkeypatch):
    monkeypatch.setattr(service_module, "PROGRESS_TICK", 0.01)
    reports: list[float] = []

    async def report(value: float, message: str) -> None:
        reports.append(value)

    async with rig(tmp_path, FakeAdapter([processing()] * 15 + [completed()])) as r:
        await put(r.store, age=150, status="processing", provider_task_id=JOB)  # typical is 210 s
        await r.poller.follow("t1")
        done = await r.service.wait("t1", 30, report)
    assert done.status == "completed"
    assert reports == sorted(set(reports)), reports
    assert 60 < reports[0] < 70  # estimated from the elapsed time, not 0
    assert len(reports) >= 3
    assert reports[-1] == 100.0 and all(v < 100 for v in reports[:-1])


async def test_a_failed_task_never_reports_100(tmp_path):
    reports: list[float] = []

    async def report(value: float, message: str) -> None:
        reports.append(value)

    async with rig(tmp_path, ProgressAdapter([processing(70), PollResult("failed", "failed", error="nsfw")])) as r:
        await put(r.store, status="processing", provider_task_id=JOB)
        await r.poller.follow("t1")
        done = await r.service.wait("t1", 30, report)
    assert done.status == "failed"
    assert max(reports) < 100


async def test_waits_leave_no_per_task_state_behind(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing()] * 8 + [completed()])) as r:
        await put(r.store, "done", status="completed", provider_task_id="job-0", progress=100)
        await put(r.store, "t1", status="processing", provider_task_id=JOB)
        # a task of a provider this process has no key for: nobody here follows it
        await put(r.store, "idle", status="processing", provider_task_id="job-2", provider="myrouter")
        await r.poller.follow("t1")
        async with anyio.create_task_group() as group:
            group.start_soon(r.service.wait, "done", 30)
            group.start_soon(r.service.wait, "t1", 30)
            group.start_soon(r.service.wait, "t1", 0.02)
            group.start_soon(r.service.wait, "idle", 0.03)
            async with anyio.create_task_group() as hung_up:  # a caller that hangs up mid-wait
                hung_up.start_soon(r.service.wait, "t1", 30)
                await anyio.sleep(0.01)
                assert "t1" in r.events.watched  # the waits are under way
                hung_up.cancel_scope.cancel()
            with anyio.move_on_after(0.01):
                await r.service.wait("t1", 30)  # a wait cut short by its caller
            with pytest.raises(TaskNotFound):
                await r.service.wait("nope", 5)
        await until(lambda: not r.poller.following)
        assert r.events.watched == frozenset()


# -- leases across processes ----------------------------------------------------------------------


async def test_a_submit_longer_than_the_lease_is_never_taken_over_or_marked_interrupted(tmp_path):
    async def slow_submit() -> str:
        await anyio.sleep(0.5)  # five lease lifetimes
        return JOB

    async with rig(tmp_path, FakeAdapter([completed()], submit=slow_submit)) as a, rig(tmp_path) as b:
        made = await a.service.generate(request(), submit_wait=0)
        await b.poller.follow(made.task_id)  # a second process sees the unfinished task meanwhile
        done = await a.service.wait(made.task_id, 2)
    assert (done.status, done.provider_task_id, done.error) == ("completed", JOB, None)
    assert b.adapter.submits == [] and b.adapter.polls == []


async def test_a_follower_whose_lease_was_taken_stops_polling_and_watches(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing()] * 1000)) as a:
        await put(a.store, status="processing", provider_task_id=JOB)
        await a.poller.follow("t1")
        await until(lambda: a.adapter.polls)
        other = sqlite3.connect(tmp_path / "tasks.db", isolation_level=None)  # another process, at the rows
        # one that stalled past a's lease grabs it for a long time
        other.execute("UPDATE tasks SET owner = 'other', lease_until = 1e12 WHERE task_id = 't1'")
        await anyio.sleep(0.3)
        polls = len(a.adapter.polls)
        await anyio.sleep(0.2)
        assert len(a.adapter.polls) == polls  # a polls no more: it only watches the row
        other.execute("UPDATE tasks SET status = 'completed', progress = 100 WHERE task_id = 't1'")
        await until(lambda: not a.poller.following)
        other.close()


async def test_old_databases_gain_the_lease_columns(tmp_path):
    import sqlite3

    path = tmp_path / "tasks.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL UNIQUE, "
                "status TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, provider_task_id TEXT, "
                "progress INTEGER NOT NULL DEFAULT 0, eta_seconds INTEGER, video_url TEXT, video_path TEXT, "
                "error TEXT, prompt TEXT NOT NULL, duration INTEGER NOT NULL, created_at TEXT NOT NULL, "
                "updated_at TEXT NOT NULL, request TEXT NOT NULL DEFAULT '{}')")
    old.close()
    store, again = SqliteTaskStore(path), SqliteTaskStore(path)  # a second process opening it too
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(tasks)")}
    await store.close()
    await again.close()
    assert {"owner", "lease_until"} <= columns
