"""StdinLines and StdoutPipe: every line in order, a slow reader of stdout waited for, not lost; and the SDK
pieces StdoutPipe reuses to claim fd 1 are still where it looks for them."""

from __future__ import annotations

import inspect
import os
import threading

import anyio
import pytest
from mcp.server import stdio as sdk_stdio

from videogen_mcp.stdio import LINES_AHEAD, StdinLines, StdoutPipe

pytestmark = pytest.mark.anyio


async def test_stdin_lines_arrive_in_order_past_the_read_ahead_and_end_at_eof():
    read_end, write_end = os.pipe()
    count = LINES_AHEAD * 4
    lines = [f'{{"id":{i}}}\n' for i in range(count)]

    def feed() -> None:
        with os.fdopen(write_end, "w") as out:
            out.writelines(lines)

    threading.Thread(target=feed, daemon=True).start()
    got = []
    with anyio.fail_after(10):
        async for line in StdinLines(read_end):
            got.append(line)
            if len(got) == 1:
                await anyio.sleep(0.2)  # a slow taker: the reader stops at LINES_AHEAD and goes on later
    os.close(read_end)
    assert got == lines


async def test_a_pipe_is_written_whole_even_when_the_reader_is_slow():
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    message = "x" * (1 << 20) + "\n"  # far more than a pipe holds
    received = bytearray()

    def drain() -> None:
        while chunk := os.read(read_end, 1 << 16):
            received.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    pipe = StdoutPipe(write_end)
    with anyio.fail_after(10):
        await pipe.write(message)
        await pipe.flush()
        await pipe.write("second\n")
        await pipe.flush()
    os.close(write_end)
    reader.join(5)
    assert received.decode() == message + "second\n"
    os.close(read_end)


async def test_a_regular_file_is_written_with_blocking_writes(tmp_path):
    with (tmp_path / "out").open("wb") as file:
        pipe = StdoutPipe(file.fileno())
        await pipe.write('{"a":1}')
        await pipe.write("\n")
        await pipe.flush()
    assert (tmp_path / "out").read_text() == '{"a":1}\n'


def test_the_sdk_still_claims_fd_1_through_the_pieces_stdout_pipe_reuses():
    assert list(inspect.signature(sdk_stdio._claim_fd).parameters) == ["fd", "stream", "mode", "open_diversion"]
    assert callable(sdk_stdio._open_stdout_diversion)
    assert "stdout: anyio.AsyncFile[str] | None = None" in inspect.getsource(sdk_stdio.stdio_server)
