"""Provider ids are data: a job id goes into the poll URL escaped, so it can neither leave the poll route
(`../`), start a query (`?`) nor cut the URL short (`#`); and no value a provider hands back is kept with
the key in it."""

from __future__ import annotations

from urllib.parse import quote

import httpx2
import pytest

from videogen_mcp.catalog import resolve
from videogen_mcp.errors import RequestRefused, SubmitOutcomeUnknown
from videogen_mcp.images import load_image
from videogen_mcp.providers import ADAPTERS, SubmitRequest

HOSTILE_IDS = ["../../../_state?x=1", "job-1#frag", "a b/c&generation_id=other;d=%2F", "935ed026:klingai/v2.5/pro"]
#: Where each provider's poll goes, and how the id rides in it: in the path, or as one query value.
POLL_ROUTES = {
    "wavespeed": ("/api/v3/predictions/{id}/result", None),
    "gptproto": ("/api/v3/predictions/{id}/result", None),
    "aimlapi": ("/v2/video/generations", "generation_id"),
    "myrouter": ("/v3/async/task-result", "task_id"),
}


@pytest.mark.parametrize("provider", sorted(POLL_ROUTES))
@pytest.mark.parametrize("job_id", HOSTILE_IDS)
def test_the_poll_request_stays_on_the_poll_route_whatever_the_id(provider, job_id):
    adapter = ADAPTERS[provider]("key", "https://api.test/prefix", httpx2.AsyncClient())
    url = adapter.poll_request(job_id).url
    path, param = POLL_ROUTES[provider]
    assert url.host == "api.test" and url.fragment == ""
    if param is None:
        assert url.raw_path == ("/prefix" + path.format(id=quote(job_id, safe=""))).encode()
        assert url.path == "/prefix" + path.format(id=job_id)  # the provider reads back the same id
    else:
        assert url.path == "/prefix" + path
        assert list(url.params.multi_items()) == [(param, job_id)]


@pytest.mark.anyio
@pytest.mark.parametrize("provider", sorted(POLL_ROUTES))
@pytest.mark.parametrize("job_id", HOSTILE_IDS[:2])
async def test_the_fake_provider_records_the_escaped_id_on_its_poll_route(fake, provider, job_id):
    async with httpx2.AsyncClient() as client:
        adapter = ADAPTERS[provider](fake.api_key(provider), fake.base_url(provider), client)
        with pytest.raises(RequestRefused):  # no such job: the provider says so (and nothing else was asked)
            await adapter.poll(job_id)
    [request] = fake.provider(provider).requests
    path, param = POLL_ROUTES[provider]
    assert request.kind == "poll"
    if param is None:
        assert request.path == path.format(id=quote(job_id, safe=""))
        assert request.query == {}
    else:
        assert request.path == path
        assert request.query == {param: job_id}


# -- no key in a stored provider value -------------------------------------------------------------

ODD_KEY = "sk/live+Key==0123456789"  # a key whose URL-escaped form differs from itself


@pytest.mark.anyio
@pytest.mark.parametrize("form", [ODD_KEY, quote(ODD_KEY, safe="")])
async def test_a_video_url_signed_with_the_key_is_kept_without_it(form):
    body = {"code": 200, "data": {"status": "completed", "outputs": [f"https://cdn.test/v.mp4?sig={form}&e=1"]}}
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(lambda r: httpx2.Response(200, json=body))) as client:
        result = await ADAPTERS["wavespeed"](ODD_KEY, "http://h", client).poll("job-1")
    assert result.video_url == "https://cdn.test/v.mp4?sig=[redacted]&e=1"


@pytest.mark.anyio
@pytest.mark.parametrize("job_id", [ODD_KEY, f"job-{quote(ODD_KEY, safe='')}"])
async def test_a_job_id_holding_the_key_is_refused_with_a_pointer_to_the_dashboard(job_id):
    reply = httpx2.Response(200, json={"task_id": job_id})
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(lambda r: reply)) as client:
        adapter = ADAPTERS["myrouter"](ODD_KEY, "http://h", client)
        with pytest.raises(SubmitOutcomeUnknown, match="check the myrouter dashboard") as caught:
            await adapter.submit(SubmitRequest(resolve("myrouter", None), "a cat", 5), load_image("https://x.test/a.png"))
    assert ODD_KEY not in str(caught.value) and quote(ODD_KEY, safe="") not in str(caught.value)


def test_a_value_merely_ending_like_the_key_starts_is_left_alone():
    adapter = ADAPTERS["aimlapi"](ODD_KEY, "http://h", httpx2.AsyncClient())
    assert adapter.http.redact_whole("https://cdn.test/v.mp4?x=sk/l") == "https://cdn.test/v.mp4?x=sk/l"
    assert not adapter.http.holds_secret("job-sk/live")
