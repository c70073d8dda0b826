"""Typical generation times: learned from this data dir's recent tasks, else the catalog's figure.

The catalog's times come from the providers' documentation; a provider that is faster or slower in
practice would otherwise be polled in the wrong window, so learning starts with the first finished task.
Tasks still running count too (as "longer than this so far"): otherwise, when many tasks start together,
the first few to finish (the fastest) would pass for typical, and a queue slower than the catalog says
would go unnoticed until its first task finished.

Robustness: once MIN_SAMPLES tasks finished and half the recent ones are done, the Kaplan-Meier median
is used (one outlier cannot move a median). Before that, the estimate is the most likely median of a
log-normal spread (sigma timing.SPREAD) given the finished times and the running tasks' ages, with the
catalog's time as a prior (sigma PRIOR_SPREAD in log space): one finished task moves it most of the way
(a 3x faster one to ~1.1x its own time), a lone outlier is corrected by the next finishes, and whatever it
is wrong by, the schedule's broad component (timing.py) caps what that costs. With the median goes the
spread to expect around it, wider while few tasks finished (predictive_spread).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from statistics import NormalDist

from videogen_mcp.catalog import typical_seconds
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import SPREAD, parse_time

#: Finished tasks needed before the Kaplan-Meier median is used, and how many recent tasks are looked at.
MIN_SAMPLES, RECENT = 3, 20
#: How far (log sigma) the catalog's time may be off; times spread around the median by timing.SPREAD.
PRIOR_SPREAD = 1.0
#: A running task counts as "longer than its age", its age capped at this many times the catalog's time
#: (a task stuck for days must not drag the estimate to days).
CENSOR_CAP = 4.0
#: Running tasks age, so an estimate that uses them is recomputed after this many seconds.
CACHE_SECONDS = 5.0
#: A new estimate this far (factor) from the one in-flight tasks were planned with re-plans them at once.
REPLAN_FACTOR = 1.25

Key = tuple[str, str, int]
_UNIT = NormalDist()


class TypicalTimes:
    """Estimates per provider, model and length. Reading one (get, shape) is synchronous and never touches the
    store: the poller refreshes the estimate of a task's kind before it plans a poll; an estimate not yet
    refreshed is the catalog's."""

    def __init__(self, store: TaskStore, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cache: dict[Key, tuple[float, float, datetime]] = {}

    async def refresh(self, provider: str, model: str, duration: int) -> None:
        """Re-learn this kind's estimate from the store if it is older than CACHE_SECONDS."""
        key, now = (provider, model, duration), self._clock()
        cached = self._cache.get(key)
        if cached is None or (now - cached[2]).total_seconds() > CACHE_SECONDS:
            self._cache[key] = (*await self._learn(key, now), now)

    def get(self, provider: str, model: str, duration: int) -> float:
        return self._estimate((provider, model, duration))[0]

    def shape(self, provider: str, model: str, duration: int) -> tuple[float, float]:
        """The typical time and the log spread to expect around it (timing.PollSchedule's `spread`)."""
        typical, spread, _ = self._estimate((provider, model, duration))
        return typical, spread

    def _estimate(self, key: Key) -> tuple[float, float, datetime]:
        return self._cache.get(key) or (typical_seconds(*key), SPREAD, self._clock())

    async def observed(self, provider: str, model: str, duration: int, task_id: str, seconds: float) -> bool:
        """A task was seen ready `seconds` after it was created. True when the typical time moved by more
        than REPLAN_FACTOR, so tasks of this kind in flight should be re-planned now."""
        await self.refresh(provider, model, duration)
        before = self.get(provider, model, duration)
        await self._store.record_ready(task_id, seconds)
        self._cache.pop((provider, model, duration), None)
        await self.refresh(provider, model, duration)
        after = self.get(provider, model, duration)
        return abs(math.log(after / before)) > math.log(REPLAN_FACTOR)

    async def _learn(self, key: Key, now: datetime) -> tuple[float, float]:
        catalog = typical_seconds(*key)
        rows = await self._store.recent_durations(*key, RECENT)
        finished = [seconds for seconds, _ in rows if seconds is not None]
        running = [min((now - parse_time(created)).total_seconds(), CENSOR_CAP * catalog)
                   for seconds, created in rows if seconds is None]
        running = [age for age in running if age >= min([catalog, *finished])]  # see likely_median
        median = median_time(finished, running) if len(finished) >= MIN_SAMPLES else None
        typical = median if median is not None else likely_median(finished, running, catalog)
        return typical, predictive_spread(len(finished))


def predictive_spread(finished: int) -> float:
    """The log spread of the next task's time around a median estimated from `finished` tasks: SPREAD
    widened by the estimate's own error (SPREAD/sqrt(n)). Before any finished, the catalog's time is taken at
    its word (timing.py's broad component covers it being wrong)."""
    return SPREAD * math.sqrt(1 + 1 / finished) if finished else SPREAD


def median_time(finished: list[float], running: list[float]) -> float | None:
    """The Kaplan-Meier median: running tasks only say "longer than this". None while most still run."""
    at_risk = len(finished) + len(running)
    survival = 1.0
    for time, done, in sorted([(t, True) for t in finished] + [(t, False) for t in running]):
        if done:
            survival *= 1 - 1 / at_risk
            if survival <= 0.5:
                return time
        at_risk -= 1
    return None


def likely_median(finished: list[float], running: list[float], prior: float) -> float:
    """The most likely median of log-normal times given finished times, running ages and a prior median.

    Pass only running tasks older than the first finished one or than the prior: a young task says little,
    yet many of them together would outweigh the prior and push the estimate up before anything finished.
    """
    logs = [math.log(max(t, 0.1)) for t in finished]
    ages = [math.log(t) for t in running if t > 0]
    if not logs and not ages:
        return prior
    centre, s = math.log(prior), SPREAD

    def slope(mu: float) -> float:  # derivative of the log posterior in mu; decreasing, so bisect its root
        pull = (centre - mu) / PRIOR_SPREAD**2 + sum(x - mu for x in logs) / s**2
        for age in ages:
            z = (age - mu) / s
            pull += _UNIT.pdf(z) / max(1 - _UNIT.cdf(z), 1e-300) / s  # hazard: surviving to `age` pushes mu up
        return pull

    low, high = centre - 8.0, centre + 8.0
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (mid, high) if slope(mid) > 0 else (low, mid)
    return math.exp((low + high) / 2)
