"""A new task's submission is never dropped when something else here starts following the task first."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.support.rig import FakeAdapter, completed, rig, settled
from videogen_mcp.models import Task
from videogen_mcp.tasks.service import GenerateRequest

pytestmark = pytest.mark.anyio


async def test_a_new_task_the_rescan_finds_before_generate_follows_it_is_still_submitted_once(tmp_path):
    async with rig(tmp_path, FakeAdapter([completed()])) as r:
        real_insert = r.store.insert

        async def insert_then_rescan(task: Task, *args: Any, **kwargs: Any) -> None:
            await real_insert(task, *args, **kwargs)
            await r.poller.follow(task.task_id)  # what the rescan does when it finds the new row first

        r.store.insert = insert_then_rescan  # type: ignore[method-assign]
        made = None
        with anyio.move_on_after(2):
            made = await r.service.generate(GenerateRequest(image="https://cdn.example.com/cat.png",
                                                            prompt="a cat walks", provider="wavespeed"))
        assert made is not None, "generate never heard back from the submission"
        done = await settled(r.store, made.task_id)
    assert len(r.adapter.submits) == 1
    assert done.status == "completed"


async def test_a_wait_on_a_task_still_being_made_here_does_not_take_its_submission(tmp_path):
    async with rig(tmp_path, FakeAdapter([completed()])) as r:
        real_insert = r.store.insert
        waited: list[Task] = []

        async def insert_then_wait(task: Task, *args: Any, **kwargs: Any) -> None:
            await real_insert(task, *args, **kwargs)
            waited.append(await r.service.wait(task.task_id, 0))  # another client's get_task right after the write

        r.store.insert = insert_then_wait  # type: ignore[method-assign]
        with anyio.move_on_after(2):
            made = await r.service.generate(GenerateRequest(image="https://cdn.example.com/cat.png",
                                                            prompt="a cat walks", provider="wavespeed"))
        done = await settled(r.store, made.task_id)
    assert waited and len(r.adapter.submits) == 1
    assert done.status == "completed"
