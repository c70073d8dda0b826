"""SqliteTaskStore: tasks in SQLite (WAL) at DATA_DIR/tasks.db, worked on its own thread so the event loop never waits.

Processes sharing the data dir notice each other's changes only by re-reading (pushes_changes is False).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import anyio

from videogen_mcp.errors import ConfigError, StorageError, disk_full, is_disk_full
from videogen_mcp.models import TERMINAL_STATUSES, Task
from videogen_mcp.tasks.db_thread import DatabaseThread
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.sql_store import SharedStatements, tasks_table
from videogen_mcp.tasks.store import (
    COLUMNS,
    SCHEMA_VERSION_TABLE,
    SPENT_SINCE,
    Budget,
    DuplicateTask,
    LeaseState,
    added_column,
    column_value,
)
from videogen_mcp.tasks.timing import now_iso

#: Numbered migrations, applied in order when a store opens and recorded in schema_version. The same numbers
#: mean the same change in postgres_store.MIGRATIONS: adding a column is one line in each.
MIGRATIONS: dict[int, str | tuple[str, ...]] = {
    1: (tasks_table("INTEGER PRIMARY KEY AUTOINCREMENT"),
        "CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status)"),
    2: "ALTER TABLE tasks ADD COLUMN owner TEXT",
    3: "ALTER TABLE tasks ADD COLUMN lease_until REAL NOT NULL DEFAULT 0",
    4: "ALTER TABLE tasks ADD COLUMN ready_seconds REAL",
    5: "ALTER TABLE tasks ADD COLUMN failover TEXT NOT NULL DEFAULT '[]'",
    6: "ALTER TABLE tasks ADD COLUMN cost_usd REAL",
    7: ("ALTER TABLE tasks ADD COLUMN counted_usd REAL",
        "CREATE INDEX IF NOT EXISTS tasks_created ON tasks(created_at)"),
}
#: Task ids per statement when renewing leases (SQLite limits the number of parameters).
RENEW_CHUNK = 500

T = TypeVar("T")


class SqliteTaskStore(SharedStatements):
    """One SQLite connection, used by the store's one database thread; each call is a few short statements."""

    pushes_changes = False

    def __init__(self, path: Path) -> None:
        """Open (creating the folder and file) and migrate; prefer `await SqliteTaskStore.open(path)`."""
        self._path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            migrate(self._db)
        except (OSError, sqlite3.Error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"VIDEOGEN_DATA_DIR: cannot keep the task database at {path} ({reason})") from None
        self._lock = threading.Lock()
        self._thread = DatabaseThread("videogen-sqlite")

    @classmethod
    async def open(cls, path: Path) -> SqliteTaskStore:
        return await anyio.to_thread.run_sync(cls, path)

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                self._db.close()

        await self._thread.run(close)
        self._thread.stop()

    async def insert(self, task: Task, request: dict[str, Any], owner: str | None = None,
                     lease_seconds: float = 0, *, counted_usd: float | None = None,
                     budget: Budget | None = None) -> None:
        """Write a new task, already leased to `owner` so no other process takes it while it is submitted.

        With a `budget`, the window's sum and the insert are one BEGIN IMMEDIATE transaction: every process
        sharing the file takes the write lock in turn, so two calls cannot both slip under the cap (OverBudget).
        """
        columns = [*COLUMNS, "request", "owner", "lease_until", "counted_usd"]
        values = [column_value(task, c) for c in COLUMNS] + [json.dumps(request), owner, time.time() + lease_seconds,
                                                             counted_usd]
        sql = f"INSERT INTO tasks ({', '.join(columns)}) VALUES ({', '.join('?' * len(values))})"

        def insert() -> None:
            with self._transaction():
                if budget is not None:
                    budget.check(self._spent(budget.since, None), counted_usd or 0.0)
                self._db.execute(sql, values)

        await self._run(insert)

    async def charge(self, task_id: str, cost_usd: float | None, counted_usd: float, budget: Budget | None) -> None:
        """Set what a task costs, checked against `budget` (leaving its own earlier amount out) in one
        BEGIN IMMEDIATE transaction: OverBudget when it would pass the cap."""
        def charge() -> None:
            with self._transaction():
                if budget is not None:
                    budget.check(self._spent(budget.since, task_id), counted_usd)
                self._db.execute("UPDATE tasks SET cost_usd = ?, counted_usd = ? WHERE task_id = ?",
                                 [cost_usd, counted_usd, task_id])

        await self._run(charge)

    async def spent_since(self, since: str) -> float:
        return await self._run(lambda: self._spent(since, None))

    def _spent(self, since: str, leave_out: str | None) -> float:
        sql, args = SPENT_SINCE.format(mark="?"), [since]
        if leave_out is not None:
            sql, args = sql + " AND task_id != ?", [*args, leave_out]
        return float(self._db.execute(sql, args).fetchone()[0])

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE: take the write lock before reading, so a check and its write see no other writer."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    async def claim(self, task_id: str, owner: str, seconds: float) -> bool:
        """Take or renew the lease on a task: True when `owner` now holds it for `seconds`.

        Only the holder of a task's lease talks to its provider, so processes sharing the data dir
        never poll one task twice; a lease left by a process that died lapses on its own.
        """
        now = time.time()
        sql = ("UPDATE tasks SET owner = ?, lease_until = ? "
               "WHERE task_id = ? AND (owner IS NULL OR owner = ? OR lease_until < ?)")
        return await self._execute(sql, [owner, now + seconds, task_id, owner, now]) == 1

    async def renew(self, owner: str, seconds: float, task_ids: list[str]) -> set[str]:
        """Renew `owner`'s leases on these tasks in a few statements; return the ids it no longer holds."""
        held: set[str] = set()
        until = time.time() + seconds
        for start in range(0, len(task_ids), RENEW_CHUNK):
            chunk = task_ids[start:start + RENEW_CHUNK]
            held.update(await self._run(partial(self._renew_chunk, owner, until, chunk)))
        return set(task_ids) - held

    def _renew_chunk(self, owner: str, until: float, chunk: list[str]) -> set[str]:
        marks = ", ".join("?" * len(chunk))
        self._db.execute(f"UPDATE tasks SET lease_until = ? WHERE owner = ? AND task_id IN ({marks})",
                         [until, owner, *chunk])
        rows = self._db.execute(f"SELECT task_id FROM tasks WHERE owner = ? AND task_id IN ({marks})",
                                [owner, *chunk]).fetchall()
        return {row["task_id"] for row in rows}

    async def leases(self, task_ids: list[str]) -> list[LeaseState]:
        found: list[LeaseState] = []
        for start in range(0, len(task_ids), RENEW_CHUNK):
            found += await self._run(partial(self._leases_chunk, time.time(), task_ids[start:start + RENEW_CHUNK]))
        return found

    def _leases_chunk(self, now: float, chunk: list[str]) -> list[LeaseState]:
        finished = ", ".join("?" * len(TERMINAL_STATUSES))
        sql = (f"SELECT task_id, updated_at, status IN ({finished}), owner IS NULL OR lease_until < ? FROM tasks "
               f"WHERE task_id IN ({', '.join('?' * len(chunk))})")
        rows = self._db.execute(sql, [*TERMINAL_STATUSES, now, *chunk]).fetchall()
        return [LeaseState(row[0], row[1], bool(row[2]), bool(row[3])) for row in rows]

    async def relay_changes(self, events: TaskEvents) -> None:
        """SQLite cannot push other processes' changes: the poller re-reads the tasks they hold instead."""

    async def _execute(self, sql: str, args: list[Any]) -> int:
        return await self._run(lambda: self._db.execute(sql, args).rowcount)

    async def _query(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        return await self._run(lambda: self._db.execute(sql, args).fetchall())

    async def _run(self, work: Callable[[], T]) -> T:
        """Do `work` on the connection in the store's database thread."""
        def guarded() -> T:
            with self._using():
                return work()

        return await self._thread.run(guarded)

    @contextmanager
    def _using(self) -> Iterator[None]:
        """Hold the connection; a database failure leaves as a StorageError saying what to do about it."""
        with self._lock:
            try:
                yield
            except sqlite3.IntegrityError as exc:
                raise DuplicateTask(str(exc)) from exc  # a bug in this server (a duplicate id)
            except (sqlite3.DatabaseError, OSError) as exc:
                raise StorageError(self._failure(exc)) from exc

    def _failure(self, exc: BaseException) -> str:
        if is_disk_full(exc):
            return disk_full(self._path.parent)
        return (f"the task database {self._path} failed ({exc}); try again, and if it keeps failing, restart the "
                "server (which recreates a missing table)")


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations this database has not had, in one write transaction (processes starting together
    wait their turn). A database from before schema_version already has some columns: those count as done.
    A missing tasks table is created again (a restart repairs it)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA_VERSION_TABLE} "
                   "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        if not _columns(db):  # no tasks table (a new file, or one whose table was dropped): build it afresh
            db.execute(f"DELETE FROM {SCHEMA_VERSION_TABLE}")
        done = {row[0] for row in db.execute(f"SELECT version FROM {SCHEMA_VERSION_TABLE}")}
        for number, statements in sorted(MIGRATIONS.items()):
            if number in done:
                continue
            for sql in (statements,) if isinstance(statements, str) else statements:
                if added_column(sql) not in _columns(db):
                    db.execute(sql)
            db.execute(f"INSERT INTO {SCHEMA_VERSION_TABLE} (version, applied_at) VALUES (?, ?)", [number, now_iso()])
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _columns(db: sqlite3.Connection) -> set[str]:
    return {row[1] for row in db.execute("PRAGMA table_info(tasks)")}
