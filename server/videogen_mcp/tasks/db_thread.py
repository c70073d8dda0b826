"""DatabaseThread: one long-lived thread that runs a store's blocking database calls, one at a time, in order.

The event loop hands each call over on a queue and awaits an asyncio future that the thread settles through
call_soon_threadsafe. That is about half the cost of anyio.to_thread.run_sync per call (which takes a limiter,
picks a pooled worker and wraps each result), and a get_task pays it once. Like to_thread.run_sync, a caller
cancelled while its call runs still waits for the call to end, so a write it started is never left unreported.
Needs the asyncio backend (anyio's default, the one the server runs on).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from contextlib import suppress
from typing import Any, TypeVar

import anyio

T = TypeVar("T")
#: What the queue carries: a call, the loop to answer on and the future to settle; None stops the thread.
Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, asyncio.Future] | None


class DatabaseThread:
    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Job] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    async def run(self, work: Callable[[], T]) -> T:
        """`work()` on the thread; its result or its exception here."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
            self._thread.start()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        self._jobs.put((work, loop, done))
        with anyio.CancelScope(shield=True):
            return await done

    def stop(self) -> None:
        """End the thread once the calls handed over before this one are done."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            work, loop, done = job
            try:
                result, error = work(), None
            except BaseException as exc:  # handed to the caller, whatever it is
                result, error = None, exc
            with suppress(RuntimeError):  # a closed loop: nobody waits for this any more
                loop.call_soon_threadsafe(_settle, done, result, error)


def _settle(done: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)
