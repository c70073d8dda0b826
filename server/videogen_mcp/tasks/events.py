"""Change events of tasks: waiters wake on them, and listeners (MCP notifications) are told of them."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

log = logging.getLogger(__name__)

Listener = Callable[[str, bool], Awaitable[None]]


class TaskEvents:
    """Per-task wake-ups plus a fan-out to listeners, which must be quick (they only queue work)."""

    def __init__(self) -> None:
        self._events: dict[str, anyio.Event] = {}
        self._listeners: list[Listener] = []

    def watch(self, task_id: str) -> anyio.Event:
        """An event set at the next change of the task. Take it before reading the task, then wait."""
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
