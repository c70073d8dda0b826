"""Issue 17's shared-deployment figures: HTTP replicas on one PostgreSQL database, next to one SQLite process.

Starts the loopback fakes (tests/fakes) and real `videogen-mcp serve --transport streamable-http` processes on
the server's default poll schedule, without downloads. In each setup, every task is made with generate_video
(wait_seconds=0) through the replicas' MCP endpoints (2026-07-28 clients, round robin): `tasks` long jobs (an
hour at the fake) that stay in flight, then `samples` short ones. Measured with the long ones in flight:

- wake latency: a waiter (get_task, wait_seconds=60) on the replica after the one that made the task, from the
  write that finished the task (its updated_at, stamped by the replica that wrote it) to the waiter's answer at
  the client; only samples whose finishing write came from another replica count (the row's lease owner);
- database connections (pg_stat_activity for the benchmark's database) and RSS/CPU per replica (/proc);
- takeover: SIGKILL the first replica just after it renewed its leases (the slowest case), then the time until
  every one of its unfinished tasks is leased by a survivor (the database) and polled by one (the fake's per-job
  poll count, taken 0.5 s after the kill).

The reference is one SQLite process (no VIDEOGEN_DATABASE_URL) with the same tasks: there the writer and the
waiter are the same process, and nothing takes over (a restart resumes its tasks).

Run from the repository root after `pip install -e '.[dev]'`, with PostgreSQL at VIDEOGEN_TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/test; a database of its own is made and dropped):
    python benchmarks/replicas.py           # 3 replicas, 1,000 tasks: about 5 minutes
    python benchmarks/replicas.py --quick   # 2 replicas, 30 tasks: under a minute, checks the command
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import anyio
import psycopg
from mcp import Client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fakes and tests.support: the same fakes and launch helpers the tests use

from benchmarks.run import call, cpu_seconds, machine, pct, resident_mb, revision, small_png  # noqa: E402
from tests.fakes import FakeServer  # noqa: E402
from tests.support.postgres import URL, with_database  # noqa: E402
from tests.support.replicas import Replica, http_servers  # noqa: E402
from tests.support.servers import SERVER_COMMAND  # noqa: E402

PROVIDERS = ("wavespeed", "gptproto", "aimlapi", "myrouter")
FINISHED = ("completed", "failed", "cancelled")
LONG_JOB = 3600.0  # seconds: the in-flight tasks never finish during the run
MODE = "2026-07-28"
BENCH_APP = "videogen-bench"  # application_name of the benchmark's own connection (not counted)


@dataclass(frozen=True)
class Plan:
    replicas: int = 3
    tasks: int = 1000
    samples: int = 200
    sample_seconds: tuple[float, float] = (4.0, 24.0)  # short job lengths, uniform
    sample_gap: float = 0.1  # seconds between two samples' starts
    settle: float = 10.0
    window: float = 20.0
    submit_concurrency: int = 8  # generate_video calls at a time per replica
    takeover_limit: float = 120.0
    #: Kill the replica just after it renewed its leases: the slowest takeover (else at whatever point it was).
    kill_after_renewal: bool = True
    env: dict[str, str] = field(default_factory=dict)


#: Few tasks and short jobs; polls at most every 2 s so a taken-over task is polled soon after its lease lapses.
QUICK = Plan(replicas=2, tasks=30, samples=12, sample_seconds=(1.5, 4.0), settle=1.0, window=2.0,
             takeover_limit=50.0, kill_after_renewal=False, env={"VIDEOGEN_POLL_MAX_INTERVAL": "2"})


@dataclass
class Figures:
    """What one setup measured."""

    label: str
    submit_seconds: float = 0.0
    submit_failures: list[str] = field(default_factory=list)
    wake: list[float] = field(default_factory=list)
    wake_skipped: int = 0
    wake_after_commit: list[float] = field(default_factory=list)  # from the NOTIFY an outside listener heard
    connections: list[int] = field(default_factory=list)
    connections_by_replica: dict[int, int] = field(default_factory=dict)
    rss: dict[int, float] = field(default_factory=dict)  # pid -> peak MB over the window
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> share of a core over the window
    takeover: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, plan: Plan, fake: FakeServer, workdir: Path) -> None:
        self.plan = plan
        self.fake = fake
        self.workdir = workdir
        self.image = "data:image/png;base64," + base64.b64encode(small_png(workdir / "photo.png").read_bytes()).decode()
        self.lengths: dict[str, float] = {}  # prompt -> job seconds at the fake (short sample jobs)
        for name in PROVIDERS:
            fake.provider(name).job_seconds_for = lambda _model, body: self.lengths.get(body["prompt"], LONG_JOB)

    # --- processes --------------------------------------------------------------------------------
    def env(self, data_dir: Path, **extra: str) -> dict[str, str]:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(data_dir), "VIDEOGEN_DATA_DIR": str(data_dir),
               "VIDEOGEN_DOWNLOAD": "0", **self.plan.env, **extra}
        for name in PROVIDERS:
            env[f"{name.upper()}_API_KEY"] = self.fake.api_key(name)
            env[f"{name.upper()}_BASE_URL"] = self.fake.base_url(name)
        return env

    @contextmanager
    def serve(self, label: str, count: int, **extra: str) -> Iterator[list[Replica]]:
        """`count` HTTP servers (each its own data dir and log); stopped (SIGTERM) at the end."""
        dirs = [self.workdir / f"{label}{n}" for n in range(count)]
        for data_dir in dirs:
            data_dir.mkdir()
        with http_servers([self.env(d, **extra) for d in dirs], self.workdir, label, stop_timeout=20) as started:
            yield started

    # --- one setup ---------------------------------------------------------------------------------
    async def measure(self, figures: Figures, replicas: list[Replica], database: str | None) -> None:
        async with AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(Client(r.url, mode=MODE)) for r in replicas]
            await self.submit_long(figures, clients)
            await anyio.sleep(self.plan.settle)
            await self.steady_state(figures, replicas, database)
            await self.wake_latency(figures, replicas, clients, database)
        if database is not None:
            await self.takeover(figures, replicas, database)

    async def submit_long(self, figures: Figures, clients: list[Client]) -> None:
        limiters = [anyio.CapacityLimiter(self.plan.submit_concurrency) for _ in clients]

        async def submit(i: int) -> None:
            n = i % len(clients)
            async with limiters[n]:
                try:
                    await self.generate(clients[n], f"{figures.label} in flight {i}: waves roll in", i)
                except RuntimeError as exc:
                    figures.submit_failures.append(str(exc))

        started = time.perf_counter()
        async with anyio.create_task_group() as group:
            for i in range(self.plan.tasks):
                group.start_soon(submit, i)
        figures.submit_seconds = time.perf_counter() - started

    async def generate(self, client: Client, prompt: str, i: int) -> str:
        made = await call(client, "generate_video", {"image": self.image, "prompt": prompt,
                                                      "provider": PROVIDERS[i % len(PROVIDERS)], "wait_seconds": 0})
        return made["task_id"]

    async def steady_state(self, figures: Figures, replicas: list[Replica], database: str | None) -> None:
        pids = [r.pid for r in replicas]
        cpu_before, wall_before = {pid: cpu_seconds(pid) for pid in pids}, time.monotonic()
        rss: dict[int, list[float]] = {pid: [] for pid in pids}
        while True:
            for pid in pids:
                rss[pid].append(resident_mb(pid))
            if database is not None:
                total, by_pid = connections(database)
                figures.connections.append(total)
                figures.connections_by_replica = by_pid
            if time.monotonic() - wall_before >= self.plan.window:
                break
            await anyio.sleep(1.0)
        wall = time.monotonic() - wall_before
        figures.rss = {pid: max(values) for pid, values in rss.items()}
        figures.cpu = {pid: (cpu_seconds(pid) - cpu_before[pid]) / wall for pid in pids}

    async def wake_latency(self, figures: Figures, replicas: list[Replica], clients: list[Client],
                           database: str | None) -> None:
        """Short jobs made on replica n, awaited on replica n+1 (the same one when there is one)."""
        low, high = self.plan.sample_seconds
        rng = random.Random(17)
        answers: dict[str, tuple[float, float, dict, int]] = {}  # task_id -> (asked, answered, task, waiter's pid)

        async def sample(i: int) -> None:
            prompt = f"{figures.label} wake sample {i}: a kite over dunes"
            self.lengths[prompt] = rng.uniform(low, high)
            maker, waiter = i % len(clients), (i + 1) % len(clients)
            task_id = await self.generate(clients[maker], prompt, i)
            asked = time.time()
            task = await call(clients[waiter], "get_task", {"task_id": task_id, "wait_seconds": 60})
            answers[task_id] = (asked, time.time(), task, replicas[waiter].pid)

        committed: dict[str, float] = {}  # task_id -> when an outside listener heard of its latest change
        async with anyio.create_task_group() as outer:
            if database:
                outer.start_soon(listen, database, committed)
            async with anyio.create_task_group() as group:
                for i in range(self.plan.samples):
                    group.start_soon(sample, i)
                    await anyio.sleep(self.plan.sample_gap)  # spread out: no burst of submits ahead of the waits
            outer.cancel_scope.cancel()
        owners = lease_owners(database, list(answers)) if database else {}
        for task_id, (asked, answered, task, waiter_pid) in answers.items():
            written_by = owners.get(task_id, waiter_pid)
            if task["status"] != "completed" or (database and written_by == waiter_pid) or \
                    asked >= epoch(task["updated_at"]):
                figures.wake_skipped += 1
                figures.notes.append(f"skipped sample {task_id}: {task['status']} {task.get('error')}, written by "
                                     f"{written_by}, waiter {waiter_pid}, asked {asked-epoch(task['updated_at']):+.2f}"
                                     " s after the write")
                continue
            figures.wake.append(answered - epoch(task["updated_at"]))
            if task_id in committed:
                figures.wake_after_commit.append(answered - committed[task_id])

    async def takeover(self, figures: Figures, replicas: list[Replica], database: str) -> None:
        victim = replicas[0]
        with psycopg.connect(database, autocommit=True, application_name=BENCH_APP) as db:
            rows = db.execute(
                "SELECT task_id, provider, provider_task_id, lease_until - extract(epoch from clock_timestamp()) "
                "FROM tasks WHERE status NOT IN ('completed', 'failed', 'cancelled') AND owner LIKE %s",
                [f"%:{victim.pid}:%"]).fetchall()
            if self.plan.kill_after_renewal:
                await renewed(db, victim.pid)
                rows = db.execute(
                    "SELECT task_id, provider, provider_task_id, lease_until - extract(epoch from clock_timestamp()) "
                    "FROM tasks WHERE task_id = ANY(%s)", [[row[0] for row in rows]]).fetchall()
            victim.proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            victim.proc.wait()
            await anyio.sleep(0.5)  # a poll the victim sent before it died is counted before the baseline
            jobs = {row[0]: self.fake.provider(row[1]).jobs[row[2]] for row in rows}
            baseline = {task_id: job.polls for task_id, job in jobs.items()}
            ids = list(jobs)
            claimed_at: dict[str, float] = {}
            polled_at: dict[str, float] = {}
            while (len(claimed_at) < len(ids) or len(polled_at) < len(ids)) and \
                    time.monotonic() - killed < self.plan.takeover_limit:
                now = time.monotonic() - killed
                for task_id in ids:
                    if task_id not in polled_at and jobs[task_id].polls > baseline[task_id]:
                        polled_at[task_id] = now
                taken = db.execute("SELECT task_id FROM tasks WHERE task_id = ANY(%s) AND owner NOT LIKE %s",
                                   [ids, f"%:{victim.pid}:%"]).fetchall()
                for (task_id,) in taken:
                    claimed_at.setdefault(task_id, now)
                await anyio.sleep(0.1)
            holders = dict(db.execute("SELECT owner, count(*) FROM tasks WHERE task_id = ANY(%s) GROUP BY owner",
                                      [ids]).fetchall())
        figures.takeover = {"tasks": len(ids), "claimed": sorted(claimed_at.values()),
                            "polled": sorted(polled_at.values()),
                            "lease_left": (min(r[3] for r in rows), max(r[3] for r in rows)) if rows else (0, 0),
                            "holders": sorted(holders.values(), reverse=True)}


# --- PostgreSQL -----------------------------------------------------------------------------------
@contextmanager
def scratch_database() -> Iterator[str]:
    """A new database on the server VIDEOGEN_TEST_DATABASE_URL names, dropped afterwards."""
    name = f"videogen_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f"CREATE DATABASE {name}")
    except psycopg.Error as exc:
        raise SystemExit(f"no PostgreSQL to benchmark at VIDEOGEN_TEST_DATABASE_URL ({type(exc).__name__}); "
                         "start one or point the variable at one") from None
    try:
        yield with_database(URL, name)
    finally:
        with psycopg.connect(URL, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def renewed(db: psycopg.Connection, pid: int) -> None:
    """Return once replica `pid` has just renewed its leases (the longest has more than 29.5 s left)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = db.execute("SELECT max(lease_until) - extract(epoch from clock_timestamp()) FROM tasks "
                          "WHERE owner LIKE %s", [f"%:{pid}:%"]).fetchone()[0]
        if left is not None and left > 29.5:
            return
        await anyio.sleep(0.05)


async def listen(database: str, heard: dict[str, float]) -> None:
    """LISTEN on the replicas' change channel, as a replica does: task_id -> when its latest change was heard."""
    from videogen_mcp.tasks.postgres_store import CHANNEL

    async with await psycopg.AsyncConnection.connect(database, autocommit=True, application_name=BENCH_APP) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        async for note in conn.notifies():
            heard[json.loads(note.payload)["task"]] = time.time()


def connections(database: str) -> tuple[int, dict[int, int]]:
    """The server's connections to the benchmark's database (its own excluded), in all and per replica pid."""
    name = database.rsplit("/", 1)[1]
    with psycopg.connect(URL, autocommit=True) as admin:
        rows = admin.execute("SELECT application_name FROM pg_stat_activity WHERE datname = %s "
                             "AND application_name <> %s", [name, BENCH_APP]).fetchall()
    by_pid: dict[int, int] = {}
    for (app,) in rows:  # "videogen-mcp host:pid:xxxxxx" (+ " listen")
        parts = app.split(":")
        if len(parts) >= 2 and parts[-2].isdigit():
            by_pid[int(parts[-2])] = by_pid.get(int(parts[-2]), 0) + 1
    return len(rows), by_pid


def lease_owners(database: str, task_ids: list[str]) -> dict[str, int]:
    """task_id -> pid of the replica holding its lease (the one that wrote its last change)."""
    with psycopg.connect(database, autocommit=True, application_name=BENCH_APP) as db:
        rows = db.execute("SELECT task_id, owner FROM tasks WHERE task_id = ANY(%s)", [task_ids]).fetchall()
    return {task_id: int(owner.split(":")[-2]) for task_id, owner in rows if owner}


def epoch(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


# --- report ---------------------------------------------------------------------------------------
def per_replica(values: dict[int, float], fmt: str) -> str:
    return " / ".join(fmt.format(v) for v in values.values())


def rows(plan: Plan, pg: Figures, lite: Figures) -> list[tuple[str, str, str]]:
    n = plan.tasks
    out = [(f"submit {n} tasks over MCP HTTP (generate_video, wait_seconds=0)", f"{pg.submit_seconds:.1f} s",
            f"{lite.submit_seconds:.1f} s")]
    t = pg.takeover
    if t:
        first = f"{t['claimed'][0]:.1f} s" if t["claimed"] else "none"
        out += [
            (f"takeover after SIGKILL of a replica: all {t['tasks']} of its tasks leased by survivors "
             f"(first at {first})", all_done(t["claimed"], t["tasks"], plan), "- (one process: a restart resumes)"),
            (f"takeover: all {t['tasks']} polled by a survivor (median task {median(t['polled']):.1f} s)",
             all_done(t["polled"], t["tasks"], plan), "-"),
        ]
    for q in (50, 95):
        out.append((f"wake latency p{q}: finishing write -> waiter's answer ({len(pg.wake)} / {len(lite.wake)} "
                    "samples)", f"{pct(pg.wake, q) * 1000:.0f} ms (other replica)" if pg.wake else "no samples",
                    f"{pct(lite.wake, q) * 1000:.0f} ms (same process)" if lite.wake else "no samples"))
    if pg.wake_after_commit:
        after = pg.wake_after_commit
        out.append((f"wake latency p50 / p95 from the commit: an outside LISTEN hears it -> waiter's answer "
                    f"({len(after)} samples)", f"{pct(after, 50) * 1000:.0f} / {pct(after, 95) * 1000:.0f} ms", "-"))
    if pg.connections:
        out.append((f"database connections at steady state, {n} in flight (max over the window)",
                    f"{max(pg.connections)} ({' + '.join(str(c) for c in pg.connections_by_replica.values())})",
                    "0 (one SQLite file)"))
    out.append((f"RSS per replica, {n} in flight (peak over {plan.window:.0f} s)",
                per_replica(pg.rss, "{:.0f}") + " MB", per_replica(lite.rss, "{:.0f}") + " MB"))
    out.append((f"CPU per replica, {n} in flight (over {plan.window:.0f} s)",
                per_replica(pg.cpu, "{:.1%}") + " of a core", per_replica(lite.cpu, "{:.1%}") + " of a core"))
    return out


def all_done(times: list[float], count: int, plan: Plan) -> str:
    """When the last of `count` tasks got there, in seconds since the kill."""
    return f"{times[-1]:.1f} s" if len(times) == count else f"not all in {plan.takeover_limit:.0f} s"


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(plan: Plan, pg: Figures, lite: Figures) -> str:
    header = ("metric", f"PostgreSQL, {plan.replicas} replicas", "SQLite, 1 process (reference)")
    lines = ["| " + " | ".join(header) + " |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows(plan, pg, lite)]
    return "\n".join(lines)


def notes(plan: Plan, pg: Figures, lite: Figures, fake: FakeServer) -> list[str]:
    out = []
    t = pg.takeover
    if t:
        low, high = t["lease_left"]
        when = "killed just after it renewed them, the slowest case" if plan.kill_after_renewal else "killed at random"
        out.append(f"takeover: the killed replica's leases had {low:.1f}-{high:.1f} s left at the kill (lease 30 s, "
                   f"renewed every 10 s; {when}); a survivor re-reads the tasks it does not hold every 5 s (one "
                   "read for all) and claims each once lapsed, then polls on the task's schedule; tasks per "
                   "survivor afterwards: "
                   f"{', '.join(map(str, t['holders']))}")
    prompts = [r.json.get("prompt") if isinstance(r.json, dict) else None
               for name in PROVIDERS for r in fake.provider(name).submits()]
    submits = len(prompts)
    made = 2 * (plan.tasks + plan.samples)
    out.append(f"provider submits: {submits} for {made} tasks made in both setups (none submitted twice: "
               f"{'yes' if submits == made else 'NO'})")
    twice = {p for p in prompts if prompts.count(p) > 1}
    if twice or submits != made:
        out.append(f"prompts submitted more than once: {sorted(map(str, twice))[:5]}; without a prompt field: "
                   f"{prompts.count(None)}")
    for figures in (pg, lite):
        out += figures.notes
        if figures.wake_skipped:
            out.append(f"{figures.label}: {figures.wake_skipped} wake samples not counted (not completed, finished "
                       "by the waiter's own replica, or before the waiter asked)")
        if figures.submit_failures:
            out.append(f"{figures.label}: {len(figures.submit_failures)} generate_video calls failed; first: "
                       f"{figures.submit_failures[0]}")
    if fake.bugs:
        out.append(f"the fake providers hit {len(fake.bugs)} internal errors; first:\n{fake.bugs[0]}")
    return out


async def main(plan: Plan, quick: bool) -> None:
    print(machine(), flush=True)
    print(f"server: {SERVER_COMMAND} serve --transport streamable-http at {revision()}, default poll schedule, "
          f"downloads off{'; QUICK or custom mode: figures not representative' if quick else ''}", flush=True)
    with tempfile.TemporaryDirectory(prefix="videogen-replicas-") as tmp, FakeServer() as fake:
        bench = Bench(plan, fake, Path(tmp))
        pg, lite = Figures("PostgreSQL"), Figures("SQLite")
        with scratch_database() as database, bench.serve("pg", plan.replicas,
                                                         VIDEOGEN_DATABASE_URL=database) as replicas:
            await bench.measure(pg, replicas, database)
        with bench.serve("sqlite", 1) as (server,):
            await bench.measure(lite, [server], None)
        print()
        print(table(plan, pg, lite))
        print()
        for note in notes(plan, pg, lite, fake):
            print(f"- {note}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 replicas, 30 tasks, short jobs (a smoke test)")
    parser.add_argument("--tasks", type=int, help="long tasks in flight (default 1000; quick 30)")
    parser.add_argument("--samples", type=int, help="wake-latency samples (default 200; quick 12)")
    args = parser.parse_args()
    chosen = QUICK if args.quick else Plan()
    chosen = replace(chosen, tasks=args.tasks or chosen.tasks, samples=args.samples or chosen.samples)
    anyio.run(main, chosen, args.quick or chosen != Plan())
