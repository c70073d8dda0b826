"""Helpers for the unit tests: in-memory images and Task objects."""

from __future__ import annotations

import io
from collections.abc import Callable

import httpx2
import pytest
from PIL import Image

from videogen_mcp.models import Task
from videogen_mcp.tasks import poller as poller_module


def _no_network(request: httpx2.Request) -> httpx2.Response:
    raise AssertionError(f"unit tests never reach the network: {request.method} {request.url}")


def offline_client() -> httpx2.AsyncClient:
    """A client that fails any request; cheap to make (no TLS context) and safe."""
    return httpx2.AsyncClient(transport=httpx2.MockTransport(_no_network))


def image_bytes(size: tuple[int, int] = (640, 360), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (40, 120, 200)).save(buffer, format=fmt)
    return buffer.getvalue()


def task(task_id: str = "t1", **fields: object) -> Task:
    values: dict[str, object] = {
        "task_id": task_id,
        "status": "queued",
        "provider": "wavespeed",
        "model": "kling-v2.1-i2v-pro",
        "provider_task_id": None,
        "progress": 0,
        "eta_seconds": None,
        "video_url": None,
        "video_path": None,
        "error": None,
        "prompt": "a cat walks",
        "duration": 5,
        "created_at": "2026-01-01T00:00:00.000Z",
        "updated_at": "2026-01-01T00:00:00.000Z",
        "resource_uri": f"task://{task_id}",
    }
    values.update(fields)
    return Task(**values)


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
