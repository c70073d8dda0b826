"""Load: 100 concurrent generate_video calls on one stdio session all complete, the store stays consistent,
and get_task keeps answering meanwhile."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import anyio
import pytest

from tests.conftest import server_env
from tests.e2e.helpers import text_of
from tests.e2e.observed import observed_client

pytestmark = pytest.mark.anyio

CALLS = 100
#: Generous bounds that only catch a hang; latencies are printed, not asserted.
CALL_BOUND = 120.0
GET_TASK_BOUND = 10.0


async def test_100_concurrent_generations_on_one_session(fake, png, tmp_path):
    fake.provider("wavespeed").job_seconds = 1.0
    data_dir, stderr = tmp_path / "data", tmp_path / "stderr.log"
    results: list = []
    latencies: list[float] = []
    watched: list[str] = []
    all_done = anyio.Event()

    async with observed_client(server_env(fake, data_dir), stderr) as client:

        async def generate(n: int) -> None:
            with anyio.fail_after(CALL_BOUND):
                results.append(await client.call_tool(
                    "generate_video", {"image": str(png), "prompt": f"cat number {n} waves", "wait_seconds": 30}))

        async def keep_asking() -> None:
            """get_task on one task (the first that exists) over and over, until every generation returned."""
            while not all_done.is_set():
                started = time.monotonic()
                with anyio.fail_after(GET_TASK_BOUND):
                    if watched:
                        answer = await client.call_tool("get_task", {"task_id": watched[0]})
                        assert not answer.is_error, text_of(answer)
                    else:
                        listed = await client.call_tool("list_tasks", {"limit": 1})
                        watched.extend(t["task_id"] for t in listed.structured_content["tasks"])
                latencies.append(time.monotonic() - started)
                await anyio.sleep(0.05)

        async with anyio.create_task_group() as group:
            group.start_soon(keep_asking)
            async with anyio.create_task_group() as calls:
                for n in range(CALLS):
                    calls.start_soon(generate, n)
            all_done.set()
        listed = await client.call_tool("list_tasks", {"limit": 200})

    print(f"\nget_task answered {len(latencies)} times while {CALLS} generations ran; "
          f"slowest {max(latencies):.3f} s, median {sorted(latencies)[len(latencies) // 2]:.3f} s")
    tasks = [r.structured_content for r in results]
    assert len(results) == CALLS and not [text_of(r) for r in results if r.is_error]
    assert [t["status"] for t in tasks] == ["completed"] * CALLS, [text_of(r) for r in results][:3]
    assert len({t["task_id"] for t in tasks}) == CALLS
    videos = {t["video_path"] for t in tasks}
    assert len(videos) == CALLS and all(Path(v).is_file() for v in videos)
    assert len({t["prompt"] for t in tasks}) == CALLS
    assert len(latencies) > 1 and watched

    stored = listed.structured_content["tasks"]
    assert len(stored) == CALLS and {t["status"] for t in stored} == {"completed"}
    with sqlite3.connect(f"file:{data_dir / 'tasks.db'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT task_id, status, progress, video_path, provider_task_id FROM tasks").fetchall()
    assert len(rows) == CALLS
    assert {(status, progress) for _, status, progress, _, _ in rows} == {("completed", 100)}
    assert {path for *_, path, _ in rows} == videos
    assert len({job for *_, job in rows}) == CALLS

    wavespeed = fake.provider("wavespeed")
    assert len(wavespeed.submits()) == CALLS and len(wavespeed.uploads()) == CALLS
    assert len(fake.downloads) == CALLS
    log = stderr.read_text()
    assert "database is locked" not in log and "Traceback" not in log, log[-3000:]
