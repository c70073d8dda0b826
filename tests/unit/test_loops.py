"""Background loops survive a broken store: the error is logged, retried with backoff, and the loop
recovers once the store works again (here the real store with its table dropped, then recreated)."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import anyio
import pytest

from tests.support.rig import (
    MP4,
    Cdn,
    FakeAdapter,
    completed,
    failed_download,
    put,
    rig,
    settled,
    stored,
    until,
    video_downloader,
)
from videogen_mcp.errors import StorageError
from videogen_mcp.tasks import loops
from videogen_mcp.tasks import poller as poller_module
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.redownload import Redownloader
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(poller_module, "RESCAN_INTERVAL", 0.01)
    monkeypatch.setattr(loops, "FIRST_RETRY", 0.01)
    monkeypatch.setattr(loops, "LONGEST_RETRY", 0.05)
    caplog.set_level(logging.INFO, logger=loops.__name__)


def drop_tasks_table(db: Path) -> None:
    with sqlite3.connect(db) as other:
        other.execute("DROP TABLE tasks")


def failures_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR and "in a row" in r.getMessage()]


async def test_the_rescan_loop_outlives_a_dropped_table_and_picks_up_tasks_once_it_is_back(tmp_path, caplog):
    async with rig(tmp_path, FakeAdapter([completed()])) as r, anyio.create_task_group() as group:
        drop_tasks_table(tmp_path / "tasks.db")
        group.start_soon(r.poller.rescan_forever)
        await until(lambda: len(failures_logged(caplog)) >= 2)  # failed, waited, failed again: still running
        await SqliteTaskStore(tmp_path / "tasks.db").close()  # what a restart does: the table is created again
        await put(r.store, "t1", status="processing", provider_task_id="job-1")
        done = await settled(r.store, "t1")
        group.cancel_scope.cancel()
    assert done.status == "completed"
    assert "no such table: tasks" in caplog.text and "works again" in caplog.text


async def test_the_redownload_loop_outlives_a_dropped_table_and_downloads_once_it_is_back(tmp_path, caplog):
    store = SqliteTaskStore(tmp_path / "tasks.db")
    drop_tasks_table(tmp_path / "tasks.db")
    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            group.start_soon(Redownloader(store, TaskEvents(), video_downloader(tmp_path, Cdn(0))).run_forever)
            await until(lambda: len(failures_logged(caplog)) >= 2)
            await SqliteTaskStore(tmp_path / "tasks.db").close()
            await failed_download(store)
            await until(stored(store, "t1", "video_path"))
            group.cancel_scope.cancel()
    assert Path((await store.get("t1")).video_path).read_bytes() == MP4
    assert "works again" in caplog.text


async def test_a_store_error_names_the_database_and_what_to_do(tmp_path):
    store = SqliteTaskStore(tmp_path / "tasks.db")
    drop_tasks_table(tmp_path / "tasks.db")
    with pytest.raises(StorageError) as caught:
        await store.get("t1")
    message = str(caught.value)
    assert str(tmp_path / "tasks.db") in message and "no such table" in message and "restart the server" in message


async def test_handing_leases_back_at_shutdown_with_a_broken_store_logs_instead_of_raising(tmp_path, caplog):
    async with rig(tmp_path) as r:
        drop_tasks_table(tmp_path / "tasks.db")
        await r.poller.release()
    assert "could not hand the task leases back" in caplog.text and "no such table" in caplog.text
