"""Start-up cost of the stdio server: time to a completed handshake and to tools/list, and its memory.

Spawns `videogen-mcp` as an MCP host would, several times, on an empty data dir with no keys.
Run: python benchmarks/startup.py [runs]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters

COMMAND = str(Path(sys.executable).with_name("videogen-mcp"))


def resident_kb(data_dir: str) -> int | None:
    """VmRSS of the process whose environment names `data_dir` (Linux only)."""
    marker = f"VIDEOGEN_DATA_DIR={data_dir}".encode()
    for entry in filter(str.isdigit, os.listdir("/proc") if os.path.isdir("/proc") else []):
        try:
            if marker in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                status = Path(f"/proc/{entry}/status").read_text()
                return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
        except (OSError, StopIteration):
            continue
    return None


async def one_run() -> tuple[float, float, int | None]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {"PATH": os.environ["PATH"], "HOME": data_dir, "VIDEOGEN_DATA_DIR": data_dir}
        started = time.perf_counter()
        async with Client(StdioServerParameters(command=COMMAND, args=[], env=env), mode="legacy") as client:
            ready = time.perf_counter() - started
            await client.list_tools()
            listed = time.perf_counter() - started
            memory = resident_kb(data_dir)
    return ready, listed, memory


async def main(runs: int) -> None:
    results = [await one_run() for _ in range(runs)]
    ready = statistics.median(r for r, _, _ in results)
    listed = statistics.median(t for _, t, _ in results)
    memory = [m for _, _, m in results if m]
    print(f"{runs} runs of {COMMAND}")
    print(f"handshake done   median {ready * 1000:6.0f} ms")
    print(f"tools/list done  median {listed * 1000:6.0f} ms")
    if memory:
        print(f"resident memory  median {statistics.median(memory) / 1024:6.1f} MB")


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 5)
