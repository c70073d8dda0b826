"""Each provider's account errors mean what its API documents (providers/API.md): the same status may be a
refused key at one provider and an empty balance at another. The mapping is written once, in http.py; each
adapter declares only where its provider differs."""

from __future__ import annotations

import httpx2
import pytest

from videogen_mcp.errors import KeyRejected, OutOfCredit, ProviderError
from videogen_mcp.providers import ADAPTERS

pytestmark = pytest.mark.anyio


def aiml(status: int, message: str) -> dict:
    return {"message": message, "path": "/v2/video/generations", "requestId": "r-1", "statusCode": status,
            "timestamp": "2026-01-01T00:00:00.000Z"}


def novita(status: int, reason: str, message: str) -> dict:
    return {"code": status, "reason": reason, "message": message, "metadata": {}}


# (provider, HTTP status, body, error class, words of the sentence)
CASES = [
    # AI/ML API documents: 401 invalid key, 403 out of credits (its message need not say so)
    ("aimlapi", 401, aiml(401, "Unauthorized"), KeyRejected, "check AIMLAPI_API_KEY"),
    ("aimlapi", 403, aiml(403, "Forbidden"), OutOfCredit, "aimlapi says the account is out of credit (HTTP 403"),
    ("aimlapi", 403, aiml("403", "Forbidden resource"), OutOfCredit, "top it up"),
    # myrouter (Novita) documents 403 for a bad key, an empty balance and denied access: the reason tells
    ("myrouter", 401, novita(401, "FAILED_TO_AUTH", "failed to auth"), KeyRejected, "check MYROUTER_API_KEY"),
    ("myrouter", 403, novita(403, "INVALID_API_KEY", "invalid api-key"), KeyRejected, "check MYROUTER_API_KEY"),
    ("myrouter", 403, novita(403, "NOT_ENOUGH_BALANCE", "not enough balance"), OutOfCredit, "top it up"),
    ("myrouter", 403, novita(403, "ACCESS_DENY", "access denied"), KeyRejected, "check MYROUTER_API_KEY"),
    # WaveSpeed and GPTProto document no 403: a bare one is the key, one that speaks of balance is credit
    ("wavespeed", 401, {"code": 401, "message": "Unauthorized: invalid API key"}, KeyRejected, "WAVESPEED_API_KEY"),
    ("wavespeed", 403, {"code": 403, "message": "Forbidden"}, KeyRejected, "check WAVESPEED_API_KEY"),
    ("wavespeed", 403, {"code": 403, "message": "Insufficient balance"}, OutOfCredit, "top it up"),
    ("wavespeed", 402, {"code": 402, "message": "Payment required"}, OutOfCredit, "top it up"),
    ("gptproto", 401, {"error": {"message": "Invalid signature", "type": "401"}}, KeyRejected, "GPTPROTO_API_KEY"),
    ("gptproto", 403, {"error": {"message": "Forbidden", "type": "403"}}, KeyRejected, "check GPTPROTO_API_KEY"),
    ("gptproto", 402, {"error": {"message": "Insufficient balance", "type": "402"}}, OutOfCredit, "top it up"),
]


async def poll_error(provider: str, response: httpx2.Response) -> ProviderError:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(lambda request: response)) as client:
        adapter = ADAPTERS[provider]("key", "http://h", client)
        with pytest.raises(ProviderError) as caught:
            await adapter.poll("job-1")
    return caught.value


@pytest.mark.parametrize(("provider", "status", "body", "kind", "words"), CASES)
async def test_an_account_error_means_what_the_provider_documents(provider, status, body, kind, words):
    error = await poll_error(provider, httpx2.Response(status, json=body))
    assert type(error) is kind, str(error)
    assert words in str(error)


@pytest.mark.parametrize(("provider", "status", "body", "kind", "words"),
                         [case for case in CASES if case[0] in ("wavespeed", "gptproto")])
async def test_an_envelope_error_in_an_http_200_means_the_same(provider, status, body, kind, words):
    error = await poll_error(provider, httpx2.Response(200, json=body))
    assert type(error) is kind, str(error)
    assert words in str(error)
