"""Fixtures for the unit tests: Task objects, and the poller's waits shrunk to milliseconds."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.images import image_bytes
from tests.support.rig import offline_client, task
from videogen_mcp.models import Task
from videogen_mcp.tasks import poller as poller_module

__all__ = ["image_bytes", "offline_client", "task"]  # importable from here too, as before tests/support


@pytest.fixture
def make_task() -> Callable[..., Task]:
    return task


@pytest.fixture(autouse=True)
def quick_constants(monkeypatch: pytest.MonkeyPatch) -> None:
    """The poller's waits, shrunk so task-following tests run in milliseconds."""
    monkeypatch.setattr(poller_module, "RETRY_AFTER_BUG", 0.01)
    monkeypatch.setattr(poller_module, "SUBMIT_GRACE", 0.15)
    monkeypatch.setattr(poller_module, "OBSERVE_INTERVAL", 0.01)
    monkeypatch.setattr(poller_module, "LEASE_TTL", 0.1)
