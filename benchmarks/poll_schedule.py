"""How fast the poll schedule notices a finished video, and how many polls it spends doing so.

Draws job durations from a log-normal spread (sigma 0.3) around a median that is the model's typical
duration, or 0.6x / 0.8x / 1.25x / 1.5x of it (a provider faster or slower than the catalog says),
and replays the real PollSchedule against them (no network, no server), next to fixed-interval polling.
Run: python benchmarks/poll_schedule.py   (the end-to-end figures are in benchmarks/run.py)
"""

from __future__ import annotations

import math
import random
import statistics

from videogen_mcp.tasks.timing import PollSchedule

TYPICAL = 210.0  # kling-v2.1-i2v-pro, 5 s video
JOBS = 4000
ROUND_TRIP = 0.05  # a poll's own latency, added to every detection delay


def replay(next_gap, finish_at: float, rng: random.Random) -> tuple[int, float]:
    now, polls = 0.0, 0
    while True:
        now += next_gap(now, rng)
        polls += 1
        if now >= finish_at:
            return polls, now - finish_at + ROUND_TRIP


def report(name: str, next_gap, jobs: list[float], reference: float | None = None) -> float:
    rng = random.Random(3)
    runs = [replay(next_gap, job, rng) for job in jobs]
    polls = statistics.mean(p for p, _ in runs)
    delays = sorted(d for _, d in runs)
    ratio = f" ({polls / reference:.2f}x the fixed 2 s)" if reference else ""
    print(f"  {name:<28} polls/job {polls:6.1f}{ratio:<22} detection delay median "
          f"{statistics.median(delays):4.2f} s, mean {statistics.mean(delays):4.1f} s, "
          f"p95 {delays[int(0.95 * len(delays))]:4.1f} s")
    return polls


def main() -> None:
    schedule = PollSchedule(min_gap=1.0, max_gap=30.0)
    rng = random.Random(7)
    for scale in (0.6, 0.8, 1.0, 1.25, 1.5):
        jobs = [TYPICAL * scale * math.exp(rng.gauss(0, 0.3)) for _ in range(JOBS)]
        print(f"jobs with median {scale:g}x the typical {TYPICAL:.0f} s ({JOBS} simulated)")
        fixed = report("fixed every 2 s", lambda _t, _r: 2.0, jobs)
        report("videogen schedule (1-30 s)", lambda t, r: schedule.gap(t, TYPICAL, None, jitter=r.random()),
               jobs, fixed)
        report("fixed every 5 s", lambda _t, _r: 5.0, jobs, fixed)


if __name__ == "__main__":
    main()
