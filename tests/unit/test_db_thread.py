"""DatabaseThread: calls run on one thread in order; results and errors come back; a cancelled caller waits."""

from __future__ import annotations

import threading
import time

import anyio
import pytest

from videogen_mcp.tasks.db_thread import DatabaseThread

pytestmark = pytest.mark.anyio


async def test_calls_run_on_one_other_thread_in_order_and_return_their_results():
    worker = DatabaseThread("test-db")
    seen: list[tuple[int, str]] = []

    def call(i: int) -> int:
        seen.append((i, threading.current_thread().name))
        return i * 2

    results = [await worker.run(lambda i=i: call(i)) for i in range(5)]
    worker.stop()
    assert results == [0, 2, 4, 6, 8]
    assert [i for i, _ in seen] == list(range(5))
    assert {name for _, name in seen} == {"test-db"}


async def test_an_error_raised_on_the_thread_reaches_the_caller():
    worker = DatabaseThread("test-db")

    def fail() -> None:
        raise ValueError("bad row")

    with pytest.raises(ValueError, match="bad row"):
        await worker.run(fail)
    assert await worker.run(lambda: "still serving") == "still serving"
    worker.stop()


async def test_a_cancelled_caller_still_waits_for_its_call_to_end():
    worker = DatabaseThread("test-db")
    finished = threading.Event()

    def slow_write() -> None:
        time.sleep(0.2)
        finished.set()

    with anyio.move_on_after(0.01):
        await worker.run(slow_write)
    assert finished.is_set()  # the write it started is over when the caller moves on
    worker.stop()
