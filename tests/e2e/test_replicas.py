"""Replicas sharing one PostgreSQL database: a task made on one is answered and awaited on the others, waiters on
two replicas wake together, and a replica killed outright (SIGKILL) loses nothing: another takes its tasks over
once their leases lapse, and no task is submitted twice."""

from __future__ import annotations

import base64
import signal

import anyio
import pytest
from mcp import Client

from tests.support.clients import text_of
from tests.support.postgres import fresh_database
from tests.support.replicas import replicas, stderr_of

pytestmark = pytest.mark.anyio


def data_uri(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


async def test_made_on_one_replica_awaited_on_two_others_which_wake_together(fake, tmp_path, png):
    fake.provider("wavespeed").job_seconds = 1.5
    with fresh_database() as db, replicas(fake, tmp_path, db, 3) as (one, two, three):
        async with Client(one.url, mode="2026-07-28") as maker:
            made = await maker.call_tool("generate_video", {"image": data_uri(png), "prompt": "a cat",
                                                            "wait_seconds": 0})
        task_id = made.structured_content["task_id"]
        woke: dict[str, float] = {}

        async def wait_on(name: str, url: str, mode: str) -> None:
            async with Client(url, mode=mode) as client:
                result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
            assert result.structured_content["status"] == "completed", text_of(result)
            woke[name] = anyio.current_time()

        async with anyio.create_task_group() as group:
            group.start_soon(wait_on, "two", two.url, "2026-07-28")
            group.start_soon(wait_on, "three", three.url, "legacy")
    assert abs(woke["two"] - woke["three"]) < 0.5, woke
    assert len(fake.provider("wavespeed").submits()) == 1, stderr_of(tmp_path)


async def test_200_tasks_over_3_replicas_one_killed_none_lost_none_submitted_twice(fake, tmp_path, png):
    fake.provider("wavespeed").job_seconds = 2
    image = data_uri(png)
    ids: list[str] = []
    with fresh_database() as db, replicas(fake, tmp_path, db, 3) as group_of_three:

        async def make(url: str, count: int) -> None:
            async with Client(url, mode="2026-07-28") as client:
                for n in range(count):
                    made = await client.call_tool("generate_video", {"image": image, "prompt": f"cat {n}",
                                                                     "wait_seconds": 0})
                    ids.append(made.structured_content["task_id"])

        async with anyio.create_task_group() as group:
            for replica, count in zip(group_of_three, (67, 67, 66), strict=True):
                group.start_soon(make, replica.url, count)
        group_of_three[0].proc.send_signal(signal.SIGKILL)  # its tasks are still running at the fake
        survivor = group_of_three[1]
        async with Client(survivor.url, mode="2026-07-28") as client:
            with anyio.fail_after(90):
                for task_id in ids:
                    result = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 80})
                    assert result.structured_content["status"] == "completed", text_of(result)
    submitted = [s for s in fake.provider("wavespeed").submits()]
    assert len(ids) == len(set(ids)) == 200
    assert len(submitted) == 200, stderr_of(tmp_path)
