"""The project's error classes: each carries one sentence written for the agent or the person."""

from __future__ import annotations

import errno
from pathlib import Path

#: SQLite's primary result code for "database or disk is full".
SQLITE_FULL = 13


class VideogenError(Exception):
    """An error whose message is safe and useful to show to the caller as it is."""


class ConfigError(VideogenError):
    """A bad environment variable; start-up stops with this sentence."""


class InvalidInput(VideogenError):
    """The caller's arguments cannot be served; nothing reached a provider."""


class TaskNotFound(InvalidInput):
    """No task has the given id."""


class TaskFinished(InvalidInput):
    """The task already ended, so it cannot be cancelled."""


class ProviderError(VideogenError):
    """A provider answered with an error or could not be reached."""

    #: True when asking again later may succeed (network trouble, 5xx, rate limits).
    transient = False

    def __init__(self, message: str, *, retry_after: float | None = None, no_job: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        #: True when a submit certainly created no job (never sent, or refused unprocessed: 401/402/403, 429,
        #: 503), so another provider may take it without any risk of billing twice.
        self.no_job = no_job


class KeyRejected(ProviderError):
    """The provider refused the API key."""


class OutOfCredit(ProviderError):
    """The provider account has no balance left."""


class RateLimited(ProviderError):
    """The provider asked us to slow down."""

    transient = True


class RequestRefused(ProviderError):
    """The provider refused this request (4xx) and said why."""


class ProviderUnavailable(ProviderError):
    """The provider could not be reached, failed (5xx), or answered something unreadable."""

    transient = True


class UnexpectedReply(ProviderError):
    """The provider answered 2xx with something we cannot read; asking again rarely helps."""


class SubmitOutcomeUnknown(ProviderError):
    """The submit request may have created a (paid) job, but we cannot tell: never resubmit blindly."""


class StorageError(VideogenError):
    """The task database could not be read or written (a full disk, a damaged or altered file)."""


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC from the OS, or SQLite's "database or disk is full"."""
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return True
    code = getattr(exc, "sqlite_errorcode", None)
    return (code is not None and code & 0xFF == SQLITE_FULL) or "database or disk is full" in str(exc)


def disk_full(folder: Path) -> str:
    return (f"the disk holding {folder} is full: free some space there, or set VIDEOGEN_DATA_DIR to a folder "
            "on a disk with room and restart the server")
