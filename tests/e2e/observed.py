"""The observed stdio server, kept importable from here; it lives in tests/support/observed.py."""

from tests.support.observed import alive, observed_client, server_pids, status_kb

__all__ = ["alive", "observed_client", "server_pids", "status_kb"]
