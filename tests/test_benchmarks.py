"""The benchmark command runs and prints every row of its table with a figure (no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.support.postgres import require_postgres

ROOT = Path(__file__).resolve().parents[1]
ROWS = (
    "start-up: spawn -> handshake answered",
    "get_task latency p50",
    "get_task latency p95",
    "completion detection median",
    "completion detection p95",
    "provider status polls per task",
    "RSS with 100 tasks in flight, waiting",
    "CPU with 100 tasks in flight, waiting",
    "RSS with 100 tasks in flight, all due",
    "CPU with 100 tasks in flight, all due",
    "10 MB image -> provider payload",
)


def test_quick_benchmark_prints_the_machine_and_every_row_with_a_figure():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert re.search(r"^machine: \d+ cores, .+; Python 3\.", done.stdout, re.MULTILINE), done.stdout
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ")]
    for label in ROWS:
        row = next((cells for cells in rows if cells[0].strip().startswith(label)), None)
        assert row is not None, f"no row {label!r} in:\n{done.stdout}"
        assert re.search(r"\d", row[1]), row
    assert "ms (bare MCPServer)" in done.stdout and "fixed 2-s poller (computed)" in done.stdout


REPLICA_ROWS = (
    "submit 30 tasks over MCP HTTP",
    "takeover after SIGKILL of a replica",
    "takeover: all",
    "wake latency p50",
    "wake latency p95",
    "database connections at steady state",
    "RSS per replica",
    "CPU per replica",
)


def test_quick_replica_benchmark_prints_every_row_with_a_figure_on_both_backends():
    require_postgres()
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "replicas.py"), "--quick"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ")]
    for label in REPLICA_ROWS:
        row = next((cells for cells in rows if cells[0].strip().startswith(label)), None)
        assert row is not None, f"no row {label!r} in:\n{done.stdout}"
        assert re.search(r"\d", row[1]), row
        if label.startswith(("wake latency", "RSS", "CPU")):
            assert re.search(r"\d", row[2]), row  # the SQLite reference
    assert "leased by survivors" in done.stdout and "not all in" not in done.stdout, done.stdout
    assert "none submitted twice: yes" in done.stdout, done.stdout


def test_the_poll_schedule_replay_prints_every_band_with_old_new_and_fixed_figures():
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "poll_schedule.py"), "--seeds", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    rows = [line.split("|")[1:-1] for line in done.stdout.splitlines() if line.startswith("| ") and "band" not in line]
    labels = [cells[0].strip().split()[0] for cells in rows]
    assert labels == ["near", "fast", "fast", "slow", "failures", "mixed:"], done.stdout
    for cells in rows:
        assert all(re.search(r"\d+\.\d+ polls", cell) for cell in cells[2:4]), cells
