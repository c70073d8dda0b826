"""Serving over stdio: the SDK's transport, with our own stdin reader and a clean stop on SIGTERM/SIGINT.

A JSON string may carry a lone UTF-16 surrogate escape (`"\\ud800"`): JavaScript's JSON.stringify
writes one for a string cut in the middle of an emoji. The SDK's strict parser refuses such a line
and answers nothing, so the host would wait on that call forever. Lines that contain such an escape
are parsed leniently here and written back with U+FFFD in place of the lone half; every other line
passes untouched.

stdin is read by a daemon thread of our own (StdinLines), not by anyio.wrap_file: its reads run in
anyio's worker threads, which can be neither cancelled while blocked in read(0) nor left behind at
exit, so a host that keeps stdin open kept a stopped server alive. SIGTERM and SIGINT cancel the
server: the lifespan hands the task leases back, and the process then ends as that signal asks
(killed by SIGTERM, exit code 130 for SIGINT), as uvicorn does over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import anyio
from anyio.lowlevel import EventLoopToken, current_token
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server

#: A cheap test for a surrogate escape of either half; only such lines are re-encoded.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
#: Bytes per read(2) of stdin, and lines read ahead of the server.
READ_SIZE = 1 << 16
LINES_AHEAD = 16


def run_stdio(server: MCPServer) -> None:
    stopped_by = anyio.run(_serve, server)
    if stopped_by is not None:  # cleaned up; now end the way the signal asks (its handler is the default again)
        signal.raise_signal(stopped_by)


async def _serve(server: MCPServer) -> int | None:
    """Serve until stdin ends (None) or a stop signal arrives (its number)."""
    stopped_by: list[int] = []
    low = server._lowlevel_server  # the same call MCPServer.run_stdio_async makes, with our stdin
    async with anyio.create_task_group() as group:
        group.start_soon(_stop_on_signal, group.cancel_scope, stopped_by)
        async with stdio_server(stdin=StdinLines()) as (read_stream, write_stream):  # type: ignore[arg-type]
            await low.run(read_stream, write_stream, low.create_initialization_options())
        group.cancel_scope.cancel()
    return stopped_by[0] if stopped_by else None


async def _stop_on_signal(scope: anyio.CancelScope, stopped_by: list[int]) -> None:
    with anyio.open_signal_receiver(*STOP_SIGNALS) as signals:
        async for signum in signals:
            stopped_by.append(signum)
            scope.cancel()
            return


class StdinLines:
    """The lines of stdin (lone surrogates repaired) as the async iterator the SDK's transport reads.

    A daemon thread reads the descriptor with os.read, which holds no lock of a Python file object, so
    the interpreter can exit while that thread is still blocked on an open, silent stdin.
    """

    def __init__(self, fd: int = 0) -> None:
        self._fd = fd
        self._send, self._receive = anyio.create_memory_object_stream[str](LINES_AHEAD)
        self._started = False

    def __aiter__(self) -> StdinLines:
        return self

    async def __anext__(self) -> str:
        if not self._started:
            self._started = True
            threading.Thread(target=self._read, args=(current_token(),), name="stdin", daemon=True).start()
        try:
            return await self._receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    def _read(self, token: EventLoopToken) -> None:
        with suppress(Exception):  # the server stopped: nobody reads these lines any more
            for line in _lines(self._fd):
                anyio.from_thread.run(self._send.send, repair_line(line), token=token)
        with suppress(Exception):  # the event loop may be gone already
            anyio.from_thread.run_sync(self._send.close, token=token)


def _lines(fd: int) -> Iterator[str]:
    """Yield each line read from `fd`, decoded as UTF-8 (bad bytes replaced), up to end of file."""
    pending = bytearray()
    while chunk := os.read(fd, READ_SIZE):
        start = len(pending)
        pending += chunk
        end = pending.find(b"\n", start)
        while end != -1:
            yield pending[:end + 1].decode("utf-8", "replace")
            del pending[:end + 1]
            end = pending.find(b"\n")
    if pending:
        yield pending.decode("utf-8", "replace")


def repair_line(line: str) -> str:
    if not SURROGATE_ESCAPE.search(line):
        return line
    try:
        message = json.loads(line)
    except ValueError:
        return line  # not JSON at all: the SDK reports it as it always does
    return json.dumps(_repaired(message), ensure_ascii=False) + "\n"


def _repaired(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    if isinstance(value, dict):
        return {_repaired(k): _repaired(v) for k, v in value.items()}
    return value
