"""The performance figures of issue 6 in one table, measured against the fake providers the tests use.

Starts the loopback fakes (tests/fakes) and real `videogen-mcp` subprocesses over stdio with the mcp
client, on the server's default poll schedule, next to a bare SDK server with one echo tool
(benchmarks/bare_server.py) spawned the same way. Prints the machine, then a markdown table:

- start-up (spawn -> handshake answered) and get_task latency, each next to the bare server;
- completion detection (the fake's ready time -> the client holds the completed, downloaded task) over
  jobs of real, varied length (log-normal around each model's typical time), all run in parallel;
- provider status polls per task, next to a fixed 2-second poller computed on the same jobs;
- RSS and CPU share of a server following 1,000 unfinished tasks;
- time to turn a 10 MB local image into a provider payload (in-process).

Run from the repository root after `pip install -e '.[dev]'`:
    python benchmarks/run.py           # about 9 minutes (the longest job is 5.5 min)
    python benchmarks/run.py --quick   # about a minute, few short jobs: checks the command, not the figures
    python benchmarks/run.py --in-flight   # only the 1,000-tasks-in-flight RSS and CPU rows (about 3 minutes)
"""

from __future__ import annotations

import argparse
import io
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.fakes: the same fake providers the tests use

from tests.fakes import FakeServer  # noqa: E402

from videogen_mcp import catalog, images  # noqa: E402

PROVIDERS = ("wavespeed", "gptproto", "aimlapi", "myrouter")
SERVER_SCRIPT = Path(sys.executable).with_name("videogen-mcp")
BARE_SERVER = Path(__file__).with_name("bare_server.py")
FINISHED = ("completed", "failed", "cancelled")
#: (canonical model, video seconds) the detection jobs cycle through: typical times of 2 to 4 minutes.
JOB_MIX = (
    ("kling-v2.5-turbo-pro-i2v", 5),
    ("kling-v2.1-i2v-standard", 5),
    ("kling-v2.1-i2v-pro", 5),
    ("kling-v2.5-turbo-pro-i2v", 10),
)
SPREAD = 0.3  # log-normal sigma of job lengths around the typical time
FIXED_GAP = 2.0  # the reference poller


@dataclass(frozen=True)
class Plan:
    startup_runs: int = 10
    calls: int = 300
    jobs: int = 120
    job_cap: float = 330.0  # no job longer than this (redrawn), so the run stays under ten minutes
    quick_jobs: bool = False  # short jobs (around 12 s) instead of real lengths
    in_flight: int = 1000
    settle: float = 10.0
    window: float = 30.0
    image_runs: int = 5


QUICK = Plan(startup_runs=3, calls=40, jobs=8, job_cap=30.0, quick_jobs=True, in_flight=100, settle=2.0,
             window=4.0, image_runs=2)


@dataclass
class Row:
    metric: str
    ours: str
    reference: str = "-"
    ratio: str = "-"
    target: str = "-"


@dataclass
class Bench:
    plan: Plan
    fake: FakeServer
    workdir: Path
    image: Path
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Per detection job: (provider, delay, polls, fixed-poller delay, fixed-poller polls).
    breakdown: list[tuple[str, float, int, float, int]] = field(default_factory=list)
    spawned: int = 0

    # --- servers ----------------------------------------------------------
    def server_env(self, data_dir: Path) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(data_dir),
            "VIDEOGEN_DATA_DIR": str(data_dir),
            "VIDEOGEN_DOWNLOAD": "1",
        }
        for name in PROVIDERS:
            env[f"{name.upper()}_API_KEY"] = self.fake.api_key(name)
            env[f"{name.upper()}_BASE_URL"] = self.fake.base_url(name)
        return env

    def fresh_dir(self, label: str) -> Path:
        self.spawned += 1
        path = self.workdir / f"{label}-{self.spawned}"
        path.mkdir()
        return path

    @asynccontextmanager
    async def videogen(self, label: str, **extra_env: str):
        """A connected client of a fresh videogen-mcp process, and its data dir."""
        data_dir = self.fresh_dir(label)
        env = {**self.server_env(data_dir), **extra_env}
        if SERVER_SCRIPT.exists():
            params = StdioServerParameters(command=str(SERVER_SCRIPT), env=env)
        else:
            params = StdioServerParameters(command=sys.executable, args=["-m", "videogen_mcp"], env=env)
        with (data_dir / "server.log").open("w") as log:
            async with Client(stdio_client(params, errlog=log)) as client:
                yield client, data_dir

    @asynccontextmanager
    async def bare(self):
        home = self.fresh_dir("bare")
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
        params = StdioServerParameters(command=sys.executable, args=[str(BARE_SERVER)], env=env)
        with (home / "server.log").open("w") as log:
            async with Client(stdio_client(params, errlog=log)) as client:
                yield client

    # --- measurements -----------------------------------------------------
    async def startup(self) -> None:
        ours, bare = [], []
        for _ in range(self.plan.startup_runs):  # interleaved, so both see the same machine load
            started = time.perf_counter()
            async with self.videogen("startup"):
                ours.append(time.perf_counter() - started)
            started = time.perf_counter()
            async with self.bare():
                bare.append(time.perf_counter() - started)
        a, b = statistics.median(ours), statistics.median(bare)
        self.rows.append(Row(
            f"start-up: spawn -> handshake answered, median of {len(ours)}",
            f"{a * 1000:.0f} ms", f"{b * 1000:.0f} ms (bare MCPServer)", f"{a / b:.2f}x", target(a / b, 1.15, "x"),
        ))

    async def detection_and_latency(self) -> None:
        jobs = self.plan_jobs()
        self.use_planned_lengths(jobs)
        async with self.videogen("detection") as (client, _):
            started = time.time()
            outcomes, failures = await follow_all(client, jobs, self.image)
            self.notes += [f"detection job lost: {failure}" for failure in failures]
            self.notes.append(f"detection jobs: {len(jobs)} over {', '.join(PROVIDERS)}, lengths "
                              f"{min(jobs.values()):.0f}-{max(jobs.values()):.0f} s (median "
                              f"{statistics.median(jobs.values()):.0f} s), all started at once; "
                              f"phase took {time.time() - started:.0f} s")
            self.report_detection(outcomes)
            done = next(task for task, _ in outcomes.values() if task["status"] == "completed")
            async with self.bare() as bare:
                await self.latency(client, done["task_id"], bare)

    def plan_jobs(self) -> dict[str, float]:
        """Prompt -> job length, spread over providers and models (the prompt tells the fake which job)."""
        rng = random.Random(6)
        jobs = {}
        for i in range(self.plan.jobs):
            provider = PROVIDERS[i % len(PROVIDERS)]
            model, duration = JOB_MIX[(i // len(PROVIDERS)) % len(JOB_MIX)]
            median = 12.0 if self.plan.quick_jobs else catalog.typical_seconds(provider, model, duration)
            seconds = math.inf
            while not 0.5 * median <= seconds <= self.plan.job_cap:
                seconds = median * math.exp(rng.gauss(0, SPREAD))
            jobs[f"{provider}|{model}|{duration}|benchmark job {i}: a slow pan across the valley"] = seconds
        return jobs

    def use_planned_lengths(self, jobs: dict[str, float]) -> None:
        for name in PROVIDERS:
            self.fake.provider(name).job_seconds_for = lambda _model, body: jobs[body["prompt"]]

    def report_detection(self, outcomes: dict[str, tuple[dict, float]]) -> None:
        results = self.breakdown
        followed = [(task, self.fake.provider(task["provider"]).jobs[task["provider_task_id"]], received)
                    for task, received in outcomes.values()]
        deliveries = [received - job.first_finished_poll_at for _, job, received in followed
                      if job.first_finished_poll_at is not None]
        for task, job, received in followed:
            if task["status"] != "completed" or not task["video_path"]:
                self.notes.append(f"job {task['provider_task_id']} on {task['provider']} ended {task['status']}: "
                                  f"{task['error']}")
                continue
            # After the poll that sees the video, both pollers pay the same: download, store, answer the call.
            delivery = received - (job.first_finished_poll_at or received - statistics.median(deliveries))
            fixed_polls = max(1, math.ceil(job.seconds / FIXED_GAP))
            fixed_delay = fixed_polls * FIXED_GAP - job.seconds + delivery
            results.append((task["provider"], received - job.ready_at, job.polls, fixed_delay, fixed_polls))
        if not results:
            raise SystemExit("no detection job completed; see the notes above")
        delays, polls = [r[1] for r in results], [r[2] for r in results]
        fixed_delays, fixed_polls = [r[3] for r in results], [r[4] for r in results]
        n = len(results)
        ref = "fixed 2-s poller (computed)"
        self.rows.append(Row(f"completion detection median ({n} jobs, ready -> client holds result)",
                             f"{statistics.median(delays):.2f} s", f"{statistics.median(fixed_delays):.2f} s {ref}",
                             "-", target(statistics.median(delays), 1.0, " s")))
        self.rows.append(Row("completion detection p95", f"{pct(delays, 95):.2f} s",
                             f"{pct(fixed_delays, 95):.2f} s {ref}"))
        ratio = statistics.mean(polls) / statistics.mean(fixed_polls)
        self.rows.append(Row("provider status polls per task, mean", f"{statistics.mean(polls):.1f}",
                             f"{statistics.mean(fixed_polls):.1f} {ref}", f"{ratio:.2f}x", target(ratio, 0.5, "x")))
        self.notes.append(f"delivery after the fake first answered 'completed' (download, store, answer): median "
                          f"{statistics.median(deliveries):.2f} s; included on both sides")

    async def latency(self, client: Client, task_id: str, bare: Client) -> None:
        ours, floor = [], []
        arguments = {"task_id": task_id, "wait_seconds": 0}
        for i in range(self.plan.calls + 20):  # the first 20 of each warm up
            a = await timed(client, "get_task", arguments)
            b = await timed(bare, "echo", {"text": task_id})
            if i >= 20:
                ours.append(a)
                floor.append(b)
        for q in (50, 95):
            a, b = pct(ours, q), pct(floor, q)
            self.rows.append(Row(
                f"get_task latency p{q} ({len(ours)} calls over stdio)" if q == 50 else "get_task latency p95",
                f"{a * 1000:.2f} ms", f"{b * 1000:.2f} ms (bare echo tool)", f"{a / b:.2f}x",
                target(a / b, 1.2, "x") if q == 50 else "-",
            ))

    async def in_flight(self, busy: bool = False) -> None:
        """1,000 unfinished tasks: early on (sparse polls), or `busy`: every task due at once, so polls run
        at the per-provider budget (VIDEOGEN_POLL_MAX_INTERVAL=1 makes each task ask every second)."""
        count = self.plan.in_flight
        for name in PROVIDERS:
            provider = self.fake.provider(name)
            provider.job_seconds_for, provider.job_seconds = None, 1200.0  # none finishes in the window
        extra = {"VIDEOGEN_POLL_MAX_INTERVAL": "1"} if busy else {}
        async with self.videogen("inflight", **extra) as (client, data_dir):
            pid = server_pid(data_dir)
            started = time.perf_counter()
            limiter = anyio.CapacityLimiter(50)

            refused: list[str] = []

            async def submit(i: int) -> None:
                async with limiter:
                    try:
                        await call(client, "generate_video", {
                            "image": str(self.image), "prompt": f"in flight {i}: waves roll in",
                            "provider": PROVIDERS[i % len(PROVIDERS)], "wait_seconds": 0,
                        })
                    except RuntimeError as exc:
                        refused.append(str(exc))

            async with anyio.create_task_group() as group:
                for i in range(count):
                    group.start_soon(submit, i)
            submitted = time.perf_counter() - started
            await anyio.sleep(self.plan.settle)
            polls_before = self.total_polls()
            cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
            rss = []
            while time.monotonic() - wall_before < self.plan.window:
                rss.append(resident_mb(pid))
                await anyio.sleep(1.0)
            wall = time.monotonic() - wall_before
            share = (cpu_seconds(pid) - cpu_before) / wall
            polls = self.total_polls() - polls_before
            running = sum(job.seconds == 1200.0 for name in PROVIDERS for job in self.fake.provider(name).jobs.values())
        peak = max(rss)
        phase = "all due, polled at the budget" if busy else "waiting"
        self.rows.append(Row(f"RSS with {count} tasks in flight, {phase} (peak over {wall:.0f} s)", f"{peak:.0f} MB",
                             target=target(peak, 150, " MB", strict=True)))
        self.rows.append(Row(f"CPU with {count} tasks in flight, {phase} ({polls / wall:.0f} polls/s)",
                             f"{share * 100:.1f} % of a core",
                             target=target(share * 100, 5, " %", strict=True) if not busy else "-"))
        self.notes.append(f"in flight ({phase}): {count} generate_video(wait_seconds=0) took {submitted:.1f} s "
                          f"(50 at a time); {running} provider jobs running; the server polled "
                          f"{polls / wall:.1f} times/s during the {wall:.0f} s window, after {self.plan.settle:.0f} s "
                          f"to settle ({share * 1000 / max(polls / wall, 1e-9):.2f} ms of CPU per poll)")
        if refused:
            self.notes.append(f"in flight: {len(refused)} of {count} generate_video calls failed; first: {refused[0]}")

    def total_polls(self) -> int:
        return sum(len(self.fake.provider(name).polls()) for name in PROVIDERS)

    def image_payload(self) -> None:
        path = noise_png(self.workdir / "ten-mb.png")
        times, payload = [], ""
        for _ in range(self.plan.image_runs):
            started = time.perf_counter()
            payload = images.load_image(str(path)).data_uri()
            times.append(time.perf_counter() - started)
        self.rows.append(Row(
            f"10 MB image -> provider payload ({path.stat().st_size / 2**20:.2f} MiB noise PNG; load_image + "
            f"data_uri, median of {len(times)})", f"{statistics.median(times) * 1000:.0f} ms",
        ))
        self.notes.append(f"image payload: the PNG (limit {images.MAX_BYTES / 2**20:.0f} MiB) becomes a "
                          f"{len(payload) / 2**20:.1f} MiB data URI")


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict:
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{tool} failed: {text}")
    return result.structured_content


async def timed(client: Client, tool: str, arguments: dict[str, Any]) -> float:
    started = time.perf_counter()
    await call(client, tool, arguments)
    return time.perf_counter() - started


async def follow_all(
    client: Client, jobs: dict[str, float], image: Path
) -> tuple[dict[str, tuple[dict, float]], list[str]]:
    """Start every job with generate_video(wait_seconds=0), follow each with get_task(wait_seconds=45).

    Returns prompt -> (the finished task, the wall time the client held it), and the calls that failed.
    """
    outcomes: dict[str, tuple[dict, float]] = {}
    failures: list[str] = []
    limiter = anyio.CapacityLimiter(20)

    async def one(prompt: str) -> None:
        provider, model, duration, _ = prompt.split("|")
        try:
            async with limiter:
                task = await call(client, "generate_video", {
                    "image": str(image), "prompt": prompt, "provider": provider, "model": model,
                    "duration": int(duration), "wait_seconds": 0,
                })
            while task["status"] not in FINISHED:
                task = await call(client, "get_task", {"task_id": task["task_id"], "wait_seconds": 45})
        except RuntimeError as exc:
            failures.append(f"{provider}: {exc}")
            return
        outcomes[prompt] = (task, time.time())

    async with anyio.create_task_group() as group:
        for prompt in jobs:
            group.start_soon(one, prompt)
    return {prompt: outcomes[prompt] for prompt in jobs if prompt in outcomes}, failures


# --- helpers ------------------------------------------------------------------------------------
def pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def target(value: float, limit: float, unit: str, strict: bool = False) -> str:
    met = value < limit if strict else value <= limit
    return f"{'<' if strict else '<='} {limit:g}{unit} {'met' if met else 'MISSED'}"


def server_pid(data_dir: Path) -> int:
    """The process whose environment names this data dir (Linux /proc)."""
    marker = f"VIDEOGEN_DATA_DIR={data_dir}".encode()
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                return int(entry)
        except OSError:
            continue
    raise RuntimeError(f"no server process found for {data_dir}")


def resident_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process itself (children not included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def noise_png(path: Path) -> Path:
    """A PNG of random pixels (it does not compress) just under the 10 MB limit."""
    limit = images.MAX_BYTES
    width = 2000
    height = int(limit * 0.995 / (3 * width + 1))
    while True:
        picture = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG", compress_level=1)
        if buffer.tell() <= limit:
            path.write_bytes(buffer.getvalue())
            return path
        height -= 20


def small_png(path: Path) -> Path:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 360), (40, 120, 200)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def machine() -> str:
    model = "unknown CPU"
    with suppress(OSError, StopIteration):
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"machine: {os.cpu_count()} cores, {model}; Python {platform.python_version()} on "
            f"{platform.system()} {platform.release()}; load average {load}")


def revision() -> str:
    """The commit measured, and whether the tree differs from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "server")
    except OSError:
        return "unknown revision"
    return f"{commit or 'unknown revision'}{' + uncommitted server changes' if dirty else ''}"


def table(rows: list[Row]) -> str:
    header = ("metric", "videogen-mcp", "reference", "ratio", "target")
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += [f"| {r.metric} | {r.ours} | {r.reference} | {r.ratio} | {r.target} |" for r in rows]
    return "\n".join(lines)


def breakdown(results: list[tuple[str, float, int, float, int]]) -> str:
    lines = ["| provider | jobs | detection median | detection p95 | polls/task | fixed 2-s polls/task |",
             "|---|---|---|---|---|---|"]
    for name in PROVIDERS:
        mine = [r for r in results if r[0] == name]
        if mine:
            delays = [r[1] for r in mine]
            lines.append(f"| {name} | {len(mine)} | {statistics.median(delays):.2f} s | {pct(delays, 95):.2f} s | "
                         f"{statistics.mean(r[2] for r in mine):.1f} | {statistics.mean(r[4] for r in mine):.1f} |")
    return "\n".join(lines)


async def main(plan: Plan, quick: bool, only_in_flight: bool = False) -> None:
    print(machine(), flush=True)
    command = SERVER_SCRIPT if SERVER_SCRIPT.exists() else "python -m videogen_mcp"
    print(f"server: {command} at {revision()}, default poll schedule"
          f"{'; QUICK mode: few short jobs, figures not representative' if quick else ''}", flush=True)
    with tempfile.TemporaryDirectory(prefix="videogen-bench-") as tmp, FakeServer() as fake:
        bench = Bench(plan, fake, Path(tmp), small_png(Path(tmp) / "photo.png"))
        if not only_in_flight:
            bench.image_payload()
            await bench.startup()
            await bench.detection_and_latency()
        await bench.in_flight()
        await bench.in_flight(busy=True)
        order = ("start-up", "get_task latency p50", "get_task latency p95", "completion detection median",
                 "completion detection p95", "provider status polls", "RSS", "CPU", "")
        bench.rows.sort(key=lambda r: next(i for i, prefix in enumerate(order) if r.metric.startswith(prefix)))
        print()
        print(table(bench.rows))
        print()
        if bench.breakdown:
            print(breakdown(bench.breakdown))
            print()
        for note in bench.notes:
            print(f"- {note}")
        if fake.bugs:
            print(f"- the fake providers hit {len(fake.bugs)} internal errors; first:\n{fake.bugs[0]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small counts and short jobs (a smoke test)")
    parser.add_argument("--in-flight", action="store_true",
                        help="only the RSS and CPU of a server following many unfinished tasks")
    args = parser.parse_args()
    anyio.run(main, QUICK if args.quick else Plan(), args.quick, args.in_flight)
