"""Typical generation times: learned from this data dir's recent tasks, else the catalog's figure.

The catalog's times come from the providers' documentation; a provider that is faster or slower in
practice would otherwise be polled in the wrong window. Once a few tasks of a provider, model and
length have finished, the median of the newest ones is used instead.
"""

from __future__ import annotations

import statistics

from videogen_mcp.catalog import typical_seconds
from videogen_mcp.tasks.store import TaskStore

#: Finished tasks needed before the learned time replaces the catalog's, and how many are looked at.
MIN_SAMPLES, RECENT = 3, 20

Key = tuple[str, str, int]


class TypicalTimes:
    def __init__(self, store: TaskStore) -> None:
        self._store = store
        self._cache: dict[Key, float] = {}

    def get(self, provider: str, model: str, duration: int) -> float:
        key = (provider, model, duration)
        if key not in self._cache:
            self._cache[key] = self._learn(key)
        return self._cache[key]

    def observed(self, provider: str, model: str, duration: int, task_id: str, seconds: float) -> None:
        """A task was seen ready `seconds` after it was created."""
        self._store.record_ready(task_id, seconds)
        self._cache.pop((provider, model, duration), None)

    def _learn(self, key: Key) -> float:
        recent = self._store.recent_ready_seconds(*key, RECENT)
        if len(recent) < MIN_SAMPLES:
            return typical_seconds(*key)
        return statistics.median(recent)
