"""Provider ids are data: a job id goes into the poll URL escaped, so it can neither leave the poll route
(`../`), start a query (`?`) nor cut the URL short (`#`)."""

from __future__ import annotations

from urllib.parse import quote

import httpx2
import pytest

from videogen_mcp.errors import RequestRefused
from videogen_mcp.providers import ADAPTERS

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
