"""Change events of tasks: waiters wake on them, and listeners (MCP notifications) are told of them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import anyio

log = logging.getLogger(__name__)

Listener = Callable[[str, bool], Awaitable[None]]


class TaskEvents:
    """Per-task wake-ups plus a fan-out to listeners, which must be quick (they only queue work)."""

    def __init__(self) -> None:
        self._events: dict[str, anyio.Event] = {}
        self._watchers: dict[str, int] = {}
        self._listeners: list[Listener] = []

    @contextmanager
    def watching(self, task_id: str) -> Iterator[Callable[[], anyio.Event]]:
        """Yields next_change(): an event set at the task's next change. Take it before reading the task.

        The per-task state is dropped when the last watcher leaves, so finished waits leave nothing behind.
        """
        self._watchers[task_id] = self._watchers.get(task_id, 0) + 1
        try:
            yield lambda: self._next_change(task_id)
        finally:
            self._watchers[task_id] -= 1
            if not self._watchers[task_id]:
                del self._watchers[task_id]
                self._events.pop(task_id, None)

    @property
    def watched(self) -> frozenset[str]:
        """The tasks someone waits on, or with a wake-up still pending: empty once every wait is over."""
        return frozenset(self._watchers.keys() | self._events.keys())

    def _next_change(self, task_id: str) -> anyio.Event:
        event = self._events.get(task_id)
        if event is None:
            event = self._events[task_id] = anyio.Event()
        return event

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def publish(self, task_id: str, created: bool = False) -> None:
        event = self._events.pop(task_id, None)
        if event is not None:
            event.set()
        for listener in self._listeners:
            try:
                await listener(task_id, created)
            except Exception:  # a broken listener must never stop the poller
                log.exception("task change listener failed")
