"""Typical generation times are learned from the first finished task on, else the catalog's."""

from __future__ import annotations

import pytest

from tests.support.rig import ago, task
from tests.support.typical import KEY, finish, learned, sqlite_store
from videogen_mcp.catalog import typical_seconds
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.timing import BROAD_WEIGHT
from videogen_mcp.tasks.typical import RECENT, TypicalTimes

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path):
    async for opened in sqlite_store(tmp_path):
        yield opened


async def test_the_catalog_time_holds_until_a_task_finished(store):  # issue 13: learning starts at the first
    assert (await learned(TypicalTimes(store))).get(*KEY) == typical_seconds(*KEY)
    times = TypicalTimes(store)
    await finish(store, times, [100.0, 100.0])
    assert 95 <= (await learned(times)).get(*KEY) < 110  # the posterior median, on a grid 5% apart


async def test_the_median_of_recent_tasks_replaces_it_and_one_outlier_barely_moves_it(store):
    times = TypicalTimes(store)
    await finish(store, times, [100.0, 130.0, 400.0, 120.0])
    assert 105 <= (await learned(times)).get(*KEY) <= 135  # not pulled toward 400 s or the catalog's 210 s


async def test_each_provider_model_and_length_learns_on_its_own(store):
    times = TypicalTimes(store)
    await finish(store, times, [60.0, 60.0, 60.0])
    assert 57 <= (await learned(times)).get(*KEY) <= 63
    other = ("wavespeed", "kling-v2.1-i2v-pro", 10)
    assert (await learned(times, other)).get(*other) == typical_seconds(*other)
    aimlapi = ("aimlapi", *KEY[1:])
    assert (await learned(times, aimlapi)).get(*aimlapi) == typical_seconds(*aimlapi)


async def test_a_restarted_server_remembers_what_it_learned(store, tmp_path):
    await finish(store, TypicalTimes(store), [90.0, 95.0, 100.0])
    again = SqliteTaskStore(tmp_path / "tasks.db")
    assert 90 <= (await learned(TypicalTimes(again))).get(*KEY) <= 100
    await again.close()


async def test_tasks_still_running_keep_the_first_finishers_from_passing_for_typical(store):
    times = TypicalTimes(store)
    for n in range(10):  # a batch started together 150 s ago: three finished fast, seven still run
        await store.insert(task(f"run{n}", created_at=ago(150), status="processing"), {})
    await finish(store, times, [40.0, 45.0, 50.0])
    assert 100 < (await learned(times)).get(*KEY) < typical_seconds(*KEY) * 1.1  # most still run: far above 45 s


async def test_a_batch_running_does_not_hide_what_finished_tasks_taught(store):  # issue 13
    times = TypicalTimes(store)
    await finish(store, times, [70.0])  # a fast reseller: one task took 70 s where the catalog says 210 s
    for n in range(RECENT + 5):  # then a batch larger than the window starts: it must not push the finish out
        await store.insert(task(f"run{n}", created_at=ago(30), status="processing"), {})
    assert 55 <= (await learned(TypicalTimes(store))).get(*KEY) <= 90  # learned afresh (a restart, or 5 s on)


async def test_the_broad_hedge_fades_as_tasks_finish_where_expected_and_stays_when_they_do_not(store):
    times = TypicalTimes(store)
    assert (await learned(times)).estimate(*KEY).broad_weight == BROAD_WEIGHT
    await finish(store, times, [100.0, 105.0, 98.0, 102.0, 101.0, 99.0])
    settled = (await learned(times)).estimate(*KEY).broad_weight
    assert settled < BROAD_WEIGHT / 2
    other = ("wavespeed", "kling-v2.1-i2v-pro", 10)
    await finish(store, times, [100.0, 105.0, 98.0, 102.0, 20.0, 900.0], key=other, prefix="o")
    assert (await learned(times, other)).estimate(*other).broad_weight > 1.5 * settled  # two far from the rest
