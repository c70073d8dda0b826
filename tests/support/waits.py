"""Waiting on a condition instead of sleeping a fixed time."""

from __future__ import annotations

from collections.abc import Callable

import anyio


async def until(condition: Callable[[], object], step: float = 0.002, timeout: float | None = None) -> None:
    """Return once `condition()` is true; with a `timeout`, raise TimeoutError if it is not true by then."""
    with anyio.fail_after(timeout):
        while not condition():
            await anyio.sleep(step)
