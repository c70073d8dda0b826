"""How fast the poll schedule notices a finished video, and how many polls it spends doing so.

Simulates jobs that finish at 0.5x to 2x the model's typical duration and replays the real
PollSchedule (no network): prints polls per job and the delay between the video existing and the
poll that sees it, next to fixed-interval polling. Run: python benchmarks/poll_schedule.py
"""

from __future__ import annotations

import statistics

from videogen_mcp.tasks.timing import PollSchedule

TYPICAL = 210.0  # kling-v2.1-i2v-pro, 5 s video
FACTORS = [0.5, 0.7, 0.85, 1.0, 1.15, 1.3, 1.6, 2.0]


def replay(next_gap, finish_at: float) -> tuple[int, float]:
    now, polls = 0.0, 0
    while True:
        now += next_gap(now)
        polls += 1
        if now >= finish_at:
            return polls, now - finish_at


def report(name: str, next_gap) -> None:
    runs = [replay(next_gap, TYPICAL * f) for f in FACTORS]
    polls = [p for p, _ in runs]
    delays = [d for _, d in runs]
    print(f"{name:<28} polls/job mean {statistics.mean(polls):5.1f} max {max(polls):3d}   "
          f"detection delay mean {statistics.mean(delays):5.1f} s max {max(delays):5.1f} s")


def main() -> None:
    print(f"jobs finishing at {', '.join(f'{f:g}x' for f in FACTORS)} of a typical {TYPICAL:.0f} s")
    schedule = PollSchedule(min_gap=2.0, max_gap=15.0)
    report("videogen schedule (2-15 s)", lambda t: schedule.gap(t, TYPICAL, None))
    for interval in (2.0, 5.0, 10.0, 15.0):
        report(f"fixed every {interval:g} s", lambda _t, i=interval: i)


if __name__ == "__main__":
    main()
