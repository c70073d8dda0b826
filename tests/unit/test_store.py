"""The task store's contract, run against both backends (SQLite in a data dir, and a real PostgreSQL in a fresh
database per test), plus what only SQLite has (its file, WAL, old databases upgraded in place)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from tests.support.postgres import fresh_database
from tests.unit.conftest import task
from videogen_mcp.tasks.sqlite_store import MIGRATIONS, SqliteTaskStore
from videogen_mcp.tasks.store import Budget, DuplicateTask, OverBudget, TaskStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tasks.db"


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[TaskStore]:
    if request.param == "sqlite":
        opened: TaskStore = SqliteTaskStore(db_path)
        yield opened
        await opened.close()
        return
    from videogen_mcp.tasks.postgres_store import PostgresTaskStore

    with fresh_database() as url:
        opened = await PostgresTaskStore.open(url)
        yield opened
        await opened.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def two_stores(request: pytest.FixtureRequest, db_path: Path) -> AsyncIterator[tuple[TaskStore, TaskStore]]:
    """Two store instances on one database, as two processes (or replicas) sharing it have."""
    if request.param == "sqlite":
        pair: tuple[TaskStore, TaskStore] = (SqliteTaskStore(db_path), SqliteTaskStore(db_path))
        yield pair
        for opened in pair:
            await opened.close()
        return
    from videogen_mcp.tasks.postgres_store import PostgresTaskStore

    with fresh_database() as url:
        pair = (await PostgresTaskStore.open(url), await PostgresTaskStore.open(url))
        yield pair
        for opened in pair:
            await opened.close()


@pytest.fixture
async def sqlite_store(db_path: Path) -> AsyncIterator[SqliteTaskStore]:
    opened = SqliteTaskStore(db_path)
    yield opened
    await opened.close()


def request_column(db_path: Path, task_id: str) -> dict:
    return json.loads(sqlite3.connect(db_path).execute("SELECT request FROM tasks WHERE task_id = ?",
                                                       [task_id]).fetchone()[0])


async def test_store_creates_its_folder_and_file(db_path, sqlite_store):
    assert db_path.is_file()


async def test_insert_then_get_round_trips_every_field(store):
    original = task("t1", provider="myrouter", model="kling-v2.1-i2v-master", prompt="a dog ✓ runs", duration=10)
    await store.insert(original, {"image": "image/png 640x360", "guidance_scale": 0.5})
    assert await store.get("t1") == original
    assert (await store.get("t1")).resource_uri == "task://t1"


async def test_get_unknown_task_is_none(store):
    assert await store.get("nope") is None


async def test_update_changes_the_stored_task(store):
    await store.insert(task("t1"), {})
    done = task("t1", status="completed", provider_task_id="pred_1", progress=100, eta_seconds=None,
                video_url="https://cdn/x.mp4", video_path="/data/videos/t1.mp4",
                updated_at="2026-01-01T00:05:00.000Z")
    await store.update(done)
    assert await store.get("t1") == done


async def test_the_request_record_is_kept_through_updates(sqlite_store, db_path):
    await sqlite_store.insert(task("t1"), {"image": "https://x/a.png", "guidance_scale": 0.5})
    await sqlite_store.update(task("t1", status="processing"))
    assert request_column(db_path, "t1") == {"image": "https://x/a.png", "guidance_scale": 0.5}


async def test_duplicate_task_id_is_refused(store):
    await store.insert(task("t1"), {})
    with pytest.raises(DuplicateTask):
        await store.insert(task("t1"), {})


async def fill(store: TaskStore) -> None:
    for i, status in enumerate(["completed", "processing", "failed", "queued", "completed", "cancelled"]):
        await store.insert(task(f"t{i}", status=status), {})


def ids(tasks) -> list[str]:
    return [t.task_id for t in tasks]


async def test_list_is_newest_first(store):
    await fill(store)
    assert ids(await store.list()) == ["t5", "t4", "t3", "t2", "t1", "t0"]


@pytest.mark.parametrize(("limit", "expected"), [(1, ["t5"]), (3, ["t5", "t4", "t3"]), (100, 6)])
async def test_list_limit_keeps_the_newest(store, limit, expected):
    await fill(store)
    got = ids(await store.list(limit=limit))
    assert got == expected if isinstance(expected, list) else len(got) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("completed", ["t4", "t0"]), ("processing", ["t1"]), ("queued", ["t3"]), ("failed", ["t2"]),
     ("cancelled", ["t5"])],
)
async def test_list_filters_by_status(store, status, expected):
    await fill(store)
    assert ids(await store.list(status)) == expected


async def test_list_status_filter_and_limit_combine(store):
    await fill(store)
    assert ids(await store.list("completed", limit=1)) == ["t4"]


async def test_list_order_is_insertion_not_last_update(store):
    await fill(store)
    await store.update(task("t0", status="completed", updated_at="2030-01-01T00:00:00.000Z"))
    assert ids(await store.list())[0] == "t5"


async def test_unfinished_lists_queued_and_processing_oldest_first(store):
    await fill(store)
    assert ids(await store.unfinished()) == ["t1", "t3"]
    await store.update(task("t1", status="completed"))
    assert ids(await store.unfinished()) == ["t3"]


async def test_tasks_survive_reopening_the_store(db_path):
    first = SqliteTaskStore(db_path)
    await fill(first)
    await first.update(task("t3", status="processing", provider_task_id="pred_9", progress=40))
    await first.close()
    second = SqliteTaskStore(db_path)
    try:
        assert ids(await second.list()) == ["t5", "t4", "t3", "t2", "t1", "t0"]
        assert await second.get("t3") == task("t3", status="processing", provider_task_id="pred_9", progress=40)
        assert ids(await second.unfinished()) == ["t1", "t3"]
        await second.insert(task("t6"), {})
        assert ids(await second.list(limit=1)) == ["t6"]
    finally:
        await second.close()


async def test_store_uses_wal_journal_mode(db_path, sqlite_store):
    await sqlite_store.insert(task("t1"), {})
    other = sqlite3.connect(db_path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("SELECT status FROM tasks WHERE task_id = 't1'").fetchone()[0] == "queued"
    finally:
        other.close()


async def test_update_never_overwrites_a_task_another_process_finished(store):
    running = task("t1", status="processing")
    await store.insert(running, {})
    assert await store.update(running.model_copy(update={"status": "completed", "progress": 100}))
    assert not await store.update(running.model_copy(update={"progress": 40}))
    assert (await store.get("t1")).status == "completed"


def test_unusable_data_dir_is_a_config_error_naming_the_variable(tmp_path):
    from videogen_mcp.errors import ConfigError

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConfigError, match="VIDEOGEN_DATA_DIR"):
        SqliteTaskStore(blocker / "tasks.db")


async def test_renew_extends_held_leases_in_bulk_and_names_the_ones_taken(store):
    for name in ("t1", "t2", "t3"):
        await store.insert(task(name), {}, owner="me", lease_seconds=0.0)
    assert await store.claim("t3", "other", 60)  # t3's lease had lapsed: another process took it
    assert await store.renew("me", 60, ["t1", "t2", "t3", "gone"]) == {"t3", "gone"}
    assert not await store.claim("t1", "other", 60) and not await store.claim("t2", "other", 60)


async def test_renew_handles_more_tasks_than_one_statement_takes(store):
    names = [f"t{i}" for i in range(1200)]
    for name in names:
        await store.insert(task(name), {}, owner="me", lease_seconds=0.0)
    assert await store.renew("me", 60, names) == set()
    assert not await store.claim(names[-1], "other", 60)


async def test_claim_is_refused_while_another_holds_a_live_lease_and_granted_once_it_lapses(store):
    await store.insert(task("t1"), {}, owner="a", lease_seconds=60)
    assert not await store.claim("t1", "b", 60)
    assert await store.claim("t1", "a", 60)  # the holder renews
    await store.release("a")
    assert await store.claim("t1", "b", 60)
    assert not await store.update(task("t1", status="processing"), owner="a")  # a lost lease writes nothing
    assert await store.update(task("t1", status="processing"), owner="b")


async def test_learning_data_and_download_records(store):
    await store.insert(task("t1", status="processing"), {})
    await store.insert(task("t2", status="completed", video_url="https://cdn/v.mp4", error="the note: x"), {})
    await store.record_ready("t1", 42.5)
    await store.insert(task("t3", status="queued"), {})
    assert await store.recent_durations("wavespeed", "kling-v2.1-i2v-pro", 5, 5) == [  # ended, then running
        (42.5, "2026-01-01T00:00:00.000Z", "processing"), (None, "2026-01-01T00:00:00.000Z", "queued")]
    assert [t.task_id for t in await store.failed_downloads("the note")] == ["t2"]
    assert await store.record_download("t2", "/v/t2.mp4", "2026-01-01T00:01:00.000Z")
    assert not await store.record_download("t2", "/v/again.mp4", "2026-01-01T00:02:00.000Z")
    stored = await store.get("t2")
    assert (stored.video_path, stored.error) == ("/v/t2.mp4", None)
    assert await store.unfinished_ids() == ["t1", "t3"]
    for n in range(3):  # running tasks beyond the limit do not push the ended one out
        await store.insert(task(f"r{n}", status="processing"), {})
    durations = await store.recent_durations("wavespeed", "kling-v2.1-i2v-pro", 5, 2)
    assert [seconds for seconds, _, _ in durations] == [42.5, None, None]


#: Every task these tests store is created after this, so all of them count against the budget.
SINCE = "2000-01-01T00:00:00.000Z"


async def test_concurrent_inserts_from_two_stores_never_pass_the_budget(two_stores):
    """Each round, ten calls through two store instances race for a budget one of them fills: one wins."""
    accepted: dict[int, list[str]] = {}

    async def insert(store: TaskStore, day: int, n: int) -> None:
        stamp = f"2026-01-{day:02d}T12:00:00.000Z"
        with contextlib.suppress(OverBudget):
            await store.insert(task(f"d{day}-{n}", cost_usd=1.0, created_at=stamp), {}, counted_usd=1.0,
                               budget=Budget(1.5, f"2026-01-{day:02d}T00:00:00.000Z"))
            accepted.setdefault(day, []).append(f"d{day}-{n}")

    for day in range(1, 6):  # a new day each round: the window leaves the earlier rounds out
        async with anyio.create_task_group() as group:
            for n in range(10):
                group.start_soon(insert, two_stores[n % 2], day, n)
    assert {day: len(ids) for day, ids in accepted.items()} == {day: 1 for day in range(1, 6)}
    for store in two_stores:
        assert await store.spent_since("2026-01-05T00:00:00.000Z") == 1.0
        assert len(await store.list(limit=100)) == 5


async def test_a_task_of_unknown_cost_counts_what_it_was_counted_at(store):
    await store.insert(task("a", cost_usd=None), {}, counted_usd=0.45)
    assert await store.spent_since(SINCE) == pytest.approx(0.45)
    with pytest.raises(OverBudget) as refused:
        await store.insert(task("b"), {}, counted_usd=0.45, budget=Budget(0.5, SINCE))
    assert refused.value.spent == pytest.approx(0.45)
    assert await store.get("b") is None


async def test_tasks_created_before_the_window_do_not_count(store):
    await store.insert(task("old", cost_usd=5.0, created_at="2026-01-01T00:00:00.000Z"), {}, counted_usd=5.0)
    await store.insert(task("new", cost_usd=0.45, created_at="2026-01-02T12:00:00.000Z"), {}, counted_usd=0.45)
    assert await store.spent_since("2026-01-02T00:00:00.000Z") == pytest.approx(0.45)
    await store.insert(task("next", created_at="2026-01-02T13:00:00.000Z"), {}, counted_usd=1.0,
                       budget=Budget(1.5, "2026-01-02T00:00:00.000Z"))
    assert await store.get("next") is not None


async def test_a_failover_to_a_pricier_provider_is_rechecked_against_the_budget(store):
    await store.insert(task("a", cost_usd=0.28), {}, counted_usd=0.28)  # at gptproto, $0.28
    await store.insert(task("b", cost_usd=0.28), {}, counted_usd=0.28)
    with pytest.raises(OverBudget):
        await store.charge("b", 1.30, 1.30, Budget(1.0, SINCE))  # failover to wavespeed master
    assert (await store.get("b")).cost_usd == 0.28
    await store.charge("b", 0.45, 0.45, Budget(1.0, SINCE))  # its own earlier amount is left out
    assert (await store.get("b")).cost_usd == 0.45
    assert await store.spent_since(SINCE) == pytest.approx(0.73)


LEGACY = ("CREATE TABLE tasks (seq INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL UNIQUE, "
          "status TEXT NOT NULL, provider TEXT NOT NULL, model TEXT NOT NULL, provider_task_id TEXT, "
          "progress INTEGER NOT NULL DEFAULT 0, eta_seconds INTEGER, video_url TEXT, video_path TEXT, "
          "error TEXT, prompt TEXT NOT NULL, duration INTEGER NOT NULL, created_at TEXT NOT NULL, "
          "updated_at TEXT NOT NULL, request TEXT NOT NULL DEFAULT '{}' LATER)")


@pytest.mark.parametrize("later", ["", ", owner TEXT, lease_until REAL NOT NULL DEFAULT 0, ready_seconds REAL",
                                   ", failover TEXT NOT NULL DEFAULT '[]', cost_usd REAL, counted_usd REAL"])
async def test_a_database_from_before_numbered_migrations_is_upgraded_in_place(db_path, later):
    db_path.parent.mkdir(parents=True)
    old = sqlite3.connect(db_path)
    old.execute(LEGACY.replace(" LATER", later))
    old.execute("INSERT INTO tasks (task_id, status, provider, model, prompt, duration, created_at, updated_at) "
                "VALUES ('old', 'processing', 'wavespeed', 'kling-v2.1-i2v-pro', 'a cat walks', 5, "
                "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z')")
    old.commit()
    old.close()
    store = SqliteTaskStore(db_path)
    try:
        assert (await store.get("old")).status == "processing"
        assert await store.claim("old", "me", 60)
        await store.record_ready("old", 12.0)
    finally:
        await store.close()
    versions = [row[0] for row in sqlite3.connect(db_path).execute("SELECT version FROM schema_version")]
    assert versions == sorted(MIGRATIONS)


async def test_leases_says_in_one_read_which_watched_tasks_finished_changed_or_may_be_taken_over(store):
    await store.insert(task("held"), {}, owner="a", lease_seconds=60)
    await store.insert(task("lapsed"), {}, owner="a", lease_seconds=0.0)
    await store.insert(task("never"), {})
    await store.insert(task("done", status="completed"), {}, owner="a", lease_seconds=60)
    await store.insert(task("released"), {}, owner="b", lease_seconds=60)
    await store.release("b")
    assert await store.update(task("held", status="processing", updated_at="2026-01-01T00:05:00.000Z"), owner="a")
    states = {s.task_id: s for s in await store.leases(["held", "lapsed", "never", "done", "released", "gone"])}
    assert {name: (s.finished, s.free) for name, s in states.items()} == {
        "held": (False, False), "lapsed": (False, True), "never": (False, True), "done": (True, False),
        "released": (False, True)}
    assert states["held"].updated_at == "2026-01-01T00:05:00.000Z"


async def test_leases_answers_for_more_tasks_than_one_statement_takes(store):
    names = [f"t{i}" for i in range(1200)]
    for name in names:
        await store.insert(task(name), {}, owner="me", lease_seconds=60)
    assert {s.task_id for s in await store.leases(names)} == set(names)
