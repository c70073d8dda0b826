"""TaskStore: the one interface to the task database, and open_store, which picks its backend.

SQLite in DATA_DIR (the default) and PostgreSQL (VIDEOGEN_DATABASE_URL) keep the same promises: a task
is written before its provider is called and before anyone is told of a change; one process at a time
follows a task, through a lease in the database; an update never overwrites a finished task. Both
migrate their schema on open through the same numbered scheme (see MIGRATIONS in each backend).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from videogen_mcp.models import Task

if TYPE_CHECKING:
    from videogen_mcp.config import Settings
    from videogen_mcp.tasks.events import TaskEvents

#: The Task fields kept as columns, in order (resource_uri is derived from task_id).
COLUMNS = [name for name in Task.model_fields if name != "resource_uri"]
#: Task fields kept as JSON text.
JSON_COLUMNS = {"failover"}
#: The table recording which numbered migrations a database has had.
SCHEMA_VERSION_TABLE = "schema_version"
#: What a task counts against the daily budget: its cost, or while that is unknown, what it was counted at
#: (both backends; the placeholder is each driver's own).
SPENT_SINCE = "SELECT COALESCE(SUM(COALESCE(cost_usd, counted_usd)), 0) AS spent FROM tasks WHERE created_at >= {mark}"


class DuplicateTask(Exception):
    """A task with this id is already stored (a bug in this server, never the caller's doing)."""


class OverBudget(Exception):
    """An insert or charge refused because the budget would be passed; `spent` is what the window holds."""

    def __init__(self, spent: float) -> None:
        super().__init__(f"over budget: {spent} spent")
        self.spent = spent


@dataclass(frozen=True)
class Budget:
    """A cap on what tasks created since `since` (an ISO stamp) may count together, in USD."""

    cap: float
    since: str

    def check(self, spent: float, amount: float) -> None:
        """OverBudget when `amount` on top of `spent` would pass the cap (a float's last digit aside)."""
        if spent + amount > self.cap + 1e-9:
            raise OverBudget(spent)


@dataclass(frozen=True)
class LeaseState:
    """What a process watching a task another one follows needs of its row: when it last changed, whether it
    finished, and whether its lease is free (never taken, handed back, or lapsed): then it may be taken over."""

    task_id: str
    updated_at: str
    finished: bool
    free: bool


class TaskStore(Protocol):
    """Where tasks live. Every method is async and never blocks the event loop."""

    #: True when changes written by other processes arrive as events (relay_changes), so nobody needs to
    #: re-read tasks to notice them; False when other processes' changes are found only by re-reading.
    pushes_changes: bool

    async def close(self) -> None: ...

    async def insert(self, task: Task, request: dict[str, Any], owner: str | None = None,
                     lease_seconds: float = 0, *, counted_usd: float | None = None,
                     budget: Budget | None = None) -> None:
        """Write a new task, already leased to `owner`; DuplicateTask if its id is taken.

        With a `budget`, the sum of what the window's tasks count and the insert are one transaction that every
        process sharing the store takes in turn, so two calls cannot both slip under the cap: OverBudget.
        """

    async def charge(self, task_id: str, cost_usd: float | None, counted_usd: float, budget: Budget | None) -> None:
        """Set what a task costs (its provider changed on failover), checked against `budget` in one transaction
        that leaves the task's own earlier amount out: OverBudget when it would pass the cap."""

    async def spent_since(self, since: str) -> float:
        """What the tasks created since `since` count against the budget together, in USD."""

    async def claim(self, task_id: str, owner: str, seconds: float) -> bool:
        """Take or renew the lease on a task: True when `owner` now holds it for `seconds`."""

    async def renew(self, owner: str, seconds: float, task_ids: list[str]) -> set[str]:
        """Renew `owner`'s leases on these tasks; return the ids it no longer holds."""

    async def release(self, owner: str) -> None:
        """Give up every lease of `owner` (a clean shutdown)."""

    async def update(self, task: Task, owner: str | None = None) -> bool:
        """Write the task unless its row is finished or, given `owner`, leased to someone else."""

    async def cancel(self, task_id: str, error: str, updated_at: str) -> bool:
        """Mark a task cancelled with `error` as its note, unless it completed or failed (a cancelled one is
        re-noted); True when the row is now cancelled by this call."""

    async def get(self, task_id: str) -> Task | None: ...

    async def list(self, status: str | None = None, limit: int = 20) -> list[Task]:
        """Newest first (by insertion), optionally of one status."""

    async def record_ready(self, task_id: str, seconds: float) -> None: ...

    async def recent_durations(self, provider: str, model: str, duration: int,
                               limit: int) -> list[tuple[float | None, str, str]]:
        """(seconds until seen ended or None while running, created_at, status): the newest `limit` ended tasks,
        newest first, then the newest `limit` running ones."""

    async def failed_downloads(self, note_prefix: str) -> list[Task]: ...

    async def record_download(self, task_id: str, video_path: str, updated_at: str) -> bool: ...

    async def unfinished(self) -> list[Task]:
        """Queued and processing tasks, oldest first."""

    async def unfinished_ids(self) -> list[str]: ...

    async def leases(self, task_ids: list[str]) -> list[LeaseState]:
        """The LeaseState of each of these tasks still stored, in one read (a few for very many ids)."""

    async def relay_changes(self, events: TaskEvents) -> None:
        """Publish on `events`, forever, the changes other processes write; return at once if it cannot."""


@asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[TaskStore]:
    """The store VIDEOGEN_DATABASE_URL names (PostgreSQL), else SQLite at DATA_DIR/tasks.db; migrated, open."""
    store: TaskStore
    if settings.database_url:
        from videogen_mcp.tasks.postgres_store import PostgresTaskStore

        store = await PostgresTaskStore.open(settings.database_url)
    else:
        from videogen_mcp.tasks.sqlite_store import SqliteTaskStore

        store = await SqliteTaskStore.open(settings.data_dir / "tasks.db")
    try:
        yield store
    finally:
        with anyio.CancelScope(shield=True):  # closed even when the server is being cancelled
            await store.close()


async def check_store(settings: Settings) -> None:
    """Open and migrate the store once, so a bad data dir or database URL stops start-up in one line."""
    async with open_store(settings):
        pass


def column_value(task: Task, name: str) -> Any:
    """What the column `name` holds for `task` (JSON text for list fields)."""
    if name in JSON_COLUMNS:
        return json.dumps([item.model_dump() for item in getattr(task, name)])
    return getattr(task, name)


def task_from_row(row: Any) -> Task:
    """The Task a row (sqlite3.Row or a dict) holds."""
    fields = {c: json.loads(row[c]) if c in JSON_COLUMNS else row[c] for c in COLUMNS}
    return Task(**fields, resource_uri=f"task://{row['task_id']}")


def added_column(sql: str) -> str | None:
    """The column an `ALTER TABLE ... ADD COLUMN name ...` migration adds, else None."""
    found = re.search(r"\bADD\s+COLUMN\s+(\w+)", sql, re.IGNORECASE)
    return found.group(1) if found else None
