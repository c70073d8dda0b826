"""RequestBudget: polls to one provider are spaced evenly, never sent in a burst."""

from __future__ import annotations

import anyio
import pytest

from videogen_mcp.tasks.budget import RequestBudget, on_grid

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


async def test_a_request_that_waits_goes_on_the_spacing_grid_so_budgets_at_one_rate_release_together(clock):
    now = clock
    now[0] = 1000.03
    first, second = RequestBudget(20.0), RequestBudget(20.0)
    await first.wait()  # under budget: at once, off the grid
    assert now[0] == pytest.approx(1000.03)
    now[0] = 1000.04
    await second.wait()
    times = []
    for budget in (first, second):
        before = now[0]
        await budget.wait()
        times.append(now[0])
        now[0] = before
    assert times == pytest.approx([1000.1, 1000.1])  # both at the next multiple of 0.05 past their slot


def test_on_grid_keeps_a_multiple_and_moves_anything_else_later():
    assert on_grid(1000.05, 0.05) == pytest.approx(1000.05)
    assert on_grid(1000.051, 0.05) == pytest.approx(1000.1)
    assert on_grid(0.0, 0.05) == 0.0
