"""Typical generation times are learned from finished tasks once there are a few, else the catalog's."""

from __future__ import annotations

import pytest

from tests.support.rig import ago, task
from tests.support.typical import KEY, finish, learned, sqlite_store
from videogen_mcp.catalog import typical_seconds
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.typical import MIN_SAMPLES, TypicalTimes, median_time

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path):
    async for opened in sqlite_store(tmp_path):
        yield opened


async def test_the_catalog_time_holds_until_a_task_finished(store):  # issue 13: learning starts at the first
    assert (await learned(TypicalTimes(store))).get(*KEY) == typical_seconds(*KEY)
    times = TypicalTimes(store)
    await finish(store, times, [100.0] * (MIN_SAMPLES - 1))
    assert 95 <= (await learned(times)).get(*KEY) < 110  # the posterior median, on a grid 5% apart


async def test_the_median_of_recent_tasks_replaces_it(store):
    times = TypicalTimes(store)
    await finish(store, times, [100.0, 130.0, 400.0, 120.0])
    assert (await learned(times)).get(*KEY) == 120.0  # the Kaplan-Meier median: the first time half are done


async def test_each_provider_model_and_length_learns_on_its_own(store):
    times = TypicalTimes(store)
    await finish(store, times, [60.0, 60.0, 60.0])
    assert (await learned(times)).get(*KEY) == 60.0
    other = ("wavespeed", "kling-v2.1-i2v-pro", 10)
    assert (await learned(times, other)).get(*other) == typical_seconds(*other)
    aimlapi = ("aimlapi", *KEY[1:])
    assert (await learned(times, aimlapi)).get(*aimlapi) == typical_seconds(*aimlapi)


async def test_a_restarted_server_remembers_what_it_learned(store, tmp_path):
    await finish(store, TypicalTimes(store), [90.0, 95.0, 100.0])
    again = SqliteTaskStore(tmp_path / "tasks.db")
    assert (await learned(TypicalTimes(again))).get(*KEY) == 95.0
    await again.close()


async def test_tasks_still_running_keep_the_first_finishers_from_passing_for_typical(store):
    times = TypicalTimes(store)
    for n in range(10):  # a batch started together 150 s ago: three finished fast, seven still run
        await store.insert(task(f"run{n}", created_at=ago(150), status="processing"), {})
    await finish(store, times, [40.0, 45.0, 50.0])
    assert 100 < (await learned(times)).get(*KEY) < typical_seconds(*KEY) * 1.1  # most still run: far above 45 s


@pytest.mark.parametrize(
    ("finished", "running", "median"),
    [([10, 20, 30], [], 20), ([10, 20, 30, 40], [], 20), ([10, 20], [100, 100, 100], None),
     ([10, 20, 30], [25], 20), ([10, 30], [20, 25], 30), ([50, 60, 70], [5, 5, 5], 60)],
)
def test_kaplan_meier_median(finished, running, median):
    assert median_time(finished, running) == median
