"""Tasks another process holds are re-read together, one store read a round, not one read per task."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rig import JOB, FakeAdapter, processing, put, rig, until

pytestmark = pytest.mark.anyio


async def test_a_process_watching_many_tasks_another_holds_reads_them_all_in_one_read_a_round(tmp_path):
    names = [f"t{i}" for i in range(20)]
    async with rig(tmp_path, FakeAdapter([processing()] * 10_000)) as a, rig(tmp_path) as b:
        for name in names:
            await put(a.store, name, status="processing", provider_task_id=JOB)
            await a.poller.follow(name)
        await until(lambda: len({job for job, _ in a.adapter.polls}) >= 1)
        reads: list[str] = []
        sweeps: list[int] = []
        real_get, real_leases = b.store.get, b.store.leases

        async def get(task_id: str) -> Any:
            reads.append(task_id)
            return await real_get(task_id)

        async def leases(task_ids: list[str]) -> Any:
            sweeps.append(len(task_ids))
            return await real_leases(task_ids)

        b.store.get, b.store.leases = get, leases  # type: ignore[method-assign]
        for name in names:
            await b.poller.follow(name)
        await until(lambda: len(sweeps) >= 2 and sweeps[-1] == len(names))
        read_before = len(reads)
        await until(lambda: len(sweeps) >= 6)
        assert b.adapter.polls == []  # a holds every lease
    assert len(reads) == read_before  # four more rounds, each one read of all 20, and no read of one task
