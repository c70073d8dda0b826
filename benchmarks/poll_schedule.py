"""How fast the poll schedule notices a finished video, and how many polls it spends doing so.

Draws job durations from a log-normal spread (sigma 0.35) around a median that is the model's typical
duration, or 0.6x / 1.5x of it (a provider faster or slower than the catalog says), and replays the
real PollSchedule against them (no network), next to fixed-interval polling.
Run: python benchmarks/poll_schedule.py
"""

from __future__ import annotations

import math
import random
import statistics

from videogen_mcp.tasks.timing import PollSchedule

TYPICAL = 210.0  # kling-v2.1-i2v-pro, 5 s video
JOBS = 4000


def replay(next_gap, finish_at: float) -> tuple[int, float]:
    now, polls = 0.0, 0
    while True:
        now += next_gap(now)
        polls += 1
        if now >= finish_at:
            return polls, now - finish_at


def report(name: str, next_gap, jobs: list[float]) -> None:
    runs = [replay(next_gap, job) for job in jobs]
    delays = sorted(d for _, d in runs)
    print(f"  {name:<26} polls/job {statistics.mean(p for p, _ in runs):5.1f}   detection delay "
          f"mean {statistics.mean(delays):4.1f} s, p95 {delays[int(0.95 * len(delays))]:4.1f} s")


def main() -> None:
    schedule = PollSchedule(min_gap=2.0, max_gap=30.0)
    rng = random.Random(7)
    for scale in (0.6, 1.0, 1.5):
        jobs = [TYPICAL * scale * math.exp(rng.gauss(0, 0.35)) for _ in range(JOBS)]
        print(f"jobs with median {scale:g}x the typical {TYPICAL:.0f} s ({JOBS} simulated)")
        report("videogen schedule (2-30 s)", lambda t: schedule.gap(t, TYPICAL, None), jobs)
        for interval in (5.0, 10.0, 15.0):
            report(f"fixed every {interval:g} s", lambda _t, i=interval: i, jobs)


if __name__ == "__main__":
    main()
