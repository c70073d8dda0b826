"""Issue 13, second pass: what the schedule learns besides the typical time. The share of jobs a provider
fails within seconds (learned from failures seen and from tasks that outlived the first seconds), the spread
of job lengths around the median, and re-planning a batch when its first tasks finish."""

from __future__ import annotations

import pytest

from tests.support.rig import FakeAdapter, ago, processing, put, rig, settled, task
from tests.support.typical import KEY, finish, learned, sqlite_store
from videogen_mcp.providers.base import PollResult
from videogen_mcp.tasks.timing import BULK_FROM, BULK_GAP, FAILURE, PollSchedule, body_reached
from videogen_mcp.tasks.typical import TypicalTimes, failure_weight

pytestmark = pytest.mark.anyio


@pytest.fixture
async def store(tmp_path):
    async for opened in sqlite_store(tmp_path):
        yield opened


def test_the_early_failure_share_starts_at_the_prior_and_is_learned_both_ways():
    assert failure_weight([], 0, []) == pytest.approx(FAILURE[0], abs=0.01)
    outlived = failure_weight([], 0, [20.0] * 20)  # twenty tasks past their first seconds, none failed
    assert outlived < FAILURE[0] / 3
    assert failure_weight([], 0, [2.0] * 20) > 0.75 * FAILURE[0]  # too young to say anything yet
    failing = failure_weight([4.0, 6.0, 9.0, 5.0], 2, [])
    assert failing > 2 * FAILURE[0]
    assert failure_weight([400.0], 0, []) < FAILURE[0]  # a failure after minutes is not an early one


async def test_a_kind_whose_tasks_outlive_their_first_seconds_is_probed_less_there(store):
    for n in range(20):
        await store.insert(_running(f"run{n}", age=20.0), {})
    estimate = (await learned(TypicalTimes(store))).estimate(*KEY)
    assert estimate.fail_weight < FAILURE[0] / 3
    assert estimate.hazard(25.0) < TypicalTimes(store).estimate(*KEY).hazard(25.0) / 2


async def test_widely_spread_finishes_are_learned_as_a_wide_spread(tmp_path):
    spreads = []
    for name, seconds in (("tight", [98.0, 100.0]), ("wide", [60.0, 160.0])):
        async for store in sqlite_store(tmp_path / name):
            times = TypicalTimes(store)
            await finish(store, times, seconds)
            spreads.append((await learned(times)).estimate(*KEY).spread)
    assert spreads[1] > spreads[0]


async def test_the_first_finish_of_a_slow_batch_replans_the_rest(store):
    """Twenty tasks still running at twice the catalog's time: the first to finish makes its peers due."""
    times = TypicalTimes(store)
    for n in range(20):
        await store.insert(_running(f"run{n}", age=425.0), {})
    await learned(times)
    assert await times.observed(*KEY, "run0", 425.0)


async def test_a_failure_reported_by_the_provider_is_recorded_as_one_and_not_as_a_finish(tmp_path):
    async with rig(tmp_path, FakeAdapter([processing(), PollResult("failed", "failed", error="content filter")])) as r:
        await put(r.store, "t1", status="processing", provider_task_id="job-1")
        await r.poller.follow("t1")
        done = await settled(r.store, "t1")
        [(seconds, _, status)] = await r.store.recent_durations(done.provider, done.model, done.duration, 5)
        times = TypicalTimes(r.store)
        assert (await learned(times, (done.provider, done.model, done.duration))).get(
            done.provider, done.model, done.duration) > 60  # a 0-s "finish" would have pulled it to seconds
    assert done.status == "failed" and status == "failed" and 0 <= seconds < 5


def _running(task_id: str, age: float):
    return task(task_id, provider=KEY[0], model=KEY[1], duration=KEY[2], status="processing", created_at=ago(age))


def test_where_the_body_has_begun_to_end_no_gap_exceeds_the_bulk_cap():
    """A batch still running at 430 s whose body (learned) is around 500 s: the sqrt rule alone waits longer
    than the bulk's cap, which is what left the first finishers of a slow queue unnoticed for 5-15 s."""
    schedule = PollSchedule(min_gap=1.0, max_gap=60.0)
    medians = ((500.0, 0.1),)
    assert body_reached(430.0, 500.0, 0.1, medians) > BULK_FROM
    assert schedule.gap(430.0, 500.0, None, medians=medians, fail_weight=0.02) <= BULK_GAP
    assert schedule.gap(200.0, 500.0, None, medians=medians, fail_weight=0.02) > BULK_GAP  # long before: sqrt rule
    assert schedule.gap(900.0, 500.0, None, medians=medians, fail_weight=0.02) > BULK_GAP  # far past the bulk too
