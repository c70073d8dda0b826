"""Serving over stdio: the SDK's transport, with our own stdin reader and a clean stop on SIGTERM/SIGINT.

A JSON string may carry a lone UTF-16 surrogate escape (`"\\ud800"`): JavaScript's JSON.stringify
writes one for a string cut in the middle of an emoji. The SDK's strict parser refuses such a line
and answers nothing, so the host would wait on that call forever. Lines that contain such an escape
are parsed leniently here and written back with U+FFFD in place of the lone half; every other line
passes untouched.

stdin is read by a daemon thread of our own (StdinLines), not by anyio.wrap_file: its reads run in
anyio's worker threads, which can be neither cancelled while blocked in read(0) nor left behind at
exit, so a host that keeps stdin open kept a stopped server alive. stdout is claimed as the SDK claims it
and written by StdoutPipe, from the event loop where it is a pipe, instead of two worker-thread calls per
message (thread hand-offs were most of a get_task call's cost over stdio). SIGTERM and SIGINT cancel the
server: the lifespan hands the task leases back, and the process then ends as that signal asks
(killed by SIGTERM, exit code 130 for SIGINT), as uvicorn does over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import anyio
from mcp.server import stdio as sdk_stdio
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
        with StdoutPipe.claimed() as stdout:
            async with stdio_server(stdin=StdinLines(), stdout=stdout) as (read_stream, write_stream):  # type: ignore[arg-type]
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
    the interpreter can exit while that thread is still blocked on an open, silent stdin. It hands each
    line to the event loop without waiting for it to be taken (a thread wake-up each way cost ~0.1 ms
    on a busy 2-core machine), and stops reading while LINES_AHEAD lines wait to be taken.
    """

    def __init__(self, fd: int = 0) -> None:
        self._fd = fd
        self._send, self._receive = anyio.create_memory_object_stream[str](LINES_AHEAD)
        self._room = threading.Semaphore(LINES_AHEAD)
        self._started = False

    def __aiter__(self) -> StdinLines:
        return self

    async def __anext__(self) -> str:
        if not self._started:
            self._started = True
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._read, args=(loop,), name="stdin", daemon=True).start()
        try:
            line = await self._receive.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None
        self._room.release()
        return line

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        with suppress(Exception):  # the server stopped or the event loop is gone: nobody reads these lines
            for line in _lines(self._fd):
                self._room.acquire()
                loop.call_soon_threadsafe(self._hand_over, repair_line(line))
        with suppress(Exception):
            loop.call_soon_threadsafe(self._send.close)

    def _hand_over(self, line: str) -> None:
        with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):  # the server stopped reading
            self._send.send_nowait(line)


class StdoutPipe:
    """The protocol's stdout as the SDK's transport writes it (write, then flush), one message at a time.

    The SDK's own writer runs each write and each flush on a worker thread: two thread hand-offs per
    message, each of which costs more than the rest of a get_task call on a busy 2-core machine. Here a
    pipe or socket is written from the event loop, non-blocking (waiting for room only when the host
    reads slowly); anything else (a file, a terminal) is written in one worker-thread call per message.
    """

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pending: list[str] = []
        mode = os.fstat(fd).st_mode
        self._nonblocking = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)

    @classmethod
    @contextmanager
    def claimed(cls) -> Iterator[StdoutPipe]:
        """fd 1 claimed as the SDK claims it (stray prints go to stderr), served from its private copy."""
        buffer, release = sdk_stdio._claim_fd(1, sys.stdout, "wb", sdk_stdio._open_stdout_diversion)
        pipe = cls(buffer.fileno())
        if pipe._nonblocking:
            os.set_blocking(pipe._fd, False)
        try:
            yield pipe
        finally:
            if pipe._nonblocking:
                with suppress(OSError):
                    os.set_blocking(pipe._fd, True)
            if release is not None:
                release()

    async def write(self, text: str) -> None:
        self._pending.append(text)

    async def flush(self) -> None:
        data = "".join(self._pending).encode("utf-8")
        self._pending.clear()
        if self._nonblocking:
            await self._write_from_loop(memoryview(data))
        else:
            await anyio.to_thread.run_sync(self._write_blocking, data)

    async def _write_from_loop(self, data: memoryview) -> None:
        while data:
            try:
                data = data[os.write(self._fd, data):]
            except BlockingIOError:
                await anyio.wait_writable(self._fd)

    def _write_blocking(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view):]


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
