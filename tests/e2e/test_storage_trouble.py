"""A bad day for the disk: a full disk is reported as one, and a broken store never takes the server down.

The full disks are real: a 1 MB tmpfs mounted for the test (needs root; skipped where mounting is refused).
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from tests.conftest import server_env
from tests.e2e.helpers import text_of
from tests.e2e.observed import alive, observed_client, server_pids
from tests.support.ci import unavailable

pytestmark = pytest.mark.anyio


@contextlib.contextmanager
def small_disk(path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs mounted at `path` for the block."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        unavailable(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(folder: Path) -> None:
    """Write a file in `folder` until its disk is full."""
    with (folder / "filler").open("wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


async def test_a_full_disk_refuses_a_new_task_saying_so(fake, png, tmp_path):
    with small_disk(tmp_path / "data") as data_dir:
        env = server_env(fake, data_dir)
        async with observed_client(env, tmp_path / "server.log") as client:
            await client.call_tool("list_tasks", {})
            fill(data_dir)
            refused = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan"})
            providers = await client.call_tool("list_providers", {})
    text = text_of(refused)
    assert refused.is_error and "is full" in text and str(data_dir) in text and "VIDEOGEN_DATA_DIR" in text, text
    assert not providers.is_error
    assert fake.provider("wavespeed").submits() == []


async def test_a_full_disk_for_the_video_leaves_a_note_saying_so(fake, png, tmp_path):
    data_dir = tmp_path / "data"
    with small_disk(data_dir / "videos") as videos:
        fill(videos)
        env = server_env(fake, data_dir)
        async with observed_client(env, tmp_path / "server.log") as client:
            done = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 30})
    task = done.structured_content
    assert (task["status"], task["video_path"]) == ("completed", None)
    assert "is full" in task["error"] and str(videos) in task["error"] and "tries again later" in task["error"]


async def test_a_dropped_table_under_a_running_server_gets_sensible_errors_and_no_crash(fake, png, tmp_path):
    data_dir = tmp_path / "data"
    env = server_env(fake, data_dir)
    async with observed_client(env, tmp_path / "server.log") as client:
        made = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan"})
        with sqlite3.connect(data_dir / "tasks.db") as db:
            db.execute("DROP TABLE tasks")
        await anyio.sleep(3)  # the background loops (rescan every second) meet the missing table meanwhile
        providers = await client.call_tool("list_providers", {})
        lookup = await client.call_tool("get_task", {"task_id": made.structured_content["task_id"]})
        listed = await client.call_tool("list_tasks", {})
        assert all(alive(pid) for pid in server_pids(data_dir))
    assert not providers.is_error
    for result in (lookup, listed):
        text = text_of(result)
        assert result.is_error and str(data_dir / "tasks.db") in text and "restart the server" in text, text
    log = (tmp_path / "server.log").read_text()
    assert "no such table: tasks" in log and "trying again in" in log
