"""Time estimates: progress and ETA when a provider reports none, poll gaps, and progress messages."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.conftest import task
from videogen_mcp.tasks.timing import (
    APPROACH,
    JITTER,
    PollSchedule,
    describe,
    elapsed_seconds,
    estimated_eta,
    estimated_progress,
    now_iso,
)

TYPICAL = 210.0
ELAPSED = [0, 10, 60, 105, 200, 210, 300, 600, 3600, 86400]


def test_estimated_progress_rises_with_time_and_stays_below_100():
    values = [estimated_progress(e, TYPICAL, queued=False) for e in ELAPSED]
    assert values == sorted(values)
    assert len(set(values)) >= len(values) - 1  # strictly rising until the 99 ceiling
    assert values[0] == 0
    assert all(0 <= v < 100 for v in values)
    assert max(values) <= 99


def test_estimated_progress_reaches_90_at_the_typical_duration():
    assert estimated_progress(TYPICAL, TYPICAL, queued=False) == pytest.approx(90)
    assert estimated_progress(TYPICAL / 2, TYPICAL, queued=False) == pytest.approx(45)


@pytest.mark.parametrize("elapsed", ELAPSED)
def test_estimated_progress_while_queued_is_capped_at_5(elapsed):
    assert 0 <= estimated_progress(elapsed, TYPICAL, queued=True) <= 5


def test_estimated_progress_with_no_typical_duration_does_not_divide_by_zero():
    assert estimated_progress(10, 0, queued=False) == 90


@pytest.mark.parametrize(("elapsed", "eta"), [(0, 210), (200, 10), (209.6, 0), (210, None), (400, None)])
def test_estimated_eta_counts_down_to_none(elapsed, eta):
    assert estimated_eta(elapsed, TYPICAL) == eta


def test_elapsed_seconds_since_created_at():
    created = datetime(2026, 1, 1, tzinfo=UTC)
    t = task(created_at="2026-01-01T00:00:00.000Z")
    assert elapsed_seconds(t, created + timedelta(seconds=90)) == 90
    assert elapsed_seconds(t, created - timedelta(seconds=5)) == 0  # clock skew never goes negative


def test_now_iso_is_utc_with_milliseconds_and_z():
    stamp = now_iso()
    assert stamp.endswith("Z") and len(stamp) == len("2026-01-01T00:00:00.000Z")
    assert abs(elapsed_seconds(task(created_at=stamp))) < 5


SCHEDULE = PollSchedule(min_gap=2.0, max_gap=15.0)


def test_poll_gap_is_sparse_while_the_video_is_unlikely_to_be_ready():  # issue 13: early probes, then sparse
    assert SCHEDULE.gap(5, TYPICAL, None) < 3.0
    assert SCHEDULE.gap(40, TYPICAL, None) > 3 * SCHEDULE.gap(TYPICAL, TYPICAL, None)


def test_poll_gap_closes_in_on_the_typical_time_then_polls_near_the_floor():
    gaps = [SCHEDULE.gap(t, TYPICAL, None) for t in range(100, int(TYPICAL), 10)]
    assert all(b <= a for a, b in itertools.pairwise(gaps)), gaps
    assert gaps[0] >= 4.0 and all(SCHEDULE.gap(t, TYPICAL, None) <= 2.5 for t in (TYPICAL, TYPICAL * 1.3))


def test_a_job_far_slower_than_usual_is_polled_less_and_less_often():
    late = [SCHEDULE.gap(TYPICAL * f, TYPICAL, None) for f in (1.5, 2, 3, 5)]
    assert all(b > a for a, b in itertools.pairwise(late)), late


@pytest.mark.parametrize("elapsed", [0, 50, 150, 209, 270, 600, 10_000])
def test_poll_gap_stays_between_min_and_max(elapsed):
    assert 2.0 <= SCHEDULE.gap(elapsed, TYPICAL, None) <= 15.0
    assert 2.0 <= SCHEDULE.gap(elapsed, TYPICAL, None, jitter=0.999) <= 15.0


def test_the_providers_eta_wins_over_the_typical_duration():
    assert SCHEDULE.gap(60, TYPICAL, 10) == pytest.approx(10 * APPROACH)  # a fraction of what it says is left
    assert SCHEDULE.gap(0, TYPICAL, 0) == 2.0
    assert SCHEDULE.gap(5, TYPICAL, 600) == SCHEDULE.gap(5, TYPICAL, None) < 3.0  # early probes hold with an ETA too
    assert SCHEDULE.gap(60, TYPICAL, 600) == SCHEDULE.gap(60, TYPICAL, None)  # our own gap is the shorter


def test_a_short_job_is_polled_within_a_quarter_of_its_typical_time():
    local = PollSchedule(min_gap=0.5, max_gap=30.0)
    assert all(local.gap(t, 4.0, None) <= 1.0 for t in (3, 4, 6))


def test_jitter_only_shortens_gaps_above_the_floor():
    base = SCHEDULE.gap(60, TYPICAL, 600)
    assert SCHEDULE.gap(60, TYPICAL, 600, jitter=0.5) == pytest.approx(base - (base - 2.0) * JITTER * 0.5)
    assert SCHEDULE.gap(TYPICAL, TYPICAL, None, jitter=0.9) == 2.0


@pytest.mark.parametrize(("retry_after", "gap"), [(60.0, 60.0), (16.0, 16.0), (1.0, None), (0.0, None), (None, None)])
def test_poll_gap_honours_retry_after_even_beyond_max(retry_after, gap):
    assert SCHEDULE.gap(600, 5000.0, None) == 15.0
    assert SCHEDULE.gap(600, 5000.0, None, retry_after=retry_after) == (gap or 15.0)


def test_poll_gap_with_test_intervals_is_short():
    fast = PollSchedule(min_gap=0.05, max_gap=0.5)
    assert all(0.05 <= fast.gap(e, TYPICAL, None) <= 0.5 for e in ELAPSED)


@pytest.mark.parametrize(
    ("fields", "progress_eta", "message"),
    [
        ({"status": "queued"}, None, "submitting to wavespeed"),
        ({"status": "queued", "provider": "myrouter"}, None, "submitting to myrouter"),
        ({"status": "queued", "provider_task_id": "p"}, 30, "queued · about 30 s left"),
        ({"status": "processing", "provider_task_id": "p"}, 120, "processing · about 2 min left"),
        ({"status": "processing", "provider_task_id": "p"}, 59, "processing · about 59 s left"),
        ({"status": "processing", "provider_task_id": "p"}, 0, "processing · about 1 s left"),
        ({"status": "processing", "provider_task_id": "p", "eta_seconds": 300}, None,
         "processing · about 5 min left"),
        ({"status": "processing", "provider_task_id": "p", "eta_seconds": 300}, 30, "processing · about 30 s left"),
        ({"status": "processing", "provider_task_id": "p"}, None, "processing · taking longer than usual"),
        ({"status": "queued", "provider_task_id": "p"}, None, "queued at wavespeed"),
        ({"status": "processing", "provider_task_id": "p", "video_url": "https://x/v.mp4"}, None,
         "downloading the video"),
        ({"status": "completed", "provider_task_id": "p", "progress": 100}, None, "completed"),
        ({"status": "failed", "provider_task_id": "p", "error": "boom"}, None, "failed"),
        ({"status": "cancelled", "provider_task_id": "p"}, None, "cancelled"),
    ],
)
def test_describe_gives_a_short_progress_message(fields, progress_eta, message):
    assert describe(task(**fields), progress_eta) == message
