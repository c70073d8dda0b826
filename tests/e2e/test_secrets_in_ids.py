"""A provider that puts its key where the server stores data, not words: in the video URL (`?sig=<key>`) and
as the job id. The key reaches no tool result, resource, stderr line (at DEBUG) or file in the data dir,
and the server never sends it back in a URL: not to the provider's poll route, not to the video's CDN.

A job id holding the key fails the task at once (polling it would put the key in a URL); a video URL holding
it is stored with the key redacted and not downloaded (without the key it cannot work; with it, the key would
reach a CDN): the task says so."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

from tests.conftest import PROVIDERS, server_env
from tests.e2e.helpers import text_of
from tests.fakes import FakeProvider
from tests.support.secrets import Haystack, debug_server

pytestmark = pytest.mark.anyio


async def test_a_key_in_the_video_url_or_as_the_job_id_is_never_repeated(fake, canaries, png, tmp_path,
                                                                        monkeypatch):
    data_dir, stderr = tmp_path / "data", tmp_path / "stderr.log"
    env = server_env(fake, data_dir, PROVIDERS, **{f"{p.upper()}_API_KEY": k for p, k in canaries.items()})
    plain_url = FakeProvider.video_url
    signing = {name: False for name in PROVIDERS}
    monkeypatch.setattr(FakeProvider, "video_url", lambda self, job: plain_url(self, job) + (
        f"?sig={self.key}" if signing[self.name] else ""))
    seen = Haystack()

    async with debug_server(env, stderr) as client:

        async def generate(label: str, provider: str) -> Any:
            args = {"image": str(png), "prompt": "a cat waves", "provider": provider, "wait_seconds": 30}
            with anyio.fail_after(60):
                result = await client.call_tool("generate_video", args)
            seen.add(f"{provider} {label}", text_of(result))
            seen.add(f"{provider} {label} (structured)", result.structured_content)
            return result

        for provider in PROVIDERS:
            p, key = fake.provider(provider), canaries[provider]
            signing[provider] = True
            signed = await generate("video URL signed with the key", provider)
            signing[provider] = False
            task = signed.structured_content
            assert task["status"] == "completed", text_of(signed)
            assert task["video_url"].endswith("?sig=[redacted]")
            assert "carried the provider's API key" in task["error"], task  # never fetched: it cannot work

            p.job_ids = [f"job-{key}"]
            refused = await generate("the key as job id", provider)
            assert refused.is_error and "job id that contains the API key" in text_of(refused), text_of(refused)
            p.job_ids = [key]
            assert (await generate("the key, whole, as job id", provider)).is_error
            assert not p.polls() or all(key not in str(r.query) + r.path for r in p.polls())

        listed = (await client.call_tool("list_tasks", {"limit": 100})).structured_content["tasks"]
        seen.add("list_tasks", listed)
        for task in listed:
            seen.add(task["resource_uri"], (await client.read_resource(task["resource_uri"])).contents)

    seen.add("stderr", stderr.read_text(encoding="utf-8", errors="replace"))
    assert seen.add_files(data_dir) >= 1  # tasks.db (no video: each signed URL was refused)
    assert len(listed) == 3 * len(PROVIDERS)
    assert "DEBUG" in stderr.read_text()
    for provider, key in canaries.items():
        assert not seen.leaks(key), f"{provider}'s key leaked:\n" + "\n".join(seen.leaks(key))
        for request in fake.provider(provider).requests:  # the key went in the header, never in a URL
            assert key not in request.path + str(request.query), request
    for download in fake.downloads:
        assert all(key not in download.path + str(download.query) + str(download.headers)
                   for key in canaries.values())
