"""A real stdio server whose stderr goes to a file, and a look at its process in /proc (memory, liveness)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.support.servers import SERVER_COMMAND


@asynccontextmanager
async def observed_client(env: dict, stderr_path: Path, mode: str = "legacy", *, command: str = SERVER_COMMAND,
                          args: list[str] | None = None, **kwargs) -> AsyncIterator[Client]:
    """Like servers.stdio_client, but everything the server writes to stderr lands in `stderr_path`."""
    params = StdioServerParameters(command=command, args=args or [], env=env)
    with stderr_path.open("a", encoding="utf-8") as errlog:
        async with Client(stdio_client(params, errlog=errlog), mode=mode, **kwargs) as client:
            yield client


def server_pids(data_dir: Path) -> list[int]:
    """Processes whose environment names this data dir: the server(s) under test."""
    marker = f"VIDEOGEN_DATA_DIR={data_dir}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/environ", "rb") as env:
                    if marker in env.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def status_kb(pid: int, field: str) -> int:
    """A memory figure (VmHWM, VmRSS, ...) of a process, in kB, from /proc/<pid>/status."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in status)
    except OSError:
        return False
