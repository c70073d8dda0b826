"""The statements both task-store backends run unchanged, written once with `?` markers.

SqliteTaskStore and PostgresTaskStore inherit them and supply `_execute` (rows changed) and `_query` (rows
readable by column name); PostgreSQL's turn the `?` markers into its own `%s`. What differs between the two
(inserting under the budget, leases timed by each database's clock, change events) stays in each backend.
"""

from __future__ import annotations

from typing import Any

from videogen_mcp.models import TERMINAL_STATUSES, Task
from videogen_mcp.tasks.store import COLUMNS, column_value, task_from_row


def tasks_table(seq: str) -> str:
    """Migration 1's table, the same in both backends but for the type of `seq` (the insertion order)."""
    return f"""CREATE TABLE IF NOT EXISTS tasks (
        seq {seq},
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
        request TEXT NOT NULL DEFAULT '{{}}')"""


#: `status NOT IN (...)` for the finished statuses, with one marker each.
UNFINISHED = f"status NOT IN ({', '.join('?' * len(TERMINAL_STATUSES))})"


class SharedStatements:
    async def _execute(self, sql: str, args: list[Any]) -> int:
        raise NotImplementedError

    async def _query(self, sql: str, args: list[Any]) -> list[Any]:
        raise NotImplementedError

    async def release(self, owner: str) -> None:
        """Give up every lease of `owner` (a clean shutdown), so a restart takes its tasks at once."""
        await self._execute("UPDATE tasks SET lease_until = 0 WHERE owner = ?", [owner])

    async def update(self, task: Task, owner: str | None = None) -> bool:
        """Write the task unless its row is already finished or, given `owner`, leased to someone else."""
        sets = ", ".join(f"{c} = ?" for c in COLUMNS if c != "task_id")
        values = [column_value(task, c) for c in COLUMNS if c != "task_id"] + [task.task_id, *TERMINAL_STATUSES]
        sql = f"UPDATE tasks SET {sets} WHERE task_id = ? AND {UNFINISHED}"
        if owner is not None:
            sql += " AND (owner IS NULL OR owner = ?)"
            values.append(owner)
        return await self._execute(sql, values) == 1

    async def get(self, task_id: str) -> Task | None:
        rows = await self._query("SELECT * FROM tasks WHERE task_id = ?", [task_id])
        return task_from_row(rows[0]) if rows else None

    async def list(self, status: str | None = None, limit: int = 20) -> list[Task]:
        where, args = ("WHERE status = ?", [status]) if status else ("", [])
        rows = await self._query(f"SELECT * FROM tasks {where} ORDER BY seq DESC LIMIT ?", [*args, limit])
        return [task_from_row(r) for r in rows]

    async def record_ready(self, task_id: str, seconds: float) -> None:
        """How long the provider took from our submit until we saw the video ready (to learn typical times)."""
        await self._execute("UPDATE tasks SET ready_seconds = ? WHERE task_id = ?", [seconds, task_id])

    async def recent_durations(self, provider: str, model: str, duration: int,
                               limit: int) -> list[tuple[float | None, str, str]]:
        """The newest `limit` tasks of this provider, model and length that were seen ended (ready, or failed by
        the provider), then the newest `limit` still running: (seconds until seen ended or None, created_at,
        status). Apart, so a batch of running tasks never hides what the finished ones taught."""
        rows = []
        for state in ("ready_seconds IS NOT NULL", "ready_seconds IS NULL AND status IN ('queued', 'processing')"):
            rows += await self._query("SELECT ready_seconds, created_at, status FROM tasks WHERE provider = ? AND "
                                      f"model = ? AND duration = ? AND {state} ORDER BY seq DESC LIMIT ?",
                                      [provider, model, duration, limit])
        return [(row["ready_seconds"], row["created_at"], row["status"]) for row in rows]

    async def failed_downloads(self, note_prefix: str) -> list[Task]:
        """Completed tasks with a video URL but no file, whose error starts with `note_prefix`."""
        sql = ("SELECT * FROM tasks WHERE status = 'completed' AND video_url IS NOT NULL AND video_path IS NULL "
               "AND substr(error, 1, ?) = ? ORDER BY seq")
        return [task_from_row(r) for r in await self._query(sql, [len(note_prefix), note_prefix])]

    async def cancel(self, task_id: str, error: str, updated_at: str) -> bool:
        sql = ("UPDATE tasks SET status = 'cancelled', error = ?, eta_seconds = NULL, updated_at = ? "
               "WHERE task_id = ? AND status NOT IN ('completed', 'failed')")
        return await self._execute(sql, [error, updated_at, task_id]) == 1

    async def record_download(self, task_id: str, video_path: str, updated_at: str) -> bool:
        """Set the file of a completed task that had none (and drop the download-failure note)."""
        sql = ("UPDATE tasks SET video_path = ?, error = NULL, updated_at = ? "
               "WHERE task_id = ? AND status = 'completed' AND video_path IS NULL")
        return await self._execute(sql, [video_path, updated_at, task_id]) == 1

    async def unfinished(self) -> list[Task]:
        """Queued and processing tasks, oldest first."""
        rows = await self._query(f"SELECT * FROM tasks WHERE {UNFINISHED} ORDER BY seq", list(TERMINAL_STATUSES))
        return [task_from_row(r) for r in rows]

    async def unfinished_ids(self) -> list[str]:
        rows = await self._query(f"SELECT task_id FROM tasks WHERE {UNFINISHED} ORDER BY seq",
                                 list(TERMINAL_STATUSES))
        return [row["task_id"] for row in rows]
