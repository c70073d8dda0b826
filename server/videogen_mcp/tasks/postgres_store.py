"""PostgresTaskStore: tasks in PostgreSQL (VIDEOGEN_DATABASE_URL), shared by any number of replicas.

psycopg 3 (async) with its connection pool: every call borrows a pooled connection, so the event loop never
waits on the database. Leases are timed by the database's clock, so replicas on machines whose clocks differ
still agree on when a lease lapsed. A trigger NOTIFYs every insert and every content change; relay_changes
LISTENs and publishes other replicas' changes on this process's TaskEvents (pushes_changes is True). A lost
LISTEN connection reconnects and republishes every task whose change it may have missed.

The URL's password never leaves this module: errors and log lines name the database as user@host:port/dbname
and any text from the driver has the password cut out.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

import anyio

from videogen_mcp.errors import ConfigError, StorageError
from videogen_mcp.http import backoff
from videogen_mcp.models import TERMINAL_STATUSES, Task
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.sql_store import SharedStatements, tasks_table
from videogen_mcp.tasks.store import (
    COLUMNS,
    SCHEMA_VERSION_TABLE,
    SPENT_SINCE,
    Budget,
    DuplicateTask,
    LeaseState,
    column_value,
)
from videogen_mcp.tasks.timing import now_iso

log = logging.getLogger(__name__)

#: The NOTIFY channel the trigger announces task changes on.
CHANNEL = "videogen_tasks"
#: Numbered migrations, the same numbers as sqlite_store.MIGRATIONS: adding a column is one line in each.
MIGRATIONS: dict[int, str | tuple[str, ...]] = {
    1: (tasks_table("BIGSERIAL PRIMARY KEY"),
        "CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status)",
        f"""CREATE OR REPLACE FUNCTION videogen_task_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', json_build_object('task', NEW.task_id, 'created', TG_OP = 'INSERT',
                                                            'by', current_setting('application_name'))::text);
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER tasks_inserted AFTER INSERT ON tasks FOR EACH ROW EXECUTE FUNCTION videogen_task_changed()",
        "CREATE TRIGGER tasks_changed AFTER UPDATE ON tasks FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM "
        "NEW.updated_at OR OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION videogen_task_changed()"),
    2: "ALTER TABLE tasks ADD COLUMN owner TEXT",
    3: "ALTER TABLE tasks ADD COLUMN lease_until DOUBLE PRECISION NOT NULL DEFAULT 0",
    4: "ALTER TABLE tasks ADD COLUMN ready_seconds DOUBLE PRECISION",
    5: "ALTER TABLE tasks ADD COLUMN failover TEXT NOT NULL DEFAULT '[]'",
    6: "ALTER TABLE tasks ADD COLUMN cost_usd DOUBLE PRECISION",
    7: ("ALTER TABLE tasks ADD COLUMN counted_usd DOUBLE PRECISION",
        "CREATE INDEX IF NOT EXISTS tasks_created ON tasks(created_at)"),
}
#: Any fixed number: replicas starting together migrate one at a time under this advisory lock.
MIGRATION_LOCK = 0x76696465
#: Another fixed number: a budget check and its insert or charge run one at a time across replicas under it.
BUDGET_LOCK = 0x62756467
#: Pooled connections per process (plus one that LISTENs).
POOL_MIN, POOL_MAX = 1, 8
CONNECT_TIMEOUT = 10
#: A LISTEN connection silent this long is checked with a query, so a dead link is found and replaced.
LISTEN_CHECK = 10.0
#: The database's clock, in seconds since the epoch.
NOW = "extract(epoch from clock_timestamp())"
#: TCP keepalives, so a connection to a vanished server fails instead of hanging.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}


class PostgresTaskStore(SharedStatements):
    pushes_changes = True

    def __init__(self, url: str, pool: Any, name: str) -> None:
        """Use `await PostgresTaskStore.open(url)`, which checks the URL, connects and migrates."""
        self._url = url
        self._pool = pool
        self._where = describe(url)
        self._secret = password_of(url)
        #: This process's application_name: its own notifications are not relayed back to it.
        self.name = name

    @classmethod
    async def open(cls, url: str) -> PostgresTaskStore:
        try:
            import psycopg  # noqa: F401
            from psycopg_pool import AsyncConnectionPool
        except ImportError:
            raise ConfigError("VIDEOGEN_DATABASE_URL needs the PostgreSQL driver: run "
                              "pip install 'videogen-mcp-server[postgres]'") from None
        where, secret = describe(url), password_of(url)
        name = f"videogen-mcp {socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        try:
            await _migrate(url, name)
        except ConfigError:
            raise
        except Exception as exc:
            reason = redact(_first_line(exc), secret)
            raise ConfigError(f"VIDEOGEN_DATABASE_URL: cannot use the PostgreSQL database {where} ({reason}); "
                              "check its host, port, database name, user and password") from None
        pool = AsyncConnectionPool(url, min_size=POOL_MIN, max_size=POOL_MAX, open=False, timeout=CONNECT_TIMEOUT,
                                   kwargs=_connect_args(name), check=AsyncConnectionPool.check_connection,
                                   name="videogen-tasks")
        await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
        return cls(url, pool, name)

    async def close(self) -> None:
        await self._pool.close()

    async def insert(self, task: Task, request: dict[str, Any], owner: str | None = None,
                     lease_seconds: float = 0, *, counted_usd: float | None = None,
                     budget: Budget | None = None) -> None:
        """Write a new task; with a `budget`, the window's sum and the insert are one transaction holding an
        advisory lock, so two replicas cannot both slip under the cap (OverBudget)."""
        values = [column_value(task, c) for c in COLUMNS] + [json.dumps(request), owner, counted_usd, lease_seconds]
        marks = ", ".join(["%s"] * (len(values) - 1))
        sql = (f"INSERT INTO tasks ({', '.join(COLUMNS)}, request, owner, counted_usd, lease_until) "
               f"VALUES ({marks}, {NOW} + %s)")
        async with self._cursor() as cur, cur.connection.transaction():
            if budget is not None:
                budget.check(await self._locked_spent(cur, budget.since, None), counted_usd or 0.0)
            await cur.execute(sql, values)

    async def charge(self, task_id: str, cost_usd: float | None, counted_usd: float, budget: Budget | None) -> None:
        async with self._cursor() as cur, cur.connection.transaction():
            if budget is not None:
                budget.check(await self._locked_spent(cur, budget.since, task_id), counted_usd)
            await cur.execute("UPDATE tasks SET cost_usd = %s, counted_usd = %s WHERE task_id = %s",
                              [cost_usd, counted_usd, task_id])

    async def spent_since(self, since: str) -> float:
        rows = await self._query(SPENT_SINCE.format(mark="%s"), [since])
        return float(rows[0]["spent"])

    @staticmethod
    async def _locked_spent(cur: Any, since: str, leave_out: str | None) -> float:
        """Take the budget lock for the rest of the transaction, then sum the window (READ COMMITTED: the sum
        sees every insert committed by whoever held the lock before)."""
        await cur.execute("SELECT pg_advisory_xact_lock(%s)", [BUDGET_LOCK])
        sql, args = SPENT_SINCE.format(mark="%s"), [since]
        if leave_out is not None:
            sql, args = sql + " AND task_id <> %s", [*args, leave_out]
        await cur.execute(sql, args)
        row = await cur.fetchone()
        return float(row["spent"])

    async def claim(self, task_id: str, owner: str, seconds: float) -> bool:
        sql = (f"UPDATE tasks SET owner = %s, lease_until = {NOW} + %s "
               f"WHERE task_id = %s AND (owner IS NULL OR owner = %s OR lease_until < {NOW})")
        return await self._execute(sql, [owner, seconds, task_id, owner]) == 1

    async def renew(self, owner: str, seconds: float, task_ids: list[str]) -> set[str]:
        sql = f"UPDATE tasks SET lease_until = {NOW} + %s WHERE owner = %s AND task_id = ANY(%s) RETURNING task_id"
        rows = await self._query(sql, [seconds, owner, task_ids])
        return set(task_ids) - {row["task_id"] for row in rows}

    async def leases(self, task_ids: list[str]) -> list[LeaseState]:
        sql = (f"SELECT task_id, updated_at, status = ANY(%s) AS finished, (owner IS NULL OR lease_until < {NOW}) "
               "AS free FROM tasks WHERE task_id = ANY(%s)")
        rows = await self._query(sql, [list(TERMINAL_STATUSES), task_ids])
        return [LeaseState(**row) for row in rows]

    # -- change events across replicas ---------------------------------------------------------------
    async def relay_changes(self, events: TaskEvents) -> None:
        """LISTEN for other replicas' changes and publish them here, forever. After a lost connection, reconnect
        (backing off) and publish a change for every task someone here waits on and every unfinished one."""
        import psycopg

        failures = 0
        connected_before = False
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                        self._url, autocommit=True, **_connect_args(self.name + " listen")) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    if connected_before:
                        await self._republish(events)
                    connected_before, failures = True, 0
                    await self._relay(conn, events)
            except psycopg.Error as exc:
                failures += 1
                wait = backoff(failures, base=0.2, cap=10.0)
                log.warning("lost the PostgreSQL change feed of %s (%s); reconnecting in %.1f s", self._where,
                            redact(_first_line(exc), self._secret), wait)
                await anyio.sleep(wait)

    async def _relay(self, conn: Any, events: TaskEvents) -> None:
        while True:
            async for note in conn.notifies(timeout=LISTEN_CHECK):
                change = json.loads(note.payload)
                if change.get("by") != self.name:
                    await events.publish(change["task"], created=bool(change.get("created")))
            await conn.execute("SELECT 1")  # a quiet spell: make sure the link still stands

    async def _republish(self, events: TaskEvents) -> None:
        missed = set(events.watched) | set(await self.unfinished_ids())
        log.info("the PostgreSQL change feed is back; re-reading %d tasks", len(missed))
        for task_id in missed:
            await events.publish(task_id)

    # -- plumbing ------------------------------------------------------------------------------------
    async def _execute(self, sql: str, args: list[Any]) -> int:
        async with self._cursor() as cur:
            await cur.execute(_markers(sql), args)
            return cur.rowcount

    async def _query(self, sql: str, args: list[Any]) -> list[dict[str, Any]]:
        async with self._cursor() as cur:
            await cur.execute(_markers(sql), args)
            return await cur.fetchall()

    @asynccontextmanager
    async def _cursor(self) -> AsyncIterator[Any]:
        """A pooled connection's cursor; a database failure leaves as a StorageError without the password."""
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import PoolTimeout

        try:
            async with self._pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
                yield cur
        except psycopg.errors.UniqueViolation as exc:
            raise DuplicateTask(redact(_first_line(exc), self._secret)) from None
        except (psycopg.Error, PoolTimeout) as exc:
            reason = redact(_first_line(exc), self._secret)
            raise StorageError(f"the task database {self._where} failed ({reason}); try again, and if it keeps "
                               "failing, check that PostgreSQL is up and VIDEOGEN_DATABASE_URL is right") from None


async def _migrate(url: str, name: str) -> None:
    """Apply the migrations the database has not had, in one transaction under an advisory lock."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                                     **_connect_args(name)) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", [MIGRATION_LOCK])
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA_VERSION_TABLE} "
                           "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        cur = await conn.execute(f"SELECT version FROM {SCHEMA_VERSION_TABLE}")
        done = {row[0] for row in await cur.fetchall()}
        for number, statements in sorted(MIGRATIONS.items()):
            if number in done:
                continue
            for sql in (statements,) if isinstance(statements, str) else statements:
                await conn.execute(sql)
            await conn.execute(f"INSERT INTO {SCHEMA_VERSION_TABLE} (version, applied_at) VALUES (%s, %s)",
                               [number, now_iso()])


def _connect_args(name: str) -> dict[str, Any]:
    return {"application_name": name[:63], **KEEPALIVES}


def password_of(url: str) -> str | None:
    try:
        secret = urlsplit(url).password
    except ValueError:
        return None
    return unquote(secret) if secret else None


def describe(url: str) -> str:
    """user@host:port/dbname: the database a URL names, without its password."""
    try:
        parts = urlsplit(url)
        user = f"{unquote(parts.username)}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{user}{parts.hostname or 'localhost'}{port}{parts.path or '/'}"
    except ValueError:
        return "(unreadable URL)"


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` (raw and percent-encoded forms) replaced by ***."""
    if not secret:
        return text
    from urllib.parse import quote

    for form in {secret, quote(secret, safe=""), quote(secret)}:
        if form:
            text = text.replace(form, "***")
    return text


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _markers(sql: str) -> str:
    """The shared statements' `?` markers as psycopg's `%s` (no statement here has a literal `?` or `%`)."""
    return sql.replace("?", "%s")
