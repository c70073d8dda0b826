"""Stopping: SIGTERM and SIGINT end a server within 5 s, and another process sharing the data dir polls
its task within 3 s (DESIGN, Hardening). Both limits are behaviour the contract states, not benchmarks."""

from __future__ import annotations

import contextlib
import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from mcp import Client

from tests.conftest import SERVER_COMMAND, server_env, stdio_client
from tests.support.servers import free_port, wait_for_port

pytestmark = pytest.mark.anyio

STOP_LIMIT = 5.0
TAKEOVER_LIMIT = 3.0
#: How a server ends after a clean stop, as uvicorn ends one over HTTP: killed by the SIGTERM it had
#: deferred (Popen's -15, the shell's 143; systemd counts it a clean stop), and exit code 130 for SIGINT.
EXIT_CODES = {signal.SIGTERM: -signal.SIGTERM, signal.SIGINT: 130}
INITIALIZE = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}


class RawStdio:
    """A stdio server whose stdin the test holds open, and whose process it can signal."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self._pending = b""
        self._next_id = 0

    async def call(self, method: str, params: dict) -> dict:
        await self.send(method, params)
        while True:
            message = json.loads(await self._line())
            if message.get("id") == self._next_id:
                return message

    async def send(self, method: str, params: dict) -> None:
        """Send a request without waiting for its answer."""
        self._next_id += 1
        await self._send({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params})

    async def start(self) -> None:
        await self.call("initialize", INITIALIZE)
        await self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    async def _send(self, message: dict) -> None:
        await self.process.stdin.send(json.dumps(message).encode() + b"\n")

    async def _line(self) -> bytes:
        while b"\n" not in self._pending:
            self._pending += await self.process.stdout.receive()
        line, _, self._pending = self._pending.partition(b"\n")
        return line


async def wait_on(client: Client, task_id: str) -> None:
    with contextlib.suppress(Exception):  # the server stops under this call: its error is expected
        await client.call_tool("get_task", {"task_id": task_id, "wait_seconds": 60})


async def until(condition, seconds: float) -> bool:
    with anyio.move_on_after(seconds):
        while not condition():
            await anyio.sleep(0.02)
        return True
    return False


async def wait_for_exit(process: Process | subprocess.Popen, seconds: float) -> int | None:
    """The exit code, or None when the process is still running after `seconds`."""
    with anyio.move_on_after(seconds):
        if isinstance(process, subprocess.Popen):
            while process.poll() is None:
                await anyio.sleep(0.02)
            return process.returncode
        return await process.wait()
    return None


async def hand_over(fake, env: dict, create: Callable[[], Awaitable[str]], holder: Process | subprocess.Popen,
                    signum: int) -> None:
    """With another process already serving the data dir, the holder creates a task and is signalled: it stops
    in time, and the other process (which never saw the task before) polls it at once and completes it."""
    job = fake.provider("wavespeed")
    async with stdio_client(env, "2026-07-28") as other:
        await other.call_tool("list_tasks", {})  # the other process is up, and saw no task at start
        task_id = await create()
        assert await until(lambda: job.polls(), 10), "the holder never polled its task"
        holder.send_signal(signum)
        code = await wait_for_exit(holder, STOP_LIMIT)
        assert code is not None, f"the server was still running {STOP_LIMIT:.0f} s after {signum.name}"
        polls_then = len(job.polls())
        took_over = await until(lambda: len(job.polls()) > polls_then, TAKEOVER_LIMIT)
        done = await other.call_tool("get_task", {"task_id": task_id, "wait_seconds": 30})
    assert code == EXIT_CODES[signum]
    assert took_over, f"the other process did not poll the task within {TAKEOVER_LIMIT:.0f} s of the stop"
    assert done.structured_content["status"] == "completed" and done.structured_content["video_path"]
    assert len(job.submits()) == 1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_a_stdio_server_whose_stdin_stays_open(fake, png, tmp_path, signum):
    fake.provider("wavespeed").job_seconds = 12
    env = server_env(fake, tmp_path / "data")
    with (tmp_path / "holder.log").open("wb") as log:
        async with await anyio.open_process([SERVER_COMMAND], env=env, stderr=log) as process:
            try:
                holder = RawStdio(process)
                await holder.start()

                async def create() -> str:
                    made = await holder.call("tools/call", {"name": "generate_video", "arguments": {
                        "image": str(png), "prompt": "pan", "wait_seconds": 0}})
                    task_id = made["result"]["structuredContent"]["task_id"]
                    await holder.send("tools/call", {"name": "get_task", "arguments": {  # still waiting at the signal
                        "task_id": task_id, "wait_seconds": 60}})
                    return task_id

                await hand_over(fake, env, create, process, signum)  # stdin is still open all along
            finally:
                if process.returncode is None:
                    process.kill()
    assert "Traceback" not in (tmp_path / "holder.log").read_text()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_stops_an_http_server_with_a_client_connected(fake, png, tmp_path, signum):
    fake.provider("wavespeed").job_seconds = 12
    env = server_env(fake, tmp_path / "data", VIDEOGEN_ALLOW_LOCAL_FILES="1")
    port = free_port()
    command = [SERVER_COMMAND, "serve", "--transport", "streamable-http", "--port", str(port)]
    with (tmp_path / "holder.log").open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        wait_for_port(port, server)
        async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy") as client, anyio.create_task_group() as calls:

            async def create() -> str:
                made = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan",
                                                                 "wait_seconds": 0})
                task_id = made.structured_content["task_id"]
                calls.start_soon(wait_on, client, task_id)  # a call still running when the signal comes
                return task_id

            await hand_over(fake, env, create, server, signum)
            calls.cancel_scope.cancel()
    finally:
        if server.poll() is None:
            server.kill()
    assert "Traceback" not in (tmp_path / "holder.log").read_text()


async def test_the_lease_is_30_s_whatever_the_poll_settings(fake, png, tmp_path):
    fake.provider("wavespeed").job_seconds = 5
    env = server_env(fake, tmp_path / "data", VIDEOGEN_POLL_MAX_INTERVAL="600")
    async with stdio_client(env) as client:
        made = await client.call_tool("generate_video", {"image": str(png), "prompt": "pan", "wait_seconds": 0})
        db = sqlite3.connect(Path(tmp_path / "data" / "tasks.db"))
        (lease_until,) = db.execute("SELECT lease_until FROM tasks WHERE task_id = ?",
                                    [made.structured_content["task_id"]]).fetchone()
        db.close()
    assert 25 < lease_until - time.time() <= 30
