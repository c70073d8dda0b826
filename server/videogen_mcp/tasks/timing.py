"""Time estimates: progress and ETA when a provider reports none, and when to poll next."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

from videogen_mcp.models import Task


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def elapsed_seconds(task: Task, now: datetime | None = None, since: str | None = None) -> float:
    """Seconds since the task was created (or since the `since` timestamp)."""
    start = parse_time(since or task.created_at)
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
    if eta is None and task.status == "queued":
        return f"queued at {task.provider}"  # not started: "taking longer than usual" would be wrong
    return f"{task.status} · {_left(eta)}"


def _left(eta: int | None) -> str:
    if eta is None:
        return "taking longer than usual"
    if eta < 60:
        return f"about {max(eta, 1)} s left"
    return f"about {round(eta / 60)} min left"


#: Spread of generation times around the model's typical one (log-normal sigma; benchmarks/poll_schedule.py).
SPREAD = 0.3
#: Dense polling starts this many SPREADs before the typical time: about 62% of jobs finish after it.
DENSE_FROM_Z = -0.3
#: Past one SPREAD beyond the typical time, the dense gap grows by this factor per SPREAD (a slow job).
LATE_GROWTH = 0.5
#: Polls before the dense window close in on it: the gap is this fraction of the time left to the window
#: (or, with a provider ETA, of the time it says is left).
APPROACH = 0.3
#: Early probes: no gap is longer than this while the job is young, so a job the provider rejects or fails
#: within seconds of the submit (a content filter, an image it refuses) is reported within this long.
PROBE_GAP = 2.5
#: Past the probes, no gap is longer than this fraction of the time elapsed, whatever the typical time
#: says: a job far faster than expected is still seen within a few percent of its length.
ELAPSED_FRACTION = 0.08
#: Gaps above the floor are shortened by up to this fraction at random, so tasks started together spread out.
JITTER = 0.15


@dataclass(frozen=True)
class PollSchedule:
    """Sparse while the video is unlikely to be ready, every `min_gap` where it most likely finishes.

    Without a provider ETA, generation times are taken as log-normal around the model's typical time:
    polls close in on a window that starts a little before the typical time, then come every `min_gap`
    (the floor, VIDEOGEN_POLL_INTERVAL), growing slowly for a job far slower than usual. With a provider
    ETA, the gap is APPROACH times what the provider says is left. Minimising polls for a given median detection
    delay gives exactly this shape: poll at the floor wherever the completion hazard is high, rarely elsewhere.
    Whatever the typical time (learned or the catalog's, right or wrong), no gap exceeds PROBE_GAP or
    ELAPSED_FRACTION of the time elapsed, whichever is longer: a few cheap probes catch fast failures, and
    a job far shorter than expected is never left alone for long (benchmarks/poll_schedule.py).
    """

    min_gap: float
    max_gap: float

    def gap(
        self, elapsed: float, typical: float, eta: int | None, retry_after: float | None = None, jitter: float = 0.0,
        earliest: float | None = None,
    ) -> float:
        """Seconds to wait before the next poll; `jitter` in [0, 1) shortens gaps above the floor. `earliest`,
        the shortest time a recent task of this kind took, pulls the dense window forward to it (not below
        half the typical time, so one freak finish cannot make every task poll at the floor)."""
        gap = APPROACH * max(eta, 0) if eta is not None else self._gap_without_eta(elapsed, typical, earliest)
        gap = min(gap, self.max_gap, max(PROBE_GAP, ELAPSED_FRACTION * elapsed))
        gap -= (gap - self.min_gap) * JITTER * jitter if gap > self.min_gap else 0.0
        return max(gap, self.min_gap, retry_after or 0.0)

    def _gap_without_eta(self, elapsed: float, typical: float, earliest: float | None = None) -> float:
        if typical <= 0:
            return self.min_gap
        dense_from = typical * math.exp(DENSE_FROM_Z * SPREAD)
        if earliest is not None:
            dense_from = min(dense_from, max(earliest, typical / 2))
        if elapsed < dense_from:
            return min(APPROACH * (dense_from - elapsed), typical / 4)  # a short job is never left alone long
        lateness = math.log(max(elapsed, 1e-9) / typical) / SPREAD - 1
        return self.min_gap * math.exp(LATE_GROWTH * max(0.0, lateness))
