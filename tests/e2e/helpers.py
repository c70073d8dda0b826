"""Client-side recorders, kept importable from here; they live in tests/support/clients.py."""

from tests.support.clients import MessageLog, ProgressLog, text_of

__all__ = ["MessageLog", "ProgressLog", "text_of"]
