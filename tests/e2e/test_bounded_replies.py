"""A provider answering a poll with 50 MB: the real server reads at most 1 MB of it, asks again, finishes the
task, and its peak memory (VmHWM) does not grow with the reply."""

from __future__ import annotations

import anyio
import pytest

from tests.conftest import server_env
from tests.e2e.helpers import text_of
from tests.e2e.observed import observed_client, server_pids, status_kb
from tests.fakes import FakeError

pytestmark = pytest.mark.anyio

HUGE_JSON = {"code": 200, "message": "success", "pad": "x" * (50 * 1024 * 1024)}


async def test_a_50_mb_poll_reply_neither_stops_the_task_nor_grows_the_server(fake, png, tmp_path):
    data_dir = tmp_path / "data"
    env = server_env(fake, data_dir, ("wavespeed",))
    provider = fake.provider("wavespeed")
    async with observed_client(env, tmp_path / "stderr.log") as client:
        [pid] = server_pids(data_dir)
        args = {"image": str(png), "prompt": "a cat waves", "wait_seconds": 30}
        with anyio.fail_after(60):
            warm = await client.call_tool("generate_video", args)  # the server's usual peak, warmed up
            assert warm.structured_content["status"] == "completed", text_of(warm)
            before = status_kb(pid, "VmHWM")
            provider.poll_errors = [FakeError(200, HUGE_JSON)] * 2
            result = await client.call_tool("generate_video", args)
        growth_mb = (status_kb(pid, "VmHWM") - before) / 1024
    assert result.structured_content["status"] == "completed", text_of(result)
    assert not provider.poll_errors  # both huge replies were served
    print(f"peak RSS grew {growth_mb:.1f} MB over two 50 MB replies")
    assert growth_mb < 20, f"peak RSS grew {growth_mb:.1f} MB reading two 50 MB replies"
