"""What a test does when something it needs is missing: skip on a developer's machine, fail under .ci/run.

.ci/run sets VIDEOGEN_CI=1: there PostgreSQL runs and the tests run as root (tmpfs mounts work), so a missing
service is a broken machine, never a reason to prove nothing."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("VIDEOGEN_CI") == "1":
        pytest.fail(f"{reason} (VIDEOGEN_CI=1: CI must run this test)")
    pytest.skip(reason)
