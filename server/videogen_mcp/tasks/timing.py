"""Time estimates: progress and ETA when a provider reports none, and when to poll next."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from videogen_mcp.models import Task


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def elapsed_seconds(task: Task, now: datetime | None = None, since: str | None = None) -> float:
    """Seconds since the task was created (or since the `since` timestamp)."""
    start = datetime.fromisoformat((since or task.created_at).replace("Z", "+00:00"))
    return max(0.0, ((now or datetime.now(UTC)) - start).total_seconds())


def estimated_progress(elapsed: float, typical: float, queued: bool) -> float:
    """Rises linearly to 90 at the typical duration, then creeps toward 99; never reaches 100."""
    ratio = elapsed / typical if typical > 0 else 1.0
    value = 90 * ratio if ratio < 1 else 90 + 9 * (1 - math.exp(-(ratio - 1)))
    return min(value, 5.0 if queued else 99.0)


def estimated_eta(elapsed: float, typical: float) -> int | None:
    left = typical - elapsed
    return round(left) if left > 0 else None


def describe(task: Task, progress_eta: int | None = None) -> str:
    """A short progress message: 'processing · about 2 min left'."""
    if task.status == "queued" and not task.provider_task_id:
        return f"submitting to {task.provider}"
    if task.status == "processing" and task.video_url:
        return "downloading the video"
    if task.finished:
        return task.status
    eta = progress_eta if progress_eta is not None else task.eta_seconds
    return f"{task.status} · {_left(eta)}"


def _left(eta: int | None) -> str:
    if eta is None:
        return "taking longer than usual"
    if eta < 60:
        return f"about {max(eta, 1)} s left"
    return f"about {round(eta / 60)} min left"


#: Spread of generation times around the typical one (log-normal sigma), chosen wider than observed so
#: that a provider slower or faster than its typical time costs few extra polls (benchmarks/poll_schedule.py).
SPREAD = 0.5
#: Trades polls against detection delay: the gap is TRADEOFF / sqrt(hazard rate).
TRADEOFF = 0.7


@dataclass(frozen=True)
class PollSchedule:
    """Polls rarely while the video is unlikely to be ready, densely where it most likely finishes.

    The gap follows 1/sqrt(hazard) of a log-normal completion time centred on the typical duration
    (or on elapsed + the provider's ETA): the gap that minimises expected delay plus polls.
    """

    min_gap: float
    max_gap: float

    def gap(self, elapsed: float, typical: float, eta: int | None, retry_after: float | None = None) -> float:
        median = elapsed + eta if eta is not None else typical
        hazard = completion_hazard(max(elapsed, 0.02 * median), median)
        gap = TRADEOFF / math.sqrt(hazard) if hazard > 0 else math.inf
        gap = min(gap, median / 4, self.max_gap)  # a short job is never left alone for long
        return max(gap, self.min_gap, retry_after or 0.0)


def completion_hazard(t: float, median: float, spread: float = SPREAD) -> float:
    """Chance per second that a job still running at t finishes now (log-normal completion times)."""
    if not (t > 0 and median > 0 and spread > 0 and math.isfinite(t / median)):
        return 0.0
    z = math.log(t / median) / spread
    density = math.exp(-z * z / 2) / (t * spread * math.sqrt(2 * math.pi))
    survival = 0.5 * math.erfc(z / math.sqrt(2))
    return density / survival if survival > 1e-12 else z / (spread * t)
