"""The one HTTP layer every provider shares: timeouts, retries and the mapping of errors to classes."""

from __future__ import annotations

import json
import logging
import math
import random
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote

import anyio
import httpx2

from videogen_mcp.errors import (
    KeyRejected,
    OutOfCredit,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    RequestRefused,
    SubmitOutcomeUnknown,
    UnexpectedReply,
)

log = logging.getLogger(__name__)

TIMEOUT = httpx2.Timeout(30.0, connect=10.0)
#: An API reply is read up to this many bytes (decoded) ...
MAX_REPLY_BYTES = 1024 * 1024
#: ... and within this many seconds for the whole of it, counted from the request's last byte sent (a slow
#: upload of a 10 MB image is bounded by the per-write timeout instead), however slowly each chunk comes.
REPLY_DEADLINE = 30.0
#: Few idle connections: the pool checks every idle one before each request (a syscall each), which was
#: most of a poll's CPU with the default 20.
LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=4)
#: Longest Retry-After we sleep through inside one request; longer ones go back to the caller.
MAX_INLINE_WAIT = 10.0
#: A provider's Retry-After is honoured up to this many seconds (a bogus "1e999" must not park a task forever).
MAX_RETRY_AFTER = 600.0
CREDIT_WORDS = re.compile(r"balance|credit|insufficient|quota|payment|billing", re.IGNORECASE)
#: Statuses that mean the provider did not process the request, so even a submit may be retried.
NOT_PROCESSED = {429, 503}
RETRYABLE_READS = {429, 500, 502, 503, 504}
#: Statuses after which a submitted job may exist although the reply says failure.
MAYBE_PROCESSED = {500, 502, 504}
#: Statuses that say the provider created no job: the key or the credit was refused, or it did not process it.
NO_JOB = {401, 402, 403, *NOT_PROCESSED}

ErrorText = Callable[[Any], str | None]
#: What an account status means unless the provider documents otherwise (an adapter's `status_meanings`
#: overrides entries: AI/ML API's 403 is out of credit). A 403 whose message speaks of credit is out of credit.
STATUS_MEANINGS: Mapping[int, type[KeyRejected | OutOfCredit]] = {401: KeyRejected, 402: OutOfCredit, 403: KeyRejected}
#: What stands where a provider wrote its API key.
REDACTED = "[redacted]"
#: A message ending in this many or more first characters of the key was cut inside it.
MIN_PARTIAL_SECRET = 4


def outcome_unknown(provider: str, what: str) -> SubmitOutcomeUnknown:
    return SubmitOutcomeUnknown(
        f"{provider} {what}; the job may still have been created: check the {provider} dashboard before "
        "submitting again"
    )


def new_client() -> LazyClient:
    """The process-wide client. It carries no credentials: each provider request adds its own."""
    return LazyClient(lambda: httpx2.AsyncClient(timeout=TIMEOUT, follow_redirects=True, limits=LIMITS,
                                                 headers={"User-Agent": "videogen-mcp"}))


class LazyClient:
    """An AsyncClient made on first use, in a worker thread: building its TLS context takes about 50 ms,
    which would otherwise delay the MCP handshake of every start (and block the event loop once)."""

    def __init__(self, make: Callable[[], httpx2.AsyncClient]) -> None:
        self._make = make
        self._client: HttpClient | None = None
        self._lock = anyio.Lock()

    async def client(self) -> httpx2.AsyncClient:
        async with self._lock:
            if self._client is None:
                self._client = await anyio.to_thread.run_sync(self._make)
        return self._client

    async def send(self, request: httpx2.Request, *, stream: bool = False) -> httpx2.Response:
        return await (await self.client()).send(request, stream=stream)

    @asynccontextmanager
    async def stream(self, method: str, url: str, **kwargs: Any) -> AsyncIterator[httpx2.Response]:
        async with (await self.client()).stream(method, url, **kwargs) as response:
            yield response

    async def __aenter__(self) -> LazyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()


#: What adapters and the downloader send through: the shared LazyClient, or any AsyncClient (tests).
HttpClient = httpx2.AsyncClient | LazyClient


def error_for_status(
    provider: str,
    status: int,
    message: str | None,
    *,
    retry_after: float | None = None,
    meanings: Mapping[int, type[KeyRejected | OutOfCredit]] | None = None,
    key_env_var: str | None = None,
) -> ProviderError:
    """Map an HTTP (or envelope) status and the provider's own message to one clear error; `meanings` are the
    provider's documented departures from STATUS_MEANINGS."""
    error = _error_for_status(provider, status, message, retry_after, meanings,
                              key_env_var or f"{provider.upper()}_API_KEY")
    error.no_job = status in NO_JOB
    return error


def _error_for_status(
    provider: str,
    status: int,
    message: str | None,
    retry_after: float | None,
    meanings: Mapping[int, type[KeyRejected | OutOfCredit]] | None,
    key_env_var: str,
) -> ProviderError:
    said = f": {message}" if message else ""
    kind = {**STATUS_MEANINGS, **(meanings or {})}.get(status)
    if kind is KeyRejected and status == 403 and CREDIT_WORDS.search(message or ""):
        kind = OutOfCredit
    if kind is KeyRejected:
        return KeyRejected(f"{provider} rejected the API key (HTTP {status}{said}): check {key_env_var}")
    if kind is OutOfCredit:
        return OutOfCredit(f"{provider} says the account is out of credit (HTTP {status}{said}): top it up")
    if status == 429:
        wait = f"; retry in {retry_after:g} s" if retry_after else "; wait a minute and retry"
        return RateLimited(f"{provider} is rate limiting requests (HTTP 429){wait}", retry_after=retry_after)
    if status >= 500:
        return ProviderUnavailable(f"{provider} is unavailable (HTTP {status}{said}); try again later")
    return RequestRefused(f"{provider} refused the request (HTTP {status}){said or ''}")


class ProviderHttp:
    """Sends one provider's requests with retries and turns failures into ProviderErrors."""

    def __init__(
        self,
        client: HttpClient,
        provider: str,
        error_text: ErrorText,
        secret: str = "",
        attempts: int = 3,
        meanings: Mapping[int, type[KeyRejected | OutOfCredit]] | None = None,
        key_env_var: str | None = None,
    ) -> None:
        self._client = client
        self._provider = provider
        self._error_text = error_text
        self._secret = secret
        self._attempts = attempts
        self._meanings = meanings
        self._key_env_var = key_env_var

    async def send(self, request: httpx2.Request, *, idempotent: bool) -> Any:
        """Send and return the parsed JSON body of a 2xx reply."""
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            try:
                response, body = await self._exchange(request)
            except httpx2.TransportError as exc:
                error = self._transport_error(exc, idempotent)
                if last or not _may_retry_transport(exc, idempotent):
                    raise error from None
                await anyio.sleep(backoff(attempt))
                continue
            except ReplyPastBounds as exc:  # like a 5xx: a poll asks again, a submit may have created the job
                if not idempotent:
                    raise outcome_unknown(self._provider, f"{exc} to the submit request") from None
                if last:
                    raise ProviderUnavailable(f"{self._provider} {exc}; try again later") from None
                log.info("%s %s; retrying", self._provider, exc)
                await anyio.sleep(backoff(attempt))
                continue
            if response.is_success:
                try:
                    return self._json(response, body, idempotent)
                except UnexpectedReply:  # a gateway's HTML page with a 200: asking again may well work
                    if last:
                        raise
                    await anyio.sleep(backoff(attempt))
                    continue
            status = response.status_code
            if not idempotent and status in MAYBE_PROCESSED:
                raise outcome_unknown(self._provider, f"failed while answering the submit request (HTTP {status})")
            error = self._http_error(response, body)
            retryable = response.status_code in (RETRYABLE_READS if idempotent else NOT_PROCESSED)
            wait = error.retry_after if error.retry_after is not None else backoff(attempt)
            if last or not retryable or wait > MAX_INLINE_WAIT:
                raise error
            log.info("%s answered HTTP %s; retrying in %.1f s", self._provider, response.status_code, wait)
            await anyio.sleep(wait)
        raise AssertionError("unreachable")

    async def _exchange(self, request: httpx2.Request) -> tuple[httpx2.Response, bytes]:
        """One attempt: the reply and at most MAX_REPLY_BYTES of its body, read within REPLY_DEADLINE of the
        request being sent (ReplyPastBounds otherwise). The connection is closed either way."""
        response: httpx2.Response | None = None
        with anyio.CancelScope() as scope:

            async def trace(event: str, info: object) -> None:
                if event.endswith("send_request_body.complete"):  # httpcore's trace: the reply starts now
                    scope.deadline = min(scope.deadline, anyio.current_time() + REPLY_DEADLINE)

            request.extensions["trace"] = trace
            try:
                response = await self._client.send(request, stream=True)
                scope.deadline = min(scope.deadline, anyio.current_time() + REPLY_DEADLINE)  # transports without trace
                body = await _read_capped(response)
            finally:
                if response is not None:
                    with anyio.CancelScope(shield=True):
                        await response.aclose()
        if scope.cancelled_caught:
            raise ReplyPastBounds(f"took over {REPLY_DEADLINE:g} s to send its reply")
        assert response is not None
        return response, body

    def _json(self, response: httpx2.Response, body: bytes, idempotent: bool) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            what = f"answered HTTP {response.status_code} with a body that is not JSON"
            if not idempotent:
                raise outcome_unknown(self._provider, what) from None
            raise UnexpectedReply(f"{self._provider} {what}") from None

    def _http_error(self, response: httpx2.Response, body: bytes) -> ProviderError:
        try:
            message = self._error_text(json.loads(body))
        except ValueError:
            message = None  # an HTML page from a gateway says nothing useful
        retry_after = _retry_after(response.headers.get("retry-after"))
        return self.error(response.status_code, message, retry_after=retry_after)

    def error(self, status: int, message: str | None, *, retry_after: float | None = None) -> ProviderError:
        """The error for a status this provider answered (also one inside a 200's envelope), key redacted."""
        return error_for_status(self._provider, status, self.redact(message), retry_after=retry_after,
                                meanings=self._meanings, key_env_var=self._key_env_var)

    def redact(self, text: str | None) -> str | None:
        """A provider may echo the key in its message; it must never reach an error or a log.

        Provider messages are cut at 300 characters before they get here, so a cut may have left the
        first part of the key at the very end: that goes too.
        """
        text = self.redact_whole(text)
        if not text or not self._secret:
            return text
        for length in range(min(len(self._secret), len(text)) - 1, MIN_PARTIAL_SECRET - 1, -1):
            if text.endswith(self._secret[:length]):
                return text[:-length] + REDACTED
        return text

    def redact_whole(self, text: str | None) -> str | None:
        """The key, as it is or URL-escaped, replaced wherever it stands whole (for values such as a video URL,
        which no cut shortened: a value merely ending like the key's start is left as it is)."""
        for form in self._secret_forms():
            text = text.replace(form, REDACTED) if text else text
        return text

    def holds_secret(self, text: str) -> bool:
        return any(form in text for form in self._secret_forms())

    def _secret_forms(self) -> list[str]:
        return [form for form in dict.fromkeys((self._secret, quote(self._secret, safe=""))) if form]

    def _transport_error(self, exc: httpx2.TransportError, idempotent: bool) -> ProviderError:
        kind = type(exc).__name__
        connect_failed = isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)
        if not idempotent and not connect_failed:
            return outcome_unknown(self._provider, f"did not answer the submit request ({kind})")
        # a refused connection, a DNS or TLS failure: nothing of the request reached the provider
        return ProviderUnavailable(f"{self._provider} could not be reached ({kind}); try again later",
                                   no_job=connect_failed)


class ReplyPastBounds(Exception):
    """A reply larger than MAX_REPLY_BYTES, or slower than REPLY_DEADLINE: a failed attempt."""


async def _read_capped(response: httpx2.Response) -> bytes:
    """The decoded body, or ReplyPastBounds as soon as it passes MAX_REPLY_BYTES (nothing more is read)."""
    too_big = ReplyPastBounds(f"sent a reply over {MAX_REPLY_BYTES // (1024 * 1024)} MB")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
        raise too_big
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > MAX_REPLY_BYTES:
            raise too_big
    return bytes(body)


def _may_retry_transport(exc: httpx2.TransportError, idempotent: bool) -> bool:
    return idempotent or isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout)


def backoff(attempt: int, base: float = 0.5, cap: float = 8.0) -> float:
    """Exponential backoff with jitter: about base, 2 x base, 4 x base... up to cap, each cut by up to half at
    random so clients that failed together do not retry together."""
    return min(base * 2 ** (attempt - 1), cap) * random.uniform(0.5, 1.0)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare from these providers; fall back to our own backoff
    return min(max(0.0, seconds), MAX_RETRY_AFTER) if math.isfinite(seconds) else None
