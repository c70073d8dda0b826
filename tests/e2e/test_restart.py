"""Durability: a task outlives the server process that started it."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
from pathlib import Path

import anyio
import pytest

from tests.conftest import server_env, stdio_client
from tests.e2e.observed import server_pids

pytestmark = pytest.mark.anyio


async def test_unfinished_task_resumes_after_restart(fake, png, tmp_path):
    fake.provider("wavespeed").job_seconds = 3
    env = server_env(fake, tmp_path / "data")
    async with stdio_client(env) as client:
        made = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 0})
    task_id = made.structured_content["task_id"]
    assert made.structured_content["status"] in ("queued", "processing")
    async with stdio_client(env, "2026-07-28") as client:
        done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
    assert done.structured_content["status"] == "completed"
    assert done.structured_content["video_path"]
    assert len(fake.provider("wavespeed").submits()) == 1


async def test_task_interrupted_before_submission_fails_honestly_at_restart(fake, png, tmp_path):
    env = server_env(fake, tmp_path / "data")
    async with stdio_client(env) as client:
        await client.call_tool("list_tasks", {})
    db = sqlite3.connect(tmp_path / "data" / "tasks.db")
    db.execute(
        "INSERT INTO tasks (task_id, status, provider, model, progress, prompt, duration, created_at, updated_at) "
        "VALUES ('t1', 'queued', 'wavespeed', 'kling-v2.1-i2v-pro', 0, 'p', 5, "
        "'2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')"
    )
    db.commit()
    db.close()
    async with stdio_client(env) as client:
        result = await client.call_tool("get_task", {"task_id": "t1"})
    assert result.structured_content["status"] == "failed"
    assert "check the provider's dashboard" in result.structured_content["error"]
    assert fake.provider("wavespeed").requests == []


async def test_a_download_that_failed_is_done_by_the_next_start(fake, png, tmp_path):
    from tests.fakes import FakeError

    fake.download_errors = [FakeError(502)] * 3
    env = server_env(fake, tmp_path / "data")
    async with stdio_client(env) as client:
        first = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 30})
    task = first.structured_content
    assert (task["status"], task["video_path"]) == ("completed", None)
    assert "tries again later" in task["error"]
    async with stdio_client(env, "2026-07-28") as client:
        with anyio.fail_after(20):
            while not task["video_path"]:
                await anyio.sleep(0.1)
                task = (await client.call_tool("get_task", {"task_id": task["task_id"]})).structured_content
    assert Path(task["video_path"]).read_bytes() == fake.file_bytes(task["provider_task_id"])
    assert (task["status"], task["error"]) == ("completed", None)
    assert len(fake.provider("wavespeed").submits()) == 1


async def test_task_database_is_sqlite_in_wal_mode(start_server, png, tmp_path):
    async with start_server() as client:
        await client.call_tool("generate_video", {"image": str(png), "prompt": "pan"})
    db = sqlite3.connect(tmp_path / "data" / "tasks.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT status FROM tasks").fetchall() == [("completed",)]


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc to find the server process")
async def test_task_survives_the_server_being_killed_mid_generation(fake, png, tmp_path):
    fake.provider("wavespeed").job_seconds = 3
    data_dir = tmp_path / "data"
    env = server_env(fake, data_dir)
    killed: list[int] = []
    with contextlib.suppress(Exception):  # the client may complain that its server died: that is the point
        async with stdio_client(env) as client:
            made = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 0.5})
            for pid in server_pids(data_dir):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            await anyio.sleep(0.2)
    task_id = made.structured_content["task_id"]
    assert killed and made.structured_content["status"] in ("queued", "processing")
    db = sqlite3.connect(data_dir / "tasks.db")  # the killed process's 30 s lease lapses: skip the wait
    db.execute("UPDATE tasks SET lease_until = 0")
    db.commit()
    db.close()
    async with stdio_client(env) as client:
        done = await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
    assert done.structured_content["status"] == "completed"
    assert len(fake.provider("wavespeed").submits()) == 1


async def test_two_servers_on_one_data_dir_share_a_task(fake, png, tmp_path):
    """Say Claude Desktop and a coding assistant: one follows the task, the other sees it finish."""
    fake.provider("wavespeed").job_seconds = 3
    env = server_env(fake, tmp_path / "data")
    async with stdio_client(env) as first:
        made = await first.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 0})
        task_id = made.structured_content["task_id"]
        async with stdio_client(env, "2026-07-28") as second:
            seen = await second.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
        mine = await first.call_tool("get_task", {"task_id": task_id})
    assert seen.structured_content["status"] == mine.structured_content["status"] == "completed"
    assert seen.structured_content["video_path"] == mine.structured_content["video_path"]
    assert len(fake.downloads) == 1
