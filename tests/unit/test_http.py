"""The shared HTTP layer: error mapping, retries, timeouts, and never leaking the key."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx2
import pytest

from videogen_mcp import http
from videogen_mcp.catalog import resolve
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
from videogen_mcp.http import ProviderHttp, error_for_status
from videogen_mcp.images import load_image
from videogen_mcp.providers import ADAPTERS, SubmitRequest

SECRET = "sk-live-SECRET-0123456789"
URL = "http://h/prefix/api/v3/predictions/p1/result"


# -- error_for_status ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "status", "message", "kind"),
    [
        ("wavespeed", 401, None, KeyRejected),
        ("wavespeed", 401, "Unauthorized: invalid API key", KeyRejected),
        ("myrouter", 403, "INVALID_API_KEY invalid api-key", KeyRejected),
        ("myrouter", 403, "ACCESS_DENY access denied", KeyRejected),
        ("wavespeed", 403, "Insufficient balance", OutOfCredit),
        ("myrouter", 403, "NOT_ENOUGH_BALANCE not enough balance", OutOfCredit),
        ("aimlapi", 403, "Insufficient credits", OutOfCredit),
        ("wavespeed", 402, None, OutOfCredit),
        ("gptproto", 402, "Payment required", OutOfCredit),
        ("aimlapi", 429, "Too many requests", RateLimited),
        ("wavespeed", 500, None, ProviderUnavailable),
        ("gptproto", 502, "Bad gateway", ProviderUnavailable),
        ("aimlapi", 503, None, ProviderUnavailable),
        ("myrouter", 504, None, ProviderUnavailable),
        ("wavespeed", 400, "prompt is too long", RequestRefused),
        ("myrouter", 404, "MODEL_NOT_FOUND model not found", RequestRefused),
        ("aimlapi", 422, None, RequestRefused),
    ],
)
def test_error_for_status_maps_each_status_to_one_error_class(provider, status, message, kind):
    error = error_for_status(provider, status, message)
    assert type(error) is kind
    assert str(error).startswith(provider)
    assert f"HTTP {status}" in str(error)


@pytest.mark.parametrize("provider", ["wavespeed", "gptproto", "aimlapi", "myrouter"])
def test_key_rejected_names_the_key_variable_to_check(provider):
    error = error_for_status(provider, 401, None)
    assert str(error) == f"{provider} rejected the API key (HTTP 401): check {provider.upper()}_API_KEY"


def test_wavespeed_401_message_is_the_documented_sentence():
    assert str(error_for_status("wavespeed", 401, None)) == (
        "wavespeed rejected the API key (HTTP 401): check WAVESPEED_API_KEY"
    )


@pytest.mark.parametrize("message", ["Insufficient balance", "NOT_ENOUGH_BALANCE not enough balance",
                                     "Insufficient credits"])
def test_out_of_credit_quotes_the_provider_and_says_to_top_up(message):
    error = error_for_status("wavespeed", 403, message)
    assert isinstance(error, OutOfCredit)
    assert message in str(error)
    assert "top it up" in str(error)


@pytest.mark.parametrize(("retry_after", "words"), [(7.0, "retry in 7 s"), (None, "wait a minute")])
def test_rate_limited_carries_retry_after(retry_after, words):
    error = error_for_status("aimlapi", 429, "slow down", retry_after=retry_after)
    assert isinstance(error, RateLimited)
    assert error.retry_after == retry_after
    assert error.transient
    assert words in str(error)


def test_server_errors_are_transient_and_client_errors_are_not():
    assert error_for_status("wavespeed", 503, None).transient
    for status in (400, 401, 402, 403):
        assert not error_for_status("wavespeed", status, "x").transient


def test_request_refused_quotes_the_provider_message():
    error = error_for_status("wavespeed", 400, "duration must be one of 5, 10")
    assert str(error) == "wavespeed refused the request (HTTP 400): duration must be one of 5, 10"


# -- ProviderHttp.send ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries without a Retry-After header sleep for the backoff; keep unit tests instant."""
    monkeypatch.setattr(http, "backoff", lambda attempt: 0.0)


def error_text(body: object) -> str | None:
    return body.get("message") if isinstance(body, dict) else None


class Script:
    """A MockTransport handler that plays a list of replies (or exceptions) in order and counts calls."""

    def __init__(self, *steps: httpx2.Response | Callable[[httpx2.Request], httpx2.Response]) -> None:
        self.steps = list(steps)
        self.calls = 0

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        step = self.steps[min(self.calls, len(self.steps) - 1)]
        self.calls += 1
        if callable(step):
            return step(request)
        return httpx2.Response(step.status_code, headers=step.headers, content=step.content)  # a fresh copy


def raises(exc_type: type[httpx2.TransportError]) -> Callable[[httpx2.Request], httpx2.Response]:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise exc_type("simulated", request=request)

    return handler


OK = httpx2.Response(200, json={"status": "ok"})
HTML_502 = httpx2.Response(502, text="<html><body><h1>502 Bad Gateway</h1></body></html>",
                           headers={"content-type": "text/html"})


async def send(script: Script, *, idempotent: bool, method: str = "GET") -> object:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(script)) as client:
        request = httpx2.Request(method, URL, headers={"Authorization": f"Bearer {SECRET}"}, json={"a": 1})
        return await ProviderHttp(client, "wavespeed", error_text).send(request, idempotent=idempotent)


@pytest.mark.anyio
async def test_poll_is_retried_on_502_then_succeeds():
    script = Script(HTML_502, OK)
    assert await send(script, idempotent=True) == {"status": "ok"}
    assert script.calls == 2


@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
async def test_poll_is_retried_on_each_transient_status(status):
    script = Script(httpx2.Response(status, json={"message": "later"}), OK)
    assert await send(script, idempotent=True) == {"status": "ok"}
    assert script.calls == 2


@pytest.mark.anyio
async def test_poll_gives_up_after_three_attempts():
    script = Script(httpx2.Response(503, json={"message": "down"}))
    with pytest.raises(ProviderUnavailable, match=r"HTTP 503: down"):
        await send(script, idempotent=True)
    assert script.calls == 3


@pytest.mark.anyio
@pytest.mark.parametrize("status", [500, 502, 504])
async def test_submit_is_not_retried_on_a_server_error(status):
    script = Script(httpx2.Response(status, json={"message": "boom"}), OK)
    with pytest.raises(SubmitOutcomeUnknown, match="may still have been created"):
        await send(script, idempotent=False, method="POST")
    assert script.calls == 1


@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 503])
async def test_submit_is_retried_when_the_provider_says_it_did_not_process_it(status):
    script = Script(httpx2.Response(status, headers={"Retry-After": "0"}, json={"message": "busy"}), OK)
    assert await send(script, idempotent=False, method="POST") == {"status": "ok"}
    assert script.calls == 2


@pytest.mark.anyio
async def test_submit_is_retried_on_429_with_retry_after_zero():
    script = Script(httpx2.Response(429, headers={"Retry-After": "0"}, json={"message": "Rate limit"}), OK)
    assert await send(script, idempotent=False, method="POST") == {"status": "ok"}
    assert script.calls == 2


@pytest.mark.anyio
@pytest.mark.parametrize("idempotent", [True, False])
async def test_retry_after_longer_than_the_inline_limit_goes_back_to_the_caller(idempotent):
    script = Script(httpx2.Response(429, headers={"Retry-After": "60"}, json={"message": "slow down"}), OK)
    with pytest.raises(RateLimited) as caught:
        await send(script, idempotent=idempotent)
    assert caught.value.retry_after == 60.0
    assert script.calls == 1


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 402, 403, 404])
async def test_client_errors_are_never_retried(status):
    script = Script(httpx2.Response(status, json={"message": "no"}), OK)
    with pytest.raises(ProviderError):
        await send(script, idempotent=True)
    assert script.calls == 1


@pytest.mark.anyio
@pytest.mark.parametrize("exc", [httpx2.ReadTimeout, httpx2.ReadError, httpx2.RemoteProtocolError])
async def test_submit_without_a_reply_is_submit_outcome_unknown_and_not_retried(exc):
    script = Script(raises(exc), OK)
    with pytest.raises(SubmitOutcomeUnknown, match="may still have been created"):
        await send(script, idempotent=False, method="POST")
    assert script.calls == 1


@pytest.mark.anyio
@pytest.mark.parametrize("exc", [httpx2.ConnectError, httpx2.ConnectTimeout])
async def test_submit_that_never_connected_is_retried(exc):
    script = Script(raises(exc), OK)
    assert await send(script, idempotent=False, method="POST") == {"status": "ok"}
    assert script.calls == 2


@pytest.mark.anyio
@pytest.mark.parametrize("exc", [httpx2.ReadTimeout, httpx2.ConnectError, httpx2.ReadError])
async def test_poll_is_retried_after_a_transport_error(exc):
    script = Script(raises(exc), OK)
    assert await send(script, idempotent=True) == {"status": "ok"}
    assert script.calls == 2


@pytest.mark.anyio
async def test_poll_that_never_gets_a_reply_is_provider_unavailable():
    script = Script(raises(httpx2.ReadTimeout))
    with pytest.raises(ProviderUnavailable, match=r"could not be reached \(ReadTimeout\)"):
        await send(script, idempotent=True)
    assert script.calls == 3


@pytest.mark.anyio
async def test_html_502_from_a_gateway_is_provider_unavailable_without_the_html():
    with pytest.raises(ProviderUnavailable) as caught:
        await send(Script(HTML_502), idempotent=True)
    assert str(caught.value) == "wavespeed is unavailable (HTTP 502); try again later"


@pytest.mark.anyio
async def test_html_502_to_a_submit_warns_that_the_job_may_exist_without_the_html():
    with pytest.raises(SubmitOutcomeUnknown) as caught:
        await send(Script(HTML_502), idempotent=False)
    assert str(caught.value).startswith("wavespeed failed while answering the submit request (HTTP 502); the job may")


@pytest.mark.anyio
async def test_non_json_200_is_an_unexpected_reply_after_the_retries():
    script = Script(httpx2.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(UnexpectedReply, match="not JSON"):
        await send(script, idempotent=True)
    assert script.calls == 3


@pytest.mark.anyio
async def test_a_poll_answered_once_with_a_non_json_200_is_asked_again():
    script = Script(httpx2.Response(200, text="<html>maintenance</html>"), OK)
    assert await send(script, idempotent=True) == {"status": "ok"}
    assert script.calls == 2


@pytest.mark.anyio
@pytest.mark.parametrize("error", [httpx2.ReadError, httpx2.RemoteProtocolError, httpx2.ReadTimeout])
async def test_a_poll_whose_connection_was_reset_is_asked_again(error):
    script = Script(raises(error), OK)
    assert await send(script, idempotent=True) == {"status": "ok"}
    assert script.calls == 2


def test_backoff_grows_exponentially_with_jitter_and_a_cap(monkeypatch):
    monkeypatch.undo()  # the real backoff, not the autouse stand-in
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 8.0), (9, 8.0)]:
        waits = {http.backoff(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits), (attempt, waits)
        assert len(waits) > 1  # jittered: clients that failed together do not retry in step


@pytest.mark.anyio
async def test_non_json_200_to_a_submit_warns_that_the_job_may_exist():
    script = Script(httpx2.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(SubmitOutcomeUnknown, match="check the wavespeed dashboard"):
        await send(script, idempotent=False, method="POST")


# -- no secret in any error ----------------------------------------------------------------------

FAULTS = [
    pytest.param(httpx2.Response(401, json={"message": "Unauthorized"}), id="401"),
    pytest.param(httpx2.Response(403, json={"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api-key"}),
                 id="403-key"),
    pytest.param(httpx2.Response(403, json={"message": "Insufficient balance"}), id="403-credit"),
    pytest.param(httpx2.Response(429, headers={"Retry-After": "30"}, json={"message": "slow"}), id="429"),
    pytest.param(httpx2.Response(400, json={"error": "bad image"}), id="400"),
    pytest.param(httpx2.Response(500, json={"message": "internal"}), id="500"),
    pytest.param(HTML_502, id="html-502"),
    pytest.param(httpx2.Response(200, text="not json"), id="non-json-200"),
    pytest.param(httpx2.Response(200, json=["unexpected"]), id="unexpected-200"),
    pytest.param(raises(httpx2.ReadTimeout), id="read-timeout"),
    pytest.param(raises(httpx2.ConnectError), id="connect-error"),
]


@pytest.mark.anyio
@pytest.mark.parametrize("provider", ["wavespeed", "gptproto", "aimlapi", "myrouter"])
@pytest.mark.parametrize("fault", FAULTS)
async def test_no_error_message_contains_the_api_key(provider, fault):
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(Script(fault))) as client:
        adapter = ADAPTERS[provider](SECRET, "http://h/prefix", client)
        req = SubmitRequest(resolve(provider, None), "a cat", 5)
        image = load_image("https://x.test/cat.png")
        for call in (lambda: adapter.poll("p1"), lambda: adapter.submit(req, image)):
            with pytest.raises(ProviderError) as caught:
                await call()
            assert SECRET not in str(caught.value)
            assert SECRET not in repr(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize("provider", ["wavespeed", "aimlapi"])
async def test_provider_message_echoing_the_key_is_not_repeated_in_the_error(provider):
    script = Script(httpx2.Response(401, json={"message": f"Incorrect API key provided: {SECRET}"}))
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(script)) as client:
        adapter = ADAPTERS[provider](SECRET, "http://h/prefix", client)
        with pytest.raises(KeyRejected) as caught:
            await adapter.poll("p1")
    assert SECRET not in str(caught.value)


@pytest.mark.anyio
@pytest.mark.parametrize(("header", "kept"), [("30", 30.0), ("86400", 600.0), ("1e999", None), ("nan", None),
                                              ("-5", 0.0), ("Wed, 21 Oct 2026 07:28:00 GMT", None)])
async def test_retry_after_is_kept_finite_and_at_most_ten_minutes(header, kept):
    script = Script(httpx2.Response(429, headers={"Retry-After": header}, json={"message": "slow down"}))
    with pytest.raises(RateLimited) as caught:
        await send(script, idempotent=False, method="POST")
    assert caught.value.retry_after == kept


@pytest.mark.anyio
async def test_the_shared_client_is_built_once_on_first_use_and_closed_after():
    built: list[httpx2.AsyncClient] = []

    def make() -> httpx2.AsyncClient:
        built.append(httpx2.AsyncClient(transport=httpx2.MockTransport(Script(OK))))
        return built[-1]

    async with http.LazyClient(make) as lazy:
        assert built == []  # starting the server costs no TLS context
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(lazy.send, httpx2.Request("GET", URL))
        async with lazy.stream("GET", URL) as response:
            assert (await response.aread()) == b'{"status":"ok"}'
    assert len(built) == 1 and built[0].is_closed
