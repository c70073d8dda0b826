"""RequestBudget: polls to one provider are spaced evenly, never sent in a burst."""

from __future__ import annotations

import anyio
import pytest

from videogen_mcp.tasks.budget import RequestBudget

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock(monkeypatch):
    """A fake clock: sleeping advances it, so the test sees each request's slot without waiting."""
    now = [1000.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr(anyio, "current_time", lambda: now[0])
    monkeypatch.setattr(anyio, "sleep", sleep)
    return now


async def test_a_burst_is_spread_at_the_budgeted_rate(clock):
    now = clock
    budget = RequestBudget(4.0)
    start, times = now[0], []
    for _ in range(5):
        await budget.wait()
        times.append(now[0] - start)
    assert times == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


async def test_a_request_under_budget_goes_at_once(clock):
    now = clock
    budget = RequestBudget(2.0)
    await budget.wait()
    now[0] += 10
    before = now[0]
    await budget.wait()
    assert now[0] == before


@pytest.mark.parametrize("rate", [None, 0.0])
async def test_no_budget_never_waits(clock, rate):
    now = clock
    budget = RequestBudget(rate)
    before = now[0]
    for _ in range(100):
        await budget.wait()
    assert now[0] == before
