"""TaskStore: tasks in SQLite (WAL), newest first, surviving a restart."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.conftest import task
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.store import TaskStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "tasks.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[TaskStore]:
    opened = SqliteTaskStore(db_path)
    yield opened
    opened.close()


def test_store_creates_its_folder_and_file(db_path, store):
    assert db_path.is_file()


def test_insert_then_get_round_trips_every_field(store, db_path):
    original = task("t1", provider="myrouter", model="kling-v2.1-i2v-master", prompt="a dog ✓ runs", duration=10)
    await store.insert(original, {"image": "image/png 640x360", "guidance_scale": 0.5})
    assert await store.get("t1") == original
    assert (await store.get("t1")).resource_uri == "task://t1"
    stored = sqlite3.connect(db_path).execute("SELECT request FROM tasks WHERE task_id = 't1'").fetchone()[0]
    assert json.loads(stored) == {"image": "image/png 640x360", "guidance_scale": 0.5}


def test_get_unknown_task_is_none(store):
    assert await store.get("nope") is None


def test_update_changes_the_stored_task(store):
    await store.insert(task("t1"), {})
    done = task("t1", status="completed", provider_task_id="pred_1", progress=100, eta_seconds=None,
                video_url="https://cdn/x.mp4", video_path="/data/videos/t1.mp4",
                updated_at="2026-01-01T00:05:00.000Z")
    await store.update(done)
    assert await store.get("t1") == done


def test_update_keeps_the_request_record(store, db_path):
    await store.insert(task("t1"), {"image": "https://x/a.png"})
    await store.update(task("t1", status="processing"))
    stored = sqlite3.connect(db_path).execute("SELECT request FROM tasks WHERE task_id = 't1'").fetchone()[0]
    assert json.loads(stored) == {"image": "https://x/a.png"}


def test_duplicate_task_id_is_refused(store):
    await store.insert(task("t1"), {})
    with pytest.raises(sqlite3.IntegrityError):
        await store.insert(task("t1"), {})


def fill(store: TaskStore) -> None:
    for i, status in enumerate(["completed", "processing", "failed", "queued", "completed", "cancelled"]):
        await store.insert(task(f"t{i}", status=status), {})


def ids(tasks) -> list[str]:
    return [t.task_id for t in tasks]


def test_list_is_newest_first(store):
    await fill(store)
    assert ids(await store.list()) == ["t5", "t4", "t3", "t2", "t1", "t0"]


@pytest.mark.parametrize(("limit", "expected"), [(1, ["t5"]), (3, ["t5", "t4", "t3"]), (100, 6)])
def test_list_limit_keeps_the_newest(store, limit, expected):
    await fill(store)
    got = ids(await store.list(limit=limit))
    assert got == expected if isinstance(expected, list) else len(got) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [("completed", ["t4", "t0"]), ("processing", ["t1"]), ("queued", ["t3"]), ("failed", ["t2"]),
     ("cancelled", ["t5"])],
)
def test_list_filters_by_status(store, status, expected):
    await fill(store)
    assert ids(await store.list(status)) == expected


def test_list_status_filter_and_limit_combine(store):
    await fill(store)
    assert ids(await store.list("completed", limit=1)) == ["t4"]


def test_list_order_is_insertion_not_last_update(store):
    await fill(store)
    await store.update(task("t0", status="completed", updated_at="2030-01-01T00:00:00.000Z"))
    assert ids(await store.list())[0] == "t5"


def test_unfinished_lists_queued_and_processing_oldest_first(store):
    await fill(store)
    assert ids(await store.unfinished()) == ["t1", "t3"]
    await store.update(task("t1", status="completed"))
    assert ids(await store.unfinished()) == ["t3"]


def test_tasks_survive_reopening_the_store(db_path):
    first = SqliteTaskStore(db_path)
    await fill(first)
    first.update(task("t3", status="processing", provider_task_id="pred_9", progress=40))
    first.close()
    second = SqliteTaskStore(db_path)
    try:
        assert ids(second.list()) == ["t5", "t4", "t3", "t2", "t1", "t0"]
        assert second.get("t3") == task("t3", status="processing", provider_task_id="pred_9", progress=40)
        assert ids(second.unfinished()) == ["t1", "t3"]
        second.insert(task("t6"), {})
        assert ids(second.list(limit=1)) == ["t6"]
    finally:
        second.close()


def test_store_uses_wal_journal_mode(db_path, store):
    await store.insert(task("t1"), {})
    other = sqlite3.connect(db_path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("SELECT status FROM tasks WHERE task_id = 't1'").fetchone()[0] == "queued"
    finally:
        other.close()


def test_update_never_overwrites_a_task_another_process_finished(store):
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


def test_renew_extends_held_leases_in_bulk_and_names_the_ones_taken(store):
    for name in ("t1", "t2", "t3"):
        await store.insert(task(name), {}, owner="me", lease_seconds=0.0)
    assert await store.claim("t3", "other", 60)  # t3's lease had lapsed: another process took it
    assert await store.renew("me", 60, ["t1", "t2", "t3", "gone"]) == {"t3", "gone"}
    assert not await store.claim("t1", "other", 60) and not await store.claim("t2", "other", 60)


def test_renew_handles_more_tasks_than_one_statement_takes(store):
    names = [f"t{i}" for i in range(1200)]
    for name in names:
        await store.insert(task(name), {}, owner="me", lease_seconds=0.0)
    assert await store.renew("me", 60, names) == set()
    assert not await store.claim(names[-1], "other", 60)
