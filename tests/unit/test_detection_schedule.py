"""The schedule rules of issue 13: early probes, the elapsed-fraction bound, the dense window pulled to the
earliest recent finish, learning from the first finished task, and re-planning tasks in flight."""

from __future__ import annotations

import anyio
import pytest

from tests.unit.conftest import task
from tests.unit.test_poller import FakeAdapter, ago, completed, processing
from videogen_mcp.catalog import typical_seconds
from videogen_mcp.providers.base import PollResult
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.poller import Poller
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import ELAPSED_FRACTION, PROBE_GAP, PollSchedule
from videogen_mcp.tasks.typical import TypicalTimes

KEY = ("wavespeed", "kling-v2.1-i2v-pro", 5)
CATALOG = typical_seconds(*KEY)  # 210 s
SCHEDULE = PollSchedule(min_gap=1.0, max_gap=60.0)


@pytest.fixture
def store(tmp_path):
    opened = TaskStore(tmp_path / "tasks.db")
    yield opened
    opened.close()


@pytest.mark.parametrize("typical", [210.0, 2000.0])
@pytest.mark.parametrize("elapsed", [0, 1, 5, 10, 14.9])
def test_early_probes_catch_a_job_that_fails_within_seconds_whatever_the_typical_time(elapsed, typical):
    assert SCHEDULE.gap(elapsed, typical, None) <= PROBE_GAP < 3.0


@pytest.mark.parametrize("elapsed", [40, 100, 300, 700])
def test_no_gap_exceeds_a_fraction_of_the_time_elapsed(elapsed):
    assert SCHEDULE.gap(elapsed, 5000.0, None) == pytest.approx(ELAPSED_FRACTION * elapsed)


def test_the_earliest_recent_finish_pulls_the_dense_window_forward():
    assert SCHEDULE.gap(150, CATALOG, None) > 5  # the catalog alone: still approaching its window
    assert SCHEDULE.gap(150, CATALOG, None, earliest=148) == 1.0
    assert SCHEDULE.gap(50, CATALOG, None, earliest=20) > 1.0  # a freak 20 s finish: not below half typical


def finish(store: TaskStore, times: TypicalTimes, seconds: list[float], prefix: str = "t") -> None:
    for n, value in enumerate(seconds):
        store.insert(task(f"{prefix}{n}", provider=KEY[0], model=KEY[1], duration=KEY[2]), {})
        times.observed(*KEY, f"{prefix}{n}", value)


def test_one_finished_task_is_enough_to_learn_from(store):
    times = TypicalTimes(store)
    finish(store, times, [60.0])
    assert 60 <= times.get(*KEY) <= 70  # near its time, a little toward the catalog's 210 s
    assert times.earliest(*KEY) == 60


def test_one_outlier_among_a_few_finished_tasks_does_not_move_the_estimate(store):
    times = TypicalTimes(store)
    finish(store, times, [100.0, 105.0, 3000.0, 110.0])
    assert times.get(*KEY) == 105.0


def test_a_batch_running_far_past_the_catalog_time_raises_the_estimate_before_any_finishes(store):
    for n in range(10):
        store.insert(task(f"run{n}", created_at=ago(450), status="processing"), {})
    assert TypicalTimes(store).get(*KEY) > 450


def test_young_running_tasks_leave_the_catalog_time_alone(store):
    for n in range(20):
        store.insert(task(f"run{n}", created_at=ago(100), status="processing"), {})
    assert TypicalTimes(store).get(*KEY) == pytest.approx(CATALOG, rel=0.01)


def test_a_task_stuck_for_days_does_not_drag_the_estimate_to_days(store):
    store.insert(task("stuck", created_at=ago(5 * 86400), status="processing"), {})
    assert TypicalTimes(store).get(*KEY) < 5 * CATALOG


def test_a_finish_far_from_the_estimate_asks_for_a_replan_and_a_near_one_does_not(store):
    times = TypicalTimes(store)
    store.insert(task("fast", provider=KEY[0], model=KEY[1], duration=KEY[2]), {})
    assert times.observed(*KEY, "fast", 60.0)
    store.insert(task("again", provider=KEY[0], model=KEY[1], duration=KEY[2]), {})
    assert not times.observed(*KEY, "again", 62.0)


@pytest.mark.anyio
async def test_a_finish_wakes_the_tasks_of_its_kind_in_flight_to_poll_by_the_new_estimate(tmp_path):
    """A task 100 s old waits ~8 s between polls (the catalog says 210 s). A new task of the same kind is
    ready at its first poll, ~2.5 s in: the old one is polled again at once instead of sleeping out its gap."""
    adapter = FakeAdapter()
    answers = {"job-a": [processing()] * 50, "job-b": [completed()]}

    async def poll(provider_task_id: str) -> PollResult:
        adapter.polls.append((provider_task_id, anyio.current_time()))
        script = answers[provider_task_id]
        return script.pop(0) if script else processing()

    adapter.poll = poll  # type: ignore[method-assign]
    store = TaskStore(tmp_path / "tasks.db")
    try:
        with anyio.fail_after(6):
            async with anyio.create_task_group() as group:
                poller = Poller(store, TaskEvents(), {"wavespeed": adapter}, None,
                                {"wavespeed": PollSchedule(min_gap=0.01, max_gap=60.0)}, group)
                store.insert(task("a", created_at=ago(100), status="processing", provider_task_id="job-a"), {})
                poller.follow("a")
                await anyio.sleep(0.2)  # a sleeps its ~8 s gap
                store.insert(task("b", created_at=ago(0), status="processing", provider_task_id="job-b"), {})
                poller.follow("b")
                while store.get("b").status != "completed":
                    await anyio.sleep(0.01)
                done_at = anyio.current_time()
                while not [at for job, at in adapter.polls if job == "job-a" and at > done_at]:
                    await anyio.sleep(0.01)
                woke = min(at for job, at in adapter.polls if job == "job-a" and at > done_at) - done_at
                group.cancel_scope.cancel()
    finally:
        store.close()
    assert woke < 1.0
