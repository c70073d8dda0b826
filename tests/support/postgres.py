"""The real PostgreSQL the tests use: VIDEOGEN_TEST_DATABASE_URL (default the local trust-auth server), one fresh
database per test (or module), dropped after. With no server answering, the tests skip, saying why; under
.ci/run (VIDEOGEN_CI=1) they fail instead."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

from tests.support.ci import unavailable

URL = os.environ.get("VIDEOGEN_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def require_postgres() -> None:
    """Skip (or, under .ci/run, fail) when no PostgreSQL answers at URL."""
    import psycopg

    try:
        psycopg.connect(URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        reason = f"no PostgreSQL answers at VIDEOGEN_TEST_DATABASE_URL ({type(exc).__name__})"
        unavailable(reason)


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database on the test server; yields its URL and drops it afterwards."""
    import psycopg

    require_postgres()
    name = f"videogen_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(URL, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(URL, name)
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def connections(url: str) -> int:
    """How many connections the server has open to the database `url` names."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(URL, autocommit=True) as admin:
        return admin.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()[0]
