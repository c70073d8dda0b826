"""Typical generation times are learned from finished tasks once there are a few, else the catalog's."""

from __future__ import annotations

import pytest

from tests.support.rig import ago, task
from videogen_mcp.catalog import typical_seconds
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.typical import MIN_SAMPLES, TypicalTimes, median_time

KEY = ("wavespeed", "kling-v2.1-i2v-pro", 5)


pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path):
    opened = SqliteTaskStore(tmp_path / "tasks.db")
    yield opened
    await opened.close()


async def finish(store: TaskStore, times: TypicalTimes, seconds: list[float], key=KEY, prefix: str = "t") -> None:
    for n, value in enumerate(seconds):
        task_id = f"{prefix}{n}"
        await store.insert(task(task_id, provider=key[0], model=key[1], duration=key[2]), {})
        await times.observed(*key, task_id, value)


async def learned(times: TypicalTimes, key=KEY) -> float:
    """The estimate the poller plans with: refreshed from the store, then read."""
    await times.refresh(*key)
    return times.get(*key)


async def test_the_catalog_time_holds_until_a_task_finished(store):  # issue 13: learning starts at the first
    assert await learned(TypicalTimes(store)) == typical_seconds(*KEY)
    times = TypicalTimes(store)
    await finish(store, times, [100.0] * (MIN_SAMPLES - 1))
    assert 100 <= await learned(times) < 110


async def test_the_median_of_recent_tasks_replaces_it(store):
    times = TypicalTimes(store)
    await finish(store, times, [100.0, 130.0, 400.0, 120.0])
    assert await learned(times) == 120.0  # the Kaplan-Meier median: the first time half are done


async def test_each_provider_model_and_length_learns_on_its_own(store):
    times = TypicalTimes(store)
    await finish(store, times, [60.0, 60.0, 60.0])
    assert await learned(times) == 60.0
    other = ("wavespeed", "kling-v2.1-i2v-pro", 10)
    assert await learned(times, other) == typical_seconds(*other)
    assert await learned(times, ("aimlapi", *KEY[1:])) == typical_seconds("aimlapi", *KEY[1:])


async def test_a_restarted_server_remembers_what_it_learned(store, tmp_path):
    await finish(store, TypicalTimes(store), [90.0, 95.0, 100.0])
    again = SqliteTaskStore(tmp_path / "tasks.db")
    assert await learned(TypicalTimes(again)) == 95.0
    await again.close()


async def test_tasks_still_running_keep_the_first_finishers_from_passing_for_typical(store):
    times = TypicalTimes(store)
    for n in range(10):  # a batch started together 150 s ago: three finished fast, seven still run
        await store.insert(task(f"run{n}", created_at=ago(150), status="processing"), {})
    await finish(store, times, [40.0, 45.0, 50.0])
    assert 100 < await learned(times) < typical_seconds(*KEY) * 1.1  # most still run: far above the first 45 s


@pytest.mark.parametrize(
    ("finished", "running", "median"),
    [([10, 20, 30], [], 20), ([10, 20, 30, 40], [], 20), ([10, 20], [100, 100, 100], None),
     ([10, 20, 30], [25], 20), ([10, 30], [20, 25], 30), ([50, 60, 70], [5, 5, 5], 60)],
)
def test_kaplan_meier_median(finished, running, median):
    assert median_time(finished, running) == median
