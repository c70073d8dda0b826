"""Fixtures of the end-to-end tests (the shared ones are in tests/conftest.py)."""

from tests.support.secrets import canaries  # noqa: F401 (a fixture: a fresh canary key per provider)
