"""A job the provider fails 3 s after the submit is reported within 5 s of failing, on the default schedule.

A behaviour bound, not a benchmark: the real Poller, the server's default schedule for a provider whose
floor is 1 s, and a scripted provider that answers "failed" from 3 s after the task was created.
"""

from __future__ import annotations

import anyio
import pytest

from tests.support.rig import FakeAdapter, ago
from tests.unit.conftest import task
from videogen_mcp.providers.base import Adapter, PollResult
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.poller import Poller
from videogen_mcp.tasks.service import DEFAULT_MAX_GAP
from videogen_mcp.tasks.sqlite_store import SqliteTaskStore
from videogen_mcp.tasks.timing import PollSchedule, elapsed_seconds

pytestmark = pytest.mark.anyio

FAILS_AT = 3.0
#: The task is made this old, so the test waits only ~1-3 s of the 3 s before the failure and its report.
AGE = 2.0


async def test_a_job_failing_3_s_after_submit_is_reported_within_5_s_of_failing(tmp_path):
    adapter = FakeAdapter()
    store = SqliteTaskStore(tmp_path / "tasks.db")

    async def poll(provider_task_id: str) -> PollResult:
        if elapsed_seconds(await store.get("t1")) >= FAILS_AT:
            return PollResult("failed", "failed", error="content filter")
        return PollResult("processing", "processing")

    adapter.poll = poll  # type: ignore[method-assign]
    try:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                schedule = PollSchedule(min_gap=Adapter.poll_interval, max_gap=DEFAULT_MAX_GAP)  # 1 s floor
                poller = Poller(store, TaskEvents(), {"wavespeed": adapter}, None, {"wavespeed": schedule}, group)
                await store.insert(task("t1", created_at=ago(AGE), status="processing", provider_task_id="job-1"), {})
                await poller.follow("t1")
                while not (await store.get("t1")).finished:
                    await anyio.sleep(0.02)
                reported = elapsed_seconds(await store.get("t1"))
                group.cancel_scope.cancel()
    finally:
        await store.close()
    assert reported - FAILS_AT <= 5.0, f"failed at {FAILS_AT} s, reported at {reported:.1f} s"
