"""The project's error classes: each carries one sentence written for the agent or the person."""

from __future__ import annotations


class VideogenError(Exception):
    """An error whose message is safe and useful to show to the caller as it is."""


class ConfigError(VideogenError):
    """A bad environment variable; start-up stops with this sentence."""


class InvalidInput(VideogenError):
    """The caller's arguments cannot be served; nothing reached a provider."""


class TaskNotFound(InvalidInput):
    """No task has the given id."""


class ProviderError(VideogenError):
    """A provider answered with an error or could not be reached."""

    #: True when asking again later may succeed (network trouble, 5xx, rate limits).
    transient = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


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
