"""The real server under test: its environment over the fake providers, started over stdio or HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.fakes import FakeServer

PROVIDERS = ("wavespeed", "gptproto", "aimlapi", "myrouter")
ERAS = ("legacy", "2026-07-28")
SERVER_COMMAND = str(Path(sys.executable).with_name("videogen-mcp"))


def server_env(fake: FakeServer, data_dir: Path, providers: tuple[str, ...] = ("wavespeed",), **extra: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(data_dir),
        "VIDEOGEN_DATA_DIR": str(data_dir),
        "VIDEOGEN_POLL_INTERVAL": "0.05",
        "VIDEOGEN_POLL_MAX_INTERVAL": "0.5",
    }
    for name in providers:
        env[f"{name.upper()}_API_KEY"] = fake.api_key(name)
        env[f"{name.upper()}_BASE_URL"] = fake.base_url(name)
    env.update(extra)
    return env


@asynccontextmanager
async def stdio_client(env: dict, mode: str = "legacy", **kwargs) -> AsyncIterator[Client]:
    params = StdioServerParameters(command=SERVER_COMMAND, args=[], env=env)
    async with Client(params, mode=mode, **kwargs) as client:
        yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def http_server(env: dict, host: str = "127.0.0.1", stderr: Path | None = None) -> Iterator[str]:
    """`videogen-mcp serve --transport streamable-http` on a free port; yields its /mcp URL.

    The server's stderr goes to the file `stderr` when one is given; a server that fails to start is quoted."""
    port = free_port()
    with open(stderr or os.devnull, "w") as errlog:
        proc = subprocess.Popen(
            [SERVER_COMMAND, "serve", "--transport", "streamable-http", "--host", host, "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=errlog if stderr else subprocess.PIPE,
        )
        try:
            if not wait_for_port(port, proc):
                said = stderr.read_text() if stderr else proc.stderr.read().decode()
                raise RuntimeError(f"the server exited ({proc.returncode}): {said}")
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 20) -> bool:
    """True once `port` accepts connections; False if `proc` exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the server did not listen on port {port} within {seconds:.0f} s")


def run_cli(args: list[str], env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    """The command line as a user runs it: its exit code, stdout and stderr."""
    return subprocess.run([SERVER_COMMAND, *args], env=env, capture_output=True, text=True, timeout=timeout)
