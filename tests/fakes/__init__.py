"""Faithful loopback fakes of the four video providers (stdlib only)."""

from .base import FakeError, FakeJob, FakeProvider, Recorded
from .internal import InternalService
from .server import FakeServer

__all__ = ["FakeError", "FakeJob", "FakeProvider", "FakeServer", "InternalService", "Recorded"]
