"""TaskStore: tasks in SQLite (WAL) at DATA_DIR/tasks.db, written before anyone is told of a change."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from videogen_mcp.errors import ConfigError, StorageError, disk_full, is_disk_full
from videogen_mcp.models import TERMINAL_STATUSES, Task

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    provider_task_id TEXT,
    progress INTEGER NOT NULL DEFAULT 0,
    eta_seconds INTEGER,
    video_url TEXT,
    video_path TEXT,
    error TEXT,
    prompt TEXT NOT NULL,
    duration INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    request TEXT NOT NULL DEFAULT '{}',
    owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0,
    ready_seconds REAL
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status);
"""
COLUMNS = [name for name in Task.model_fields if name != "resource_uri"]
#: Task fields kept as JSON text.
JSON_COLUMNS = {"failover"}
#: Columns added after the first release, with their definitions, for databases created before them.
LATER_COLUMNS = {"owner": "TEXT", "lease_until": "REAL NOT NULL DEFAULT 0", "ready_seconds": "REAL",
                 "failover": "TEXT NOT NULL DEFAULT '[]'", "cost_usd": "REAL", "counted_usd": "REAL"}
#: What a task counts against the daily budget: its cost, or while that is unknown, what it was counted at.
SPENT_SINCE = "SELECT COALESCE(SUM(COALESCE(cost_usd, counted_usd)), 0) FROM tasks WHERE created_at >= ?"
#: Task ids per statement when renewing leases (SQLite limits the number of parameters).
RENEW_CHUNK = 500


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


class TaskStore:
    """A small synchronous store: each call is one short SQLite statement on a local file."""

    def __init__(self, path: Path) -> None:
        self._path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            self._add_later_columns()
        except (OSError, sqlite3.Error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(f"VIDEOGEN_DATA_DIR: cannot keep the task database at {path} ({reason})") from None
        self._lock = threading.Lock()

    def _add_later_columns(self) -> None:
        present = {row["name"] for row in self._db.execute("PRAGMA table_info(tasks)")}
        for name, definition in LATER_COLUMNS.items():
            if name not in present:
                try:
                    self._db.execute(f"ALTER TABLE tasks ADD COLUMN {name} {definition}")
                except sqlite3.OperationalError as exc:  # another process starting at once added it first
                    if "duplicate column" not in str(exc):
                        raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def insert(self, task: Task, request: dict[str, Any], owner: str | None = None, lease_seconds: float = 0,
               *, counted_usd: float | None = None, budget: Budget | None = None) -> None:
        """Write a new task, already leased to `owner` so no other process takes it while it is submitted.

        With a `budget`, the sum of what the window's tasks count and the insert are one transaction (every
        process sharing the file waits its turn), so two calls cannot both slip under the cap: OverBudget.
        """
        columns = [*COLUMNS, "request", "owner", "lease_until", "counted_usd"]
        values = [_column(task, c) for c in COLUMNS] + [json.dumps(request), owner, time.time() + lease_seconds,
                                                         counted_usd]
        marks = ", ".join("?" * len(values))
        with self._using(), self._transaction():
            if budget is not None:
                self._check_budget(budget, counted_usd or 0.0, None)
            self._db.execute(f"INSERT INTO tasks ({', '.join(columns)}) VALUES ({marks})", values)

    def charge(self, task_id: str, cost_usd: float | None, counted_usd: float, budget: Budget | None) -> None:
        """Set what a task costs (its provider changed on failover), checked against `budget` in one transaction
        that leaves the task's own earlier amount out: OverBudget when it would pass the cap."""
        with self._using(), self._transaction():
            if budget is not None:
                self._check_budget(budget, counted_usd, task_id)
            self._db.execute("UPDATE tasks SET cost_usd = ?, counted_usd = ? WHERE task_id = ?",
                             [cost_usd, counted_usd, task_id])

    def spent_since(self, since: str) -> float:
        """What the tasks created since `since` count against the budget together, in USD."""
        return float(self._query(SPENT_SINCE, [since])[0][0])

    def _check_budget(self, budget: Budget, amount: float, leave_out: str | None) -> None:
        sql, args = SPENT_SINCE, [budget.since]
        if leave_out is not None:
            sql, args = sql + " AND task_id != ?", [*args, leave_out]
        spent = float(self._db.execute(sql, args).fetchone()[0])
        if spent + amount > budget.cap + 1e-9:
            raise OverBudget(spent)

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

    def claim(self, task_id: str, owner: str, seconds: float) -> bool:
        """Take or renew the lease on a task: True when `owner` now holds it for `seconds`.

        Only the holder of a task's lease talks to its provider, so processes sharing the data dir
        never poll one task twice; a lease left by a process that died lapses on its own.
        """
        now = time.time()
        sql = ("UPDATE tasks SET owner = ?, lease_until = ? "
               "WHERE task_id = ? AND (owner IS NULL OR owner = ? OR lease_until < ?)")
        return self._execute(sql, [owner, now + seconds, task_id, owner, now]) == 1

    def renew(self, owner: str, seconds: float, task_ids: list[str]) -> set[str]:
        """Renew `owner`'s leases on these tasks in a few statements; return the ids it no longer holds."""
        held: set[str] = set()
        until = time.time() + seconds
        for start in range(0, len(task_ids), RENEW_CHUNK):
            chunk = task_ids[start:start + RENEW_CHUNK]
            marks = ", ".join("?" * len(chunk))
            with self._using():
                self._db.execute(f"UPDATE tasks SET lease_until = ? WHERE owner = ? AND task_id IN ({marks})",
                                 [until, owner, *chunk])
                rows = self._db.execute(f"SELECT task_id FROM tasks WHERE owner = ? AND task_id IN ({marks})",
                                        [owner, *chunk]).fetchall()
            held.update(row["task_id"] for row in rows)
        return set(task_ids) - held

    def release(self, owner: str) -> None:
        """Give up every lease of `owner` (a clean shutdown), so a restart takes its tasks at once."""
        self._execute("UPDATE tasks SET lease_until = 0 WHERE owner = ?", [owner])

    def update(self, task: Task, owner: str | None = None) -> bool:
        """Write the task unless its row is already finished or, given `owner`, leased to someone else."""
        sets = ", ".join(f"{c} = ?" for c in COLUMNS if c != "task_id")
        values = [_column(task, c) for c in COLUMNS if c != "task_id"] + [task.task_id, *TERMINAL_STATUSES]
        finished = ", ".join("?" * len(TERMINAL_STATUSES))
        sql = f"UPDATE tasks SET {sets} WHERE task_id = ? AND status NOT IN ({finished})"
        if owner is not None:
            sql += " AND (owner IS NULL OR owner = ?)"
            values.append(owner)
        return self._execute(sql, values) == 1

    def cancel(self, task_id: str, error: str, updated_at: str) -> bool:
        """Mark a task cancelled with `error` as its note, unless it completed or failed (a cancelled one is
        re-noted); True when the row is now cancelled by this call."""
        sql = ("UPDATE tasks SET status = 'cancelled', error = ?, eta_seconds = NULL, updated_at = ? "
               "WHERE task_id = ? AND status NOT IN ('completed', 'failed')")
        return self._execute(sql, [error, updated_at, task_id]) == 1

    def get(self, task_id: str) -> Task | None:
        rows = self._query("SELECT * FROM tasks WHERE task_id = ?", [task_id])
        return _task(rows[0]) if rows else None

    def list(self, status: str | None = None, limit: int = 20) -> list[Task]:
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self._query(f"SELECT * FROM tasks {where} ORDER BY seq DESC LIMIT ?", [*args, limit])
        return [_task(r) for r in rows]

    def record_ready(self, task_id: str, seconds: float) -> None:
        """How long the provider took from our submit until we saw the video ready (to learn typical times)."""
        self._execute("UPDATE tasks SET ready_seconds = ? WHERE task_id = ?", [seconds, task_id])

    def recent_durations(self, provider: str, model: str, duration: int, limit: int) -> list[tuple[float | None, str]]:
        """For the newest `limit` tasks of this provider, model and length that finished or still run:
        (seconds until seen ready or None, created_at)."""
        sql = ("SELECT ready_seconds, created_at FROM tasks WHERE provider = ? AND model = ? AND duration = ? "
               "AND (ready_seconds IS NOT NULL OR status IN ('queued', 'processing')) ORDER BY seq DESC LIMIT ?")
        return [(row[0], row[1]) for row in self._query(sql, [provider, model, duration, limit])]

    def failed_downloads(self, note_prefix: str) -> list[Task]:
        """Completed tasks with a video URL but no file, whose error starts with `note_prefix`."""
        sql = ("SELECT * FROM tasks WHERE status = 'completed' AND video_url IS NOT NULL AND video_path IS NULL "
               "AND substr(error, 1, ?) = ? ORDER BY seq")
        return [_task(r) for r in self._query(sql, [len(note_prefix), note_prefix])]

    def record_download(self, task_id: str, video_path: str, updated_at: str) -> bool:
        """Set the file of a completed task that had none (and drop the download-failure note)."""
        sql = ("UPDATE tasks SET video_path = ?, error = NULL, updated_at = ? "
               "WHERE task_id = ? AND status = 'completed' AND video_path IS NULL")
        return self._execute(sql, [video_path, updated_at, task_id]) == 1

    def unfinished(self) -> list[Task]:
        marks = ", ".join("?" * len(TERMINAL_STATUSES))
        rows = self._query(f"SELECT * FROM tasks WHERE status NOT IN ({marks}) ORDER BY seq", list(TERMINAL_STATUSES))
        return [_task(r) for r in rows]

    def unfinished_ids(self) -> list[str]:
        marks = ", ".join("?" * len(TERMINAL_STATUSES))
        rows = self._query(f"SELECT task_id FROM tasks WHERE status NOT IN ({marks}) ORDER BY seq",
                           list(TERMINAL_STATUSES))
        return [row[0] for row in rows]

    def _execute(self, sql: str, args: list[Any]) -> int:
        with self._using():
            return self._db.execute(sql, args).rowcount

    def _query(self, sql: str, args: list[Any]) -> list[sqlite3.Row]:
        with self._using():
            return self._db.execute(sql, args).fetchall()

    @contextmanager
    def _using(self) -> Iterator[None]:
        """Hold the connection; a database failure leaves as a StorageError saying what to do about it."""
        with self._lock:
            try:
                yield
            except sqlite3.IntegrityError:
                raise  # a bug in this server (a duplicate id), not the database's state
            except (sqlite3.DatabaseError, OSError) as exc:
                raise StorageError(self._failure(exc)) from exc

    def _failure(self, exc: BaseException) -> str:
        if is_disk_full(exc):
            return disk_full(self._path.parent)
        return (f"the task database {self._path} failed ({exc}); try again, and if it keeps failing, restart the "
                "server (which recreates a missing table)")


def _column(task: Task, name: str) -> Any:
    if name in JSON_COLUMNS:
        return json.dumps([item.model_dump() for item in getattr(task, name)])
    return getattr(task, name)


def _task(row: sqlite3.Row) -> Task:
    fields = {c: json.loads(row[c]) if c in JSON_COLUMNS else row[c] for c in COLUMNS}
    return Task(**fields, resource_uri=f"task://{row['task_id']}")
