"""Which submit failures certainly created no job (`no_job`): the only ones after which the pool fails over."""

from __future__ import annotations

import httpx2
import pytest

from videogen_mcp.catalog import resolve
from videogen_mcp.errors import ProviderError
from videogen_mcp.images import ImageInput
from videogen_mcp.providers import ADAPTERS, SubmitRequest

pytestmark = pytest.mark.anyio


def replying(status: int, body: bytes = b'{"message": "no"}', headers: dict[str, str] | None = None):
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, content=body, headers={"content-type": "application/json", **(headers or {})})
    return handler


def raising(exc: type[httpx2.TransportError]):
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise exc("boom", request=request)
    return handler


async def submit_error(handler, provider: str = "aimlapi") -> ProviderError:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    adapter = ADAPTERS[provider]("key", "http://h", client)
    request = SubmitRequest(resolve(provider, None), "a cat", 5)
    with pytest.raises(ProviderError) as caught:
        await adapter.submit(request, ImageInput(url="https://cdn.example.com/cat.png"))
    return caught.value


@pytest.mark.parametrize(("handler", "said"), [
    (raising(httpx2.ConnectError), "could not be reached (ConnectError)"),
    (replying(401), "rejected the API key"),
    (replying(403, b'{"message": "insufficient credit"}'), "out of credit"),
    (replying(429, headers={"retry-after": "0"}), "rate limiting"),
    (replying(503, headers={"retry-after": "0"}), "unavailable (HTTP 503"),
])
async def test_refusals_before_any_job_are_marked_no_job(handler, said):
    error = await submit_error(handler)
    assert said in str(error) and error.no_job


@pytest.mark.parametrize(("handler", "said"), [
    (raising(httpx2.ReadTimeout), "did not answer the submit request (ReadTimeout)"),
    (replying(500), "HTTP 500"),
    (replying(502, b"<html>Bad gateway</html>"), "HTTP 502"),
    (replying(504), "HTTP 504"),
    (replying(200, b"<html>not json"), "not JSON"),
])
async def test_failures_after_which_a_job_may_exist_are_not(handler, said):
    error = await submit_error(handler)
    assert said in str(error) and "dashboard" in str(error) and not error.no_job


async def test_wavespeed_envelope_refusal_is_marked_no_job():
    error = await submit_error(replying(200, b'{"code": 401, "message": "bad key", "data": null}'), "wavespeed")
    assert "rejected the API key" in str(error) and error.no_job
