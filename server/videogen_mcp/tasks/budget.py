"""A per-provider request budget: polls are spaced evenly so many tasks never hit a provider in a burst."""

from __future__ import annotations

import math

import anyio


class RequestBudget:
    """At most `per_second` requests a second, first come first served; 0 or None means no limit.

    A request that must wait goes at a whole multiple of the spacing on the event loop's clock, so the
    budgets of several providers at the same rate release their requests together: one wake-up of the
    process sends one request to each (a wake-up from idle costs more CPU than the request it sends).
    """

    def __init__(self, per_second: float | None) -> None:
        self._spacing = 1.0 / per_second if per_second else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        """Return when this request's slot has come (at once while the provider is under budget)."""
        if not self._spacing:
            return
        now = anyio.current_time()
        slot = max(now, self._next)
        if slot > now:
            slot = on_grid(slot, self._spacing)
        self._next = slot + self._spacing
        if slot > now:
            await anyio.sleep(slot - now)


def on_grid(moment: float, step: float) -> float:
    """`moment` moved later to the next whole multiple of `step` (kept when it is one, within float error)."""
    return math.ceil(moment / step - 1e-6) * step
