"""Waiting on a condition instead of sleeping a fixed time."""

from __future__ import annotations

import inspect
from collections.abc import Callable

import anyio


async def until(condition: Callable[[], object], step: float = 0.002, timeout: float | None = None) -> None:
    """Return once `condition()` (or what it returns, if awaitable) is true; with a `timeout`, raise TimeoutError if
    it is not true by then."""
    with anyio.fail_after(timeout):
        while not await _value(condition()):
            await anyio.sleep(step)


async def _value(result: object) -> object:
    return await result if inspect.isawaitable(result) else result
