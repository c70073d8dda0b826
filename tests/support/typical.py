"""Typical-time helpers shared by the learning and schedule tests: tasks finished at given times, and the
estimate as the poller plans with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from tests.support.rig import task
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.typical import TypicalTimes

KEY = ("wavespeed", "kling-v2.1-i2v-pro", 5)


async def sqlite_store(tmp_path: Path) -> AsyncIterator[SqliteTaskStore]:
    """A fresh store in tmp_path, closed afterwards (wrap it in a fixture)."""
    opened = SqliteTaskStore(tmp_path / "tasks.db")
    yield opened
    await opened.close()


async def finish(store: TaskStore, times: TypicalTimes, seconds: list[float], key=KEY, prefix: str = "t") -> None:
    """Store one task per time and tell `times` it was seen ready after that many seconds."""
    for n, value in enumerate(seconds):
        task_id = f"{prefix}{n}"
        await store.insert(task(task_id, provider=key[0], model=key[1], duration=key[2]), {})
        await times.observed(*key, task_id, value)


async def learned(times: TypicalTimes, key=KEY) -> TypicalTimes:
    """`times` refreshed from the store, as the poller does before it plans."""
    await times.refresh(*key)
    return times
