"""The README's test command works on a fresh clone, and CI runs exactly that command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    [command] = re.findall(r"\*\*The tests\*\*.*?```sh\n(.+?)\n```", readme, re.S)
    return command


def test_the_readme_test_command_makes_its_own_venv_before_using_it():
    steps = readme_test_command().split(" && ")
    assert steps[:2] == ["python3 -m venv .venv", ". .venv/bin/activate"]
    assert steps[-1] == "python -m pytest"


def test_ci_runs_the_readme_test_command_step_by_step():
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    positions = [ci.index(step.replace("pip install", "python -m pip install --quiet"))
                 if step.startswith("pip install") else ci.index(step)
                 for step in readme_test_command().split(" && ")]
    assert positions == sorted(positions)
