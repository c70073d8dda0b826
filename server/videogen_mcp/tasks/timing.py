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


@dataclass(frozen=True)
class PollSchedule:
    """Polls sparsely while the video cannot be ready, densely around when it should be."""

    min_gap: float
    max_gap: float

    def gap(self, elapsed: float, typical: float, eta: int | None, retry_after: float | None = None) -> float:
        remaining = eta if eta is not None else typical - elapsed
        gap = remaining / 2 if remaining > 0 else self.min_gap + 0.1 * -remaining
        gap = min(max(gap, self.min_gap), self.max_gap)
        return max(gap, retry_after or 0.0)
