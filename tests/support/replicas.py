"""HTTP replicas of the real server sharing one PostgreSQL database, each its own process (and data dir)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.fakes import FakeServer
from tests.support.servers import SERVER_COMMAND, free_port, server_env, wait_for_port


@dataclass
class Replica:
    url: str
    proc: subprocess.Popen

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextmanager
def http_servers(envs: list[dict[str, str]], log_dir: Path, label: str = "replica",
                 stop_timeout: float = 10) -> Iterator[list[Replica]]:
    """One `videogen-mcp serve --transport streamable-http` per environment, each logging to
    `log_dir/<label><n>.log`; stopped (SIGTERM) at the end."""
    started: list[Replica] = []
    try:
        for n, env in enumerate(envs):
            port, log = free_port(), log_dir / f"{label}{n}.log"
            with log.open("w") as stderr:
                proc = subprocess.Popen([SERVER_COMMAND, "serve", "--transport", "streamable-http", "--port",
                                         str(port)], env=env, stdout=subprocess.DEVNULL, stderr=stderr)
            started.append(Replica(f"http://127.0.0.1:{port}/mcp", proc))
            if not wait_for_port(port, proc):
                raise RuntimeError(f"{label} {n} exited: {log.read_text()[-2000:]}")
        yield started
    finally:
        for replica in started:
            if replica.proc.poll() is None:
                replica.proc.terminate()
        for replica in started:
            replica.proc.wait(timeout=stop_timeout)


@contextmanager
def replicas(fake: FakeServer, tmp_path: Path, database_url: str, count: int, **extra: str) -> Iterator[list[Replica]]:
    """`count` replicas of `videogen-mcp serve --transport streamable-http` over one database."""
    envs = [server_env(fake, tmp_path / f"replica{n}", VIDEOGEN_DATABASE_URL=database_url, VIDEOGEN_DOWNLOAD="0",
                       **extra) for n in range(count)]
    with http_servers(envs, tmp_path) as started:
        yield started


def stderr_of(tmp_path: Path) -> str:
    return "\n".join(p.read_text() for p in sorted(tmp_path.glob("replica*.log")) if os.path.getsize(p))
