"""Typical generation times: learned from this data dir's recent tasks, else the catalog's figure.

The catalog's times come from the providers' documentation; a provider that is faster or slower in
practice would otherwise be polled in the wrong window, so learning starts with the first finished task.
Tasks still running count too (as "longer than this so far"): otherwise, when many tasks start together,
the first few to finish (the fastest) would pass for typical, and a queue slower than the catalog says
would go unnoticed until its first task finished.

Robustness: once MIN_SAMPLES tasks finished and half the recent ones are done, the Kaplan-Meier median
is used (one outlier cannot move a median), with the spread to expect around it (predictive_spread). Before
that, a posterior over the median on a grid (posterior_medians): the catalog's time as a prior (right within
PRIOR_SPREAD_RIGHT with chance PRIOR_RIGHT, else off by anything), finished times contributing timing.py's
body and broad densities, running tasks their chance to run past their age. The schedule polls by the mixture
of QUANTILES equally likely medians, so it is dense where the median may be, not only at one best guess.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from statistics import NormalDist

from videogen_mcp.catalog import typical_seconds
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import BROAD_SPREAD, BROAD_WEIGHT, FAILURE, SPREAD, Medians, parse_time

#: Finished tasks needed before the Kaplan-Meier median is used, and how many recent tasks are looked at.
MIN_SAMPLES, RECENT = 3, 20
#: How far (log sigma) the catalog's time may be off when it is off; times spread around the median by timing.SPREAD.
PRIOR_SPREAD = 1.0
#: A running task counts as "longer than its age", its age capped at this many times the catalog's time
#: (a task stuck for days must not drag the estimate to days).
CENSOR_CAP = 4.0
#: The prior over the log-median: the catalog's time is right (log spread PRIOR_SPREAD_RIGHT) with this chance,
#: else off by anything (PRIOR_SPREAD). The posterior is computed on GRID log-medians and handed to the schedule
#: as QUANTILES equally likely medians.
PRIOR_RIGHT, PRIOR_SPREAD_RIGHT = 0.8, 0.1
GRID, QUANTILES = 161, 9
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
        self._cache: dict[Key, tuple[float, float, Medians, datetime]] = {}

    async def refresh(self, provider: str, model: str, duration: int) -> None:
        """Re-learn this kind's estimate from the store if it is older than CACHE_SECONDS."""
        key, now = (provider, model, duration), self._clock()
        cached = self._cache.get(key)
        if cached is None or (now - cached[3]).total_seconds() > CACHE_SECONDS:
            self._cache[key] = (*await self._learn(key, now), now)

    def get(self, provider: str, model: str, duration: int) -> float:
        return self._estimate((provider, model, duration))[0]

    def shape(self, provider: str, model: str, duration: int) -> tuple[float, float]:
        """The typical time and the log spread to expect around it (timing.PollSchedule's `spread`)."""
        typical, spread, _, _ = self._estimate((provider, model, duration))
        return typical, spread

    def medians(self, provider: str, model: str, duration: int) -> Medians:
        """Equally likely typical times (timing.PollSchedule's `medians`); empty: only the typical time."""
        return self._estimate((provider, model, duration))[2]

    def _estimate(self, key: Key) -> tuple[float, float, Medians, datetime]:
        return self._cache.get(key) or (typical_seconds(*key), SPREAD, (), self._clock())

    async def observed(self, provider: str, model: str, duration: int, task_id: str, seconds: float) -> bool:
        """A task was seen ready `seconds` after it was created. True when the typical time (or the posterior's
        shortest median: a fast finish) moved by more than REPLAN_FACTOR, so tasks in flight should re-plan now."""
        await self.refresh(provider, model, duration)
        before = self._estimate((provider, model, duration))
        await self._store.record_ready(task_id, seconds)
        self._cache.pop((provider, model, duration), None)
        await self.refresh(provider, model, duration)
        after = self._estimate((provider, model, duration))
        pairs = [(before[0], after[0])] + ([(before[2][0], after[2][0])] if before[2] and after[2] else [])
        return any(abs(math.log(new / old)) > math.log(REPLAN_FACTOR) for old, new in pairs)

    async def _learn(self, key: Key, now: datetime) -> tuple[float, float, Medians]:
        catalog = typical_seconds(*key)
        rows = await self._store.recent_durations(*key, RECENT)
        finished = [seconds for seconds, _ in rows if seconds is not None]
        running = [min((now - parse_time(created)).total_seconds(), CENSOR_CAP * catalog)
                   for seconds, created in rows if seconds is None]
        median = median_time(finished, running) if len(finished) >= MIN_SAMPLES else None
        if median is not None:
            return median, predictive_spread(len(finished)), ()
        if not finished and not running:
            return catalog, SPREAD, ()
        medians = posterior_medians(finished, running, catalog)
        return medians[len(medians) // 2], SPREAD, medians


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


def posterior_medians(finished: list[float], running: list[float], prior: float) -> Medians:
    """QUANTILES equally likely medians, from the posterior over the log-median on a grid.

    Prior: the catalog's time is right (PRIOR_RIGHT, within PRIOR_SPREAD_RIGHT) or off by anything
    (PRIOR_SPREAD). A finished time contributes the density of timing.py's body and broad components at it,
    a running task their chance to run longer than its age: the same model the schedule polls by.
    """
    centre = math.log(prior)
    grid = [centre + PRIOR_SPREAD * (8 * i / (GRID - 1) - 4) for i in range(GRID)]
    logs = [math.log(max(t, 0.1)) for t in finished]
    ages = [math.log(t) for t in running if t > 0]
    body = 1 - FAILURE[0] - BROAD_WEIGHT
    shares = ((body / (1 - FAILURE[0]), SPREAD), (BROAD_WEIGHT / (1 - FAILURE[0]), BROAD_SPREAD))
    weights = []
    for mu in grid:
        z = (mu - centre) / PRIOR_SPREAD_RIGHT
        right = PRIOR_RIGHT * math.exp(-z * z / 2) / PRIOR_SPREAD_RIGHT
        z = (mu - centre) / PRIOR_SPREAD
        log_weight = math.log(right + (1 - PRIOR_RIGHT) * math.exp(-z * z / 2) / PRIOR_SPREAD + 1e-300)
        for x in logs:
            log_weight += math.log(sum(w * _UNIT.pdf((x - mu) / s) / s for w, s in shares) + 1e-300)
        for age in ages:
            log_weight += math.log(sum(w * (1 - _UNIT.cdf((age - mu) / s)) for w, s in shares) + 1e-300)
        weights.append(log_weight)
    top = max(weights)
    weights = [math.exp(w - top) for w in weights]
    total, cumulative, medians = sum(weights), 0.0, []
    for mu, weight in zip(grid, weights, strict=True):
        cumulative += weight / total
        while len(medians) < QUANTILES and cumulative >= (len(medians) + 0.5) / QUANTILES:
            medians.append(math.exp(mu))
    return tuple(medians)
