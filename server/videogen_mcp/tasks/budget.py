"""A per-provider request budget: polls are spaced evenly so many tasks never hit a provider in a burst."""

from __future__ import annotations

import anyio


class RequestBudget:
    """At most `per_second` requests a second, first come first served; 0 or None means no limit."""

    def __init__(self, per_second: float | None) -> None:
        self._spacing = 1.0 / per_second if per_second else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        """Return when this request's slot has come (at once while the provider is under budget)."""
        if not self._spacing:
            return
        now = anyio.current_time()
        slot = max(now, self._next)
        self._next = slot + self._spacing
        if slot > now:
            await anyio.sleep(slot - now)
