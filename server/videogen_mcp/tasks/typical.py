"""Typical generation times: learned from this data dir's recent tasks, else the catalog's figure.

The catalog's times come from the providers' documentation; a provider that is faster or slower in
practice would otherwise be polled in the wrong window. Once a few tasks of a provider, model and
length have finished, the median time of the newest ones is used instead. Tasks still running count
too (as "longer than this so far", a Kaplan-Meier estimate): otherwise, when many tasks start
together, the first few to finish (the fastest) would pass for typical.
"""

from __future__ import annotations

from datetime import UTC, datetime

from videogen_mcp.catalog import typical_seconds
from videogen_mcp.tasks.store import TaskStore
from videogen_mcp.tasks.timing import parse_time

#: Finished tasks needed before the learned time replaces the catalog's, and how many are looked at.
MIN_SAMPLES, RECENT = 3, 20

Key = tuple[str, str, int]


class TypicalTimes:
    def __init__(self, store: TaskStore) -> None:
        self._store = store
        self._cache: dict[Key, float] = {}

    async def get(self, provider: str, model: str, duration: int) -> float:
        key = (provider, model, duration)
        if key not in self._cache:
            self._cache[key] = await self._learn(key)
        return self._cache[key]

    async def observed(self, provider: str, model: str, duration: int, task_id: str, seconds: float) -> None:
        """A task was seen ready `seconds` after it was created."""
        await self._store.record_ready(task_id, seconds)
        self._cache.pop((provider, model, duration), None)

    async def _learn(self, key: Key) -> float:
        now = datetime.now(UTC)
        rows = await self._store.recent_durations(*key, RECENT)
        finished = [seconds for seconds, _ in rows if seconds is not None]
        running = [(now - parse_time(created)).total_seconds() for seconds, created in rows if seconds is None]
        median = median_time(finished, running) if len(finished) >= MIN_SAMPLES else None
        return median if median is not None else typical_seconds(*key)


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
