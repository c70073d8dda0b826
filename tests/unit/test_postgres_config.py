"""VIDEOGEN_DATABASE_URL at start-up: a bad or unreachable URL stops start-up in one line naming the variable,
never showing the password; the change feed crosses stores (LISTEN/NOTIFY) and survives a cut connection."""

from __future__ import annotations

import anyio
import pytest

from tests.support.postgres import URL, fresh_database, require_postgres, with_database
from tests.support.rig import task
from tests.support.servers import free_port, run_cli
from videogen_mcp.config import load_settings
from videogen_mcp.errors import ConfigError
from videogen_mcp.tasks.events import TaskEvents
from videogen_mcp.tasks.store import check_store

pytestmark = pytest.mark.anyio
SECRET = "pa55-w0rd-s3cret"


def url_with_password(port: int | None = None, database: str = "test") -> str:
    return f"postgresql://postgres:{SECRET}@127.0.0.1:{port or 5432}/{database}"


@pytest.mark.parametrize("where", ["wrong port", "wrong database"])
async def test_an_unusable_database_stops_start_up_naming_the_variable_never_the_password(tmp_path, where):
    require_postgres()
    url = url_with_password(port=free_port()) if where == "wrong port" else url_with_password(database="nope_db")
    settings = load_settings({"VIDEOGEN_DATA_DIR": str(tmp_path), "VIDEOGEN_DATABASE_URL": url})
    with pytest.raises(ConfigError) as caught:
        await check_store(settings)
    message = str(caught.value)
    assert message.startswith("VIDEOGEN_DATABASE_URL") and "\n" not in message
    assert SECRET not in message and "postgres@127.0.0.1" in message


def test_the_command_line_says_it_in_one_line_without_the_password(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "VIDEOGEN_DATA_DIR": str(tmp_path),
           "VIDEOGEN_DATABASE_URL": url_with_password(port=free_port())}
    done = run_cli(["tasks"], env)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "VIDEOGEN_DATABASE_URL" in lines[0] and SECRET not in done.stderr, done.stderr


@pytest.mark.parametrize("url", ["mysql://u:pa55-w0rd-s3cret@h/db", "pa55-w0rd-s3cret",
                                 "postgresql://u:pa55-w0rd-s3cret@h:notaport/db"])
def test_a_url_that_is_not_postgresql_is_refused_without_quoting_it(tmp_path, url):
    with pytest.raises(ConfigError, match="VIDEOGEN_DATABASE_URL") as caught:
        load_settings({"VIDEOGEN_DATA_DIR": str(tmp_path), "VIDEOGEN_DATABASE_URL": url})
    assert SECRET not in str(caught.value)


async def test_a_change_written_through_one_store_wakes_a_waiter_of_another():
    from videogen_mcp.tasks.postgres_store import PostgresTaskStore

    with fresh_database() as url:
        writer, reader = await PostgresTaskStore.open(url), await PostgresTaskStore.open(url)
        events = TaskEvents()
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(reader.relay_changes, events)
                await anyio.sleep(0.3)  # LISTEN in place
                with events.watching("t1") as next_change:
                    changed = next_change()
                    await writer.insert(task("t1"), {})
                    with anyio.fail_after(2):
                        await changed.wait()
                group.cancel_scope.cancel()
        finally:
            await writer.close()
            await reader.close()


async def test_a_cut_change_feed_reconnects_and_wakes_waiters_of_what_it_may_have_missed():
    import psycopg

    from videogen_mcp.tasks.postgres_store import PostgresTaskStore

    with fresh_database() as url:
        store = await PostgresTaskStore.open(url)
        events = TaskEvents()
        await store.insert(task("t1", status="processing"), {})
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(store.relay_changes, events)
                await anyio.sleep(0.3)
                with events.watching("t1") as next_change:
                    changed = next_change()
                    with psycopg.connect(with_database(URL, "test"), autocommit=True) as admin:
                        cut = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                            "WHERE application_name = %s", [store.name + " listen"]).fetchall()
                    assert cut == [(True,)]
                    with anyio.fail_after(5):
                        await changed.wait()  # republished after the reconnect, though nothing was written
                group.cancel_scope.cancel()
        finally:
            await store.close()
