"""Typical generation times: learned from this data dir's recent tasks, else the catalog's figure.

The catalog's times come from the providers' documentation; a provider that is faster or slower in
practice would otherwise be polled in the wrong window, so learning starts with the first finished task.
Tasks still running count too (as "longer than this so far"): otherwise, when many tasks start together,
the first few to finish (the fastest) would pass for typical, and a queue slower than the catalog says
would go unnoticed until its first task finished.

The estimate is a posterior over the median on a grid (posterior_medians): the catalog's time as a prior
(right within PRIOR_SPREAD_RIGHT with chance PRIOR_RIGHT, else off by anything), finished times contributing
the body's density (or, with OUTLIER's share, an outlier's: one outlier cannot move it far), running tasks
their chance to run past their age; the body's log spread is learned with the median (SPREADS), from the
first finished task on to the RECENT-th. The schedule polls by the mixture of QUANTILES equally likely
(median, spread) pairs, so it is dense where the median may be, not only at one best guess. The share of early
failures (timing.FAILURE) is learned too (failure_weight): failures seen count for it, tasks that outlived
their first seconds against it; and so is the broad component's (broad_weight): finished tasks that fit the
body count against it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from statistics import NormalDist

from videogen_mcp.catalog import typical_seconds
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import BROAD_SPREAD, BROAD_WEIGHT, FAILURE, SPREAD, Estimate, Medians, parse_time

#: How many recent finished tasks (and, apart, running ones) are looked at.
RECENT = 20
#: How far (log sigma) the catalog's time may be off when it is off; times spread around the median by timing.SPREAD.
PRIOR_SPREAD = 1.0
#: A running task counts as "longer than its age", its age capped at this many times the catalog's time
#: (a task stuck for days must not drag the estimate to days).
CENSOR_CAP = 4.0
#: The prior over the log-median: the catalog's time is right (log spread PRIOR_SPREAD_RIGHT) with this chance,
#: else off by anything (PRIOR_SPREAD). The posterior is computed on GRID log-medians and handed to the schedule
#: as QUANTILES equally likely medians.
PRIOR_RIGHT, PRIOR_SPREAD_RIGHT = 0.6, 0.1
GRID, QUANTILES = 161, 9
#: Log spreads the body may have, with their prior chances, and the share of finished or running tasks
#: that follow the broad component instead (a task far from the others must not move the estimate alone).
SPREADS = ((0.1, 0.25), (0.2, 0.5), (0.35, 0.25))
OUTLIER = 0.05
#: The early-failure share is learned (failure_weight) from a prior worth this many tasks; a failure seen
#: this many seconds after submit counts as early; a move by this factor re-plans the tasks in flight.
FAIL_PRIOR, EARLY_FAILURE, FAIL_REPLAN = 5.0, 30.0, 1.5
#: The broad component's share (timing.BROAD_WEIGHT a priori) is learned from a prior worth this many tasks.
BROAD_PRIOR = 3.0
#: Running tasks age, so an estimate that uses them is recomputed after this many seconds.
CACHE_SECONDS = 5.0
#: A new estimate this far (factor) from the one in-flight tasks were planned with re-plans them at once.
REPLAN_FACTOR = 1.25
#: ... and so does one that makes a job of the finished task's age this much likelier to end now (its peers
#: started with it are that old: a batch's first finishes make the rest due).
REPLAN_HAZARD = 1.25

Key = tuple[str, str, int]


_UNIT = NormalDist()
_ROOT_2, _ROOT_2PI = math.sqrt(2), math.sqrt(2 * math.pi)


class TypicalTimes:
    """Estimates per provider, model and length. Reading one (get, estimate) is synchronous and never touches the
    store: the poller refreshes the estimate of a task's kind before it plans a poll; an estimate not yet
    refreshed is the catalog's."""

    def __init__(self, store: TaskStore, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._clock = clock or (lambda: datetime.now(UTC))
        self._cache: dict[Key, tuple[Estimate, datetime]] = {}

    async def refresh(self, provider: str, model: str, duration: int) -> None:
        """Re-learn this kind's estimate from the store if it is older than CACHE_SECONDS."""
        key, now = (provider, model, duration), self._clock()
        cached = self._cache.get(key)
        if cached is None or (now - cached[1]).total_seconds() > CACHE_SECONDS:
            self._cache[key] = (await self._learn(key, now), now)

    def get(self, provider: str, model: str, duration: int) -> float:
        return self.estimate(provider, model, duration).typical

    def estimate(self, provider: str, model: str, duration: int) -> Estimate:
        """Everything the poll schedule needs about this kind, as last refreshed (else the catalog's)."""
        cached = self._cache.get((provider, model, duration))
        return cached[0] if cached else Estimate(typical_seconds(provider, model, duration))

    async def observed(self, provider: str, model: str, duration: int, task_id: str, seconds: float) -> bool:
        """A task was seen ended (ready, or failed by its provider) `seconds` after it was created. True when the
        estimate moved enough that tasks in flight should re-plan now: the typical time or the posterior's shortest
        median by REPLAN_FACTOR, the hazard at that age by REPLAN_HAZARD, or the early-failure share by FAIL_REPLAN."""
        key = (provider, model, duration)
        await self.refresh(*key)
        before = self.estimate(*key)
        await self._store.record_ready(task_id, seconds)
        self._cache.pop(key, None)
        await self.refresh(*key)
        after = self.estimate(*key)
        pairs = [(before.typical, after.typical)]
        pairs += [(before.medians[0][0], after.medians[0][0])] if before.medians and after.medians else []
        moved = any(abs(math.log(new / old)) > math.log(REPLAN_FACTOR) for old, new in pairs)
        denser = after.hazard(seconds) > REPLAN_HAZARD * before.hazard(seconds)  # peers of that age: due sooner
        return moved or denser or abs(math.log(after.fail_weight / before.fail_weight)) > math.log(FAIL_REPLAN)

    async def _learn(self, key: Key, now: datetime) -> Estimate:
        catalog = typical_seconds(*key)
        rows = await self._store.recent_durations(*key, RECENT)
        finished = [seconds for seconds, _, status in rows if seconds is not None and status != "failed"]
        failed = [seconds for seconds, _, status in rows if seconds is not None and status == "failed"]
        running = [min((now - parse_time(created)).total_seconds(), CENSOR_CAP * catalog)
                   for seconds, created, _ in rows if seconds is None]
        fail_weight = failure_weight(failed, len(finished), running)
        if not finished and not running:
            return Estimate(catalog, SPREAD, (), fail_weight)
        medians = posterior_medians(finished, running, catalog)
        median, spread = medians[len(medians) // 2]
        return Estimate(median, spread, medians, fail_weight, broad_weight(finished, medians, median))


def failure_weight(failed: list[float], completed: int, running: list[float]) -> float:
    """The posterior mean of the share of jobs a provider fails within seconds (timing.FAILURE's weight), on a
    grid, from a Beta prior with that weight as its mean (FAIL_PRIOR tasks' worth): a failure seen before
    EARLY_FAILURE s counts for it, a completed task or a later failure against it, and a task still running at
    age a against it by the chance an early failure would have come by then. So the first seconds of a kind
    that never fails early are probed less once its tasks have outlived them, and failures are learned."""
    prior, median, spread = FAILURE
    early = sum(1 for seconds in failed if seconds <= EARLY_FAILURE)
    late = completed + len(failed) - early
    reached = [_UNIT.cdf(math.log(max(age, 0.1) / median) / spread) for age in running]
    total = weighted = 0.0
    for i in range(1, 100):
        w = i / 100
        like = (FAIL_PRIOR * prior - 1 + early) * math.log(w) + (FAIL_PRIOR * (1 - prior) - 1 + late) * math.log(1 - w)
        like += sum(math.log(1 - w * r) for r in reached)
        total, weighted = total + math.exp(like), weighted + w * math.exp(like)
    return weighted / total


def broad_weight(finished: list[float], medians: Medians, typical: float) -> float:
    """The broad component's share (timing.BROAD_WEIGHT a priori, worth BROAD_PRIOR tasks), one EM step: each
    finished task counts for it by the chance it came from the broad component rather than the body (the
    mixture of `medians`). So the hedge against a typical time wrong by a large factor fades as tasks finish
    where the body says, and stays while they do not."""
    counted = 0.0
    for seconds in finished:
        x = math.log(max(seconds, 0.1))
        broad = BROAD_WEIGHT * _UNIT.pdf((x - math.log(typical)) / BROAD_SPREAD) / BROAD_SPREAD
        body = (1 - BROAD_WEIGHT) * sum(_UNIT.pdf((x - math.log(m)) / s) / s for m, s in medians) / len(medians)
        counted += broad / (broad + body + 1e-300)
    return (BROAD_PRIOR * BROAD_WEIGHT + counted) / (BROAD_PRIOR + len(finished))


def posterior_medians(finished: list[float], running: list[float], prior: float) -> Medians:
    """QUANTILES equally likely (median, log spread) pairs, from the posterior over both on a grid.

    Prior: the catalog's time is right (PRIOR_RIGHT, within PRIOR_SPREAD_RIGHT) or off by anything
    (PRIOR_SPREAD); the spread is one of SPREADS. A finished time contributes the density of the body (or,
    with OUTLIER's share, the broad component) at it, a running task its chance to run longer than its age.
    Learning the spread matters when many tasks run together: twenty tasks still running at 40 s rule out
    a 50-s median if times spread by 0.2 around it, not if they spread by 0.1; and a batch whose finishes
    spread widely is not polled as if the next were due any second.
    """
    centre = math.log(prior)
    grid = [centre + PRIOR_SPREAD * (8 * i / (GRID - 1) - 4) for i in range(GRID)]
    logs = [math.log(max(t, 0.1)) for t in finished]
    ages = Counter(round(math.log(t), 2) for t in running if t > 0)  # a batch started together: a few ages
    rows = []
    for mu in grid:
        z = (mu - centre) / PRIOR_SPREAD_RIGHT
        right = PRIOR_RIGHT * math.exp(-z * z / 2) / PRIOR_SPREAD_RIGHT
        z = (mu - centre) / PRIOR_SPREAD
        prior_weight = math.log(right + (1 - PRIOR_RIGHT) * math.exp(-z * z / 2) / PRIOR_SPREAD + 1e-300)
        rows.append([prior_weight + math.log(share) + _likelihood(mu, spread, logs, ages)
                     for spread, share in SPREADS])
    top = max(max(row) for row in rows)
    rows = [[math.exp(w - top) for w in row] for row in rows]
    total, cumulative, medians = sum(map(sum, rows)), 0.0, []
    for mu, row in zip(grid, rows, strict=True):
        cumulative += sum(row) / total
        while len(medians) < QUANTILES and cumulative >= (len(medians) + 0.5) / QUANTILES:
            spread = math.sqrt(sum(w * s * s for w, (s, _) in zip(row, SPREADS, strict=True)) / (sum(row) or 1))
            medians.append((math.exp(mu), spread or SPREAD))
    return tuple(medians)


def _likelihood(mu: float, spread: float, logs: list[float], ages: Counter[float]) -> float:
    """Log-likelihood of finished log-times and running log-ages (with how many run at each) for a body at
    (mu, spread)."""
    body, broad = (1 - OUTLIER) / (spread * _ROOT_2PI), OUTLIER / (BROAD_SPREAD * _ROOT_2PI)
    total = 0.0
    for x in logs:
        z, w = (x - mu) / spread, (x - mu) / BROAD_SPREAD
        total += math.log(body * math.exp(-z * z / 2) + broad * math.exp(-w * w / 2) + 1e-300)
    for age, count in ages.items():
        z, w = (age - mu) / (spread * _ROOT_2), (age - mu) / (BROAD_SPREAD * _ROOT_2)
        total += count * math.log(((1 - OUTLIER) * math.erfc(z) + OUTLIER * math.erfc(w)) / 2 + 1e-300)
    return total
