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


@dataclass(frozen=True)
class Outlook:
    """Where a task stands, as every caller shows it: progress notifications, statusMessage, pollInterval."""

    progress: float  # 0-100 with one decimal; 100 only once completed
    eta_seconds: int | None
    message: str
    next_change: float  # seconds until the poll schedule next asks the provider (when a change is likely)


def outlook(task: Task, typical: float, reports_progress: bool, next_change: float) -> Outlook:
    """The one estimate of a task's progress: the provider's own figure where it reports one, else from time."""
    if task.status == "completed":
        return Outlook(100.0, None, "completed", next_change)
    if task.finished or (task.status == "queued" and not task.provider_task_id) or reports_progress:
        return Outlook(float(task.progress), task.eta_seconds, describe(task), next_change)
    elapsed = elapsed_seconds(task)
    estimate = estimated_progress(elapsed, typical, queued=task.status == "queued")
    eta = estimated_eta(elapsed, typical)
    value = min(round(max(float(task.progress), estimate), 1), 99.0)
    return Outlook(value, eta, describe(task, eta), next_change)


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


#: The job-length model the gaps come from, a mixture of three log-normals (weight, median, log spread):
#: early failures (a job the provider accepts, then rejects within seconds: a content filter, a bad image;
#: the weight is the prior share, typical.failure_weight learns each kind's: at that share or above, a failure
#: 3-15 s after submit is reported within about 3 s at FAIL_PRICE; where most young tasks outlive their first
#: seconds, the learned share falls and so does the probing: with one job in ten failing, up to 5 s late
#: (benchmarks/poll_schedule.py)),
FAILURE = (0.2, 8.0, 0.55)
#: a broad component for a typical time that is wrong by a large factor either way (a fast reseller, a
#: congested queue; median the typical time; BROAD_WEIGHT is its prior share, typical.broad_weight learns
#: each kind's), and the body, the rest, around the typical time (SPREAD).
BROAD_WEIGHT, BROAD_SPREAD = 0.1, 1.0
#: Log spread of generation times around the typical one when it is known: the issue-13 near band, 0.7-1.4x
#: the typical time, is about +-2 SPREAD (benchmarks/poll_schedule.py).
SPREAD = 0.2
#: In the body's bulk (from BULK_FROM to BULK_TO of its jobs ended by a task's age) a gap is at most BULK_GAP s,
#: or BULK_SHARE of the typical time for long jobs: where jobs are likely to end, the first to end are not left
#: alone for the many seconds the sqrt rule would give them (they are what sets the p95 of detection).
BULK_FROM, BULK_TO, BULK_GAP, BULK_SHARE = 0.01, 0.99, 2.9, 0.005
#: What one poll is worth in seconds of detection delay: gap = sqrt(2 price / hazard). FAIL_PRICE for the early
#: failures' part of the hazard (how often young tasks are probed for a rejection depends on the kind's learned
#: failure share, not on how long its jobs are); for the rest, POLL_PRICE at a typical time of PRICE_AT s, times
#: (PRICE_AT / typical) ** PRICE_POWER, at most PRICE_CAP (poll_price): the detection cost, delay x polls, is
#: least when the price is about the delay per poll, and jobs k times shorter take about k times fewer polls for
#: the same delay.
FAIL_PRICE = 0.025
POLL_PRICE, PRICE_AT, PRICE_POWER, PRICE_CAP = 0.025, 210.0, 0.75, 0.1
#: With a provider ETA, the gap is at most this fraction of what it says is left.
APPROACH = 0.3
#: Gaps above the floor are shortened by up to this fraction at random, so tasks started together spread out.
JITTER = 0.15


#: Equally likely (median, log spread) pairs of the body (typical.py's posterior); empty: the typical time.
Medians = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Estimate:
    """What is known of one kind's job lengths: the typical time and the spread around it, equally likely
    (median, spread) pairs of the body (empty: the typical time alone), the shares of early failures and of the
    broad component."""

    typical: float
    spread: float = SPREAD
    medians: Medians = ()
    fail_weight: float = FAILURE[0]
    broad_weight: float = BROAD_WEIGHT

    def hazard(self, elapsed: float) -> float:
        return hazard(elapsed, self.typical, self.spread, self.medians, self.fail_weight, self.broad_weight)


@dataclass(frozen=True)
class PollSchedule:
    """Poll often where a job is likely to end now, given that it has not ended yet; rarely elsewhere.

    A poll every g seconds finds a job ending at t about g/2 late, so with n(t) polls a second the expected
    delay is the integral of f/(2n) and the expected polls that of S*n (f the density of job lengths, S the
    chance a job is still running). Minimising delay + price x polls (which also minimises their
    product, the detection cost, for the polls it spends) gives n = sqrt(h / (2 price)), h = f/S the
    hazard: gap = sqrt(2 price / h); the price is FAIL_PRICE for the early failures' part of the hazard and
    poll_price(typical) for the rest. The hazard is that of a mixture (FAILURE, BROAD_WEIGHT, SPREAD):
    the failures make it high in the first seconds (a few cheap early probes: a rejection is reported
    within ~3 s while the kind's learned failure share is at its prior or above), the body makes it high
    around the typical time (polls at about the floor there), and the broad component keeps it from
    vanishing elsewhere, so a job 3x faster or slower than expected is still polled every few seconds (gaps
    grow about as the square root of the time elapsed). Where the
    body's jobs are likely to end (its bulk), no gap exceeds BULK_GAP: the sqrt rule alone would leave the
    first of them, which set the p95 of detection, for many seconds. The gap is then held between the floor
    `min_gap` (VIDEOGEN_POLL_INTERVAL) and `max_gap`, and never under a Retry-After. `spread` is the body's
    log spread: wider while the typical time is learned from few tasks.
    """

    min_gap: float
    max_gap: float

    def gap(
        self, elapsed: float, typical: float, eta: int | None, retry_after: float | None = None, jitter: float = 0.0,
        spread: float = SPREAD, medians: Medians = (), fail_weight: float = FAILURE[0],
        broad_weight: float = BROAD_WEIGHT,
    ) -> float:
        """Seconds to wait before the next poll; `jitter` in [0, 1) shortens gaps above the floor. A provider
        ETA can only shorten the gap (to APPROACH times what it says is left)."""
        shares = (fail_weight, broad_weight)
        gap = self._model_gap(elapsed, typical, spread, medians, shares) if typical > 0 else self.min_gap
        if typical > 0:
            gap = self._bulk_gap(elapsed, gap, typical, spread, medians)
        if eta is not None:
            gap = min(gap, APPROACH * max(eta, 0))
        gap = min(gap, self.max_gap)
        gap -= (gap - self.min_gap) * JITTER * jitter if gap > self.min_gap else 0.0
        return max(gap, self.min_gap, retry_after or 0.0)

    def planned(self, elapsed: float, known: Estimate, eta: int | None, retry_after: float | None = None,
                jitter: float = 0.0) -> float:
        """`gap` from everything learned of the task's kind (typical.TypicalTimes.estimate)."""
        return self.gap(elapsed, known.typical, eta, retry_after, jitter, spread=known.spread, medians=known.medians,
                        fail_weight=known.fail_weight, broad_weight=known.broad_weight)

    def _bulk_gap(self, elapsed: float, gap: float, typical: float, spread: float, medians: Medians) -> float:
        """`gap`, shortened to end at most BULK_GAP s after the body's bulk begins (BULK_FROM of its jobs ended)
        when that is now or within the gap; beyond the bulk (BULK_TO ended), the sqrt rule alone."""
        def reached(at: float) -> float:
            return body_reached(at, typical, spread, medians)

        if reached(elapsed) > BULK_TO or reached(elapsed + gap) < BULK_FROM:
            return gap
        begins, end = 0.0, gap  # where the bulk begins: now, or within the gap (the share only grows with time)
        while reached(elapsed + begins) < BULK_FROM and end - begins > 0.1:
            middle = (begins + end) / 2
            begins, end = (middle, end) if reached(elapsed + middle) < BULK_FROM else (begins, middle)
        begins = begins if reached(elapsed + begins) >= BULK_FROM else end
        return min(gap, begins + max(BULK_GAP, BULK_SHARE * typical))

    def _model_gap(self, elapsed: float, typical: float, spread: float, medians: Medians,
                   shares: tuple[float, float]) -> float:
        """The wait until the optimal poll rate sqrt(h / 2 price), summed from now, reaches one poll (rather
        than sqrt(2 price / h) at this instant: the hazard climbs fast in the first seconds)."""
        price = poll_price(typical)
        waited = due = 0.0
        while due < 1 and waited < self.max_gap:
            failing, rest = hazard_parts(elapsed + waited, typical, spread, medians, *shares)
            rate = max(math.sqrt(failing / (2 * FAIL_PRICE) + rest / (2 * price)), 1e-6)
            step = min(0.2 / rate, 0.1 * (elapsed + waited) + 0.1, self.max_gap - waited)
            waited, due = waited + step, due + rate * step
        return waited


def body_reached(elapsed: float, typical: float, spread: float = SPREAD, medians: Medians = ()) -> float:
    """The share of the body's jobs (the mixture of `medians`, else the typical time) ended by `elapsed`."""
    pairs = medians or ((typical, spread),)
    t = max(elapsed, 0.1)
    return sum(math.erfc(-math.log(t / median) / (sigma * math.sqrt(2))) / 2 for median, sigma in pairs) / len(pairs)


def poll_price(typical: float) -> float:
    """What a poll is worth, in seconds of detection delay, for jobs of this typical time (early failures aside)."""
    return min(PRICE_CAP, POLL_PRICE * (PRICE_AT / max(typical, 1e-9)) ** PRICE_POWER)


def hazard(elapsed: float, typical: float, spread: float = SPREAD, medians: Medians = (),
           fail_weight: float = FAILURE[0], broad_weight: float = BROAD_WEIGHT) -> float:
    """The chance a second that a job still running after `elapsed` s ends now, under the mixture above.
    With `medians` (equally likely (median, spread) pairs of the body, typical.py's posterior), the body is their
    mixture; `fail_weight` and `broad_weight` are the early failures' and the broad component's shares
    (typical.failure_weight, typical.broad_weight)."""
    return max(sum(hazard_parts(elapsed, typical, spread, medians, fail_weight, broad_weight)), 1e-12)


def hazard_parts(elapsed: float, typical: float, spread: float, medians: Medians, fail_weight: float,
                 broad_weight: float) -> tuple[float, float]:
    """The hazard (see `hazard`) as the early failures' part and the rest's."""
    _, fail_median, fail_spread = FAILURE
    body = 1 - fail_weight - broad_weight
    parts = [(fail_weight, fail_median, fail_spread), (broad_weight, typical, BROAD_SPREAD)]
    parts += [(body / len(medians), median, sigma) for median, sigma in medians] or [(body, typical, spread)]
    t = max(elapsed, 0.1)
    densities, survival = [], 0.0
    for weight, median, sigma in parts:
        z = math.log(t / median) / sigma
        densities.append(weight * math.exp(-z * z / 2) / (sigma * t * math.sqrt(2 * math.pi)))
        survival += weight * math.erfc(z / math.sqrt(2)) / 2
    survival = max(survival, 1e-300)
    return densities[0] / survival, sum(densities[1:]) / survival
