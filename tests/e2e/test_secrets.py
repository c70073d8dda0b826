"""No API key, and no image payload, in anything the server writes: tool results, progress, notifications,
resources, stderr (at DEBUG, the most verbose logging there is), or any file in its data dir.

Every provider is configured with a canary key the fake accepts; the fakes then echo the key back in
every place a provider's words reach the server: submit errors (401, 403, 400, 429, HTML 502), poll
errors, a job's failure reason, and an unknown job status. Partial keys count too: a message cut at
its 300th character must not leave the first half of a key behind.
"""

from __future__ import annotations

import base64
from typing import Any

import anyio
import httpx2
import pytest

from tests.conftest import PROVIDERS, server_env
from tests.e2e.helpers import MessageLog, ProgressLog, text_of
from tests.fakes import FakeError
from tests.support.images import image_bytes
from tests.support.secrets import Haystack, canary, debug_server, payload_needles
from tests.support.servers import http_server

pytestmark = pytest.mark.anyio


def echoing(fake, provider: str, status: int, message: str, **headers: str) -> FakeError:
    """An error in the provider's own body shape whose message says what we like (the key, say)."""
    return FakeError(status, fake.provider(provider).error_body(status, message), headers)


def straddling(secret: str, provider: str) -> str:
    """A message whose 300th character falls in the middle of the key: a cut must not keep half of it."""
    said_before = len("INVALID_REQUEST_BODY ") if provider == "myrouter" else 0  # myrouter's reason comes first
    filler = ("Request rejected: " + "details " * 40)[:300 - said_before - len("key=") - (len(secret) - 16)]
    return f"{filler}key={secret} (end)"


async def test_no_key_and_no_image_payload_anywhere(fake, canaries, tmp_path):
    image = image_bytes((480, 360), noise=80)
    photo = tmp_path / "photo.png"
    photo.write_bytes(image)
    data_uri = "data:image/png;base64," + base64.b64encode(image).decode()
    data_dir, stderr = tmp_path / "data", tmp_path / "stderr.log"
    env = server_env(fake, data_dir, PROVIDERS, **{f"{p.upper()}_API_KEY": k for p, k in canaries.items()})
    seen, messages, progress = Haystack(), MessageLog(), ProgressLog()
    task_ids: list[str] = []

    async with debug_server(env, stderr, message_handler=messages) as client:

        async def generate(label: str, provider: str, **args: Any) -> Any:
            args = {"image": str(photo), "prompt": "a cat waves", "provider": provider, **args}
            with anyio.fail_after(60):
                result = await client.call_tool("generate_video", args, progress_callback=progress)
            seen.add_result(f"{provider} {label}", result)
            if result.structured_content and "task_id" in result.structured_content:
                task_ids.append(result.structured_content["task_id"])
            return result

        for provider in PROVIDERS:
            p, key = fake.provider(provider), canaries[provider]
            # successes, from a local file and from a data URI, followed with progress
            done = await generate("from a file", provider)
            assert done.structured_content["status"] == "completed", text_of(done)
            started = await generate("from a data URI", provider, image=data_uri, wait_seconds=0)
            followed = await client.call_tool("get_task", {"task_id": started.structured_content["task_id"],
                                                           "wait_seconds": 30}, progress_callback=progress)
            seen.add_result(f"{provider} get_task", followed)
            assert followed.structured_content["status"] == "completed"
            # refusals that quote the key back, whole or cut at the 300th character
            echoes = [(401, f"Invalid API key: {key}"), (403, f"Forbidden: key {key} is disabled"),
                      (400, f"Bad request (authorization: Bearer {key})"), (400, straddling(key, provider))]
            for status, message in echoes:
                p.submit_errors = [echoing(fake, provider, status, message)]
                refused = await generate(f"HTTP {status}", provider)
                assert refused.is_error and f"(HTTP {status}" in text_of(refused), text_of(refused)
            p.submit_errors = [echoing(fake, provider, 429, f"slow down, {key}", **{"Retry-After": "0"})] * 3
            assert (await generate("HTTP 429", provider)).is_error
            p.submit_errors = [FakeError(502, f"<html><body>bad gateway for {key}</body></html>")]
            assert (await generate("HTML 502", provider)).is_error
            # transient poll errors that quote the key, then success
            p.poll_errors = [echoing(fake, provider, 503, f"overloaded ({key})"),
                             echoing(fake, provider, 429, f"too many polls by {key}", **{"Retry-After": "0"}),
                             echoing(fake, provider, 401, f"who is {key}?")]
            survived = await generate("poll errors", provider)
            assert survived.structured_content["status"] == "completed", text_of(survived)
            # a job that fails for a reason naming the key
            p.fail_next = f"the account behind {key} may not use this model"
            failed = await generate("failed job", provider)
            assert failed.structured_content["status"] == "failed"
            assert "may not use this model" in failed.structured_content["error"]
            # a job whose status is one the server does not know, quoting the key
            p.unknown_status = f"STUCK-{key}"
            odd = await generate("unknown status", provider, wait_seconds=60)
            p.unknown_status = None
            assert odd.structured_content["status"] == "failed", text_of(odd)
            assert "unknown status" in odd.structured_content["error"]

        listed = (await client.call_tool("list_tasks", {"limit": 200})).structured_content["tasks"]
        seen.add("list_tasks", listed)
        seen.add("list_providers", (await client.call_tool("list_providers", {})).structured_content)
        seen.add("resources/list", (await client.list_resources(cache_mode="bypass")).resources)
        for task in listed:  # refused submits too: their tasks are stored as failed
            seen.add(task["resource_uri"], (await client.read_resource(task["resource_uri"])).contents)

    seen.add("progress", progress.events)
    seen.add("notifications", messages.messages)
    seen.add("stderr", stderr.read_text(encoding="utf-8", errors="replace"))
    assert seen.add_files(data_dir) >= 3  # tasks.db (with its WAL) and the videos
    assert progress.events and len(task_ids) == 5 * len(PROVIDERS) and len(listed) == 11 * len(PROVIDERS)
    assert "DEBUG" in stderr.read_text()  # the most verbose logging really was on

    for provider, key in canaries.items():
        assert not seen.leaks(key), f"{provider}'s key leaked:\n" + "\n".join(seen.leaks(key))
    for needle in payload_needles(image):
        assert not seen.contains(needle), f"image payload in {seen.contains(needle)}"
    for provider in PROVIDERS:  # the key went where it belongs, and nowhere else
        assert any(canaries[provider] in str(r.headers) for r in fake.provider(provider).submits())
    assert fake.downloads and not any("authorization" in d.headers for d in fake.downloads)


def test_http_token_never_reaches_a_response_or_the_log(fake, tmp_path):
    """The VIDEOGEN_HTTP_TOKEN guard: refused requests are not told the token, and the log never has it."""
    token = canary("http")
    env = server_env(fake, tmp_path / "data", VIDEOGEN_HTTP_TOKEN=token)
    seen, stderr = Haystack(), tmp_path / "stderr.log"
    with http_server(env, stderr=stderr) as url:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {token[:-1]}"},
                        {"Authorization": token}):
            refused = httpx2.post(url, headers=headers, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert refused.status_code == 401
            seen.add(f"401 for {headers}", f"{refused.headers}\n{refused.text}")
        good = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream"}
        hello = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
        accepted = httpx2.post(url, headers=good, json=hello)
        assert accepted.status_code == 200
        seen.add("initialize", f"{accepted.headers}\n{accepted.text}")
    seen.add("stderr", stderr.read_text())
    seen.add_files(tmp_path / "data")
    assert not seen.leaks(token), seen.leaks(token)
