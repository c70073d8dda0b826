"""The resellers as one pool, end to end over stdio with several providers configured."""

from __future__ import annotations

import pytest

from tests.fakes.base import FakeError
from tests.support.clients import text_of
from tests.support.servers import free_port, server_env, stdio_client

pytestmark = pytest.mark.anyio

POOL = ("wavespeed", "gptproto", "aimlapi")


def jobs(fake, name: str) -> int:
    return len(fake.provider(name).submits())


async def test_a_refused_connection_and_a_403_credit_fail_over_to_the_next_reseller(fake, tmp_path, png):
    dead = f"http://127.0.0.1:{free_port()}/wavespeed"  # nothing listens: the connection is refused
    fake.provider("gptproto").submit_errors.append(FakeError(403, {"error": {"message": "insufficient balance"}}))
    env = server_env(fake, tmp_path, POOL, WAVESPEED_BASE_URL=dead)
    async with stdio_client(env) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
        listed = await client.call_tool("list_providers", {})
    task = result.structured_content
    assert not result.is_error, text_of(result)
    assert (task["status"], task["provider"]) == ("completed", "aimlapi")
    assert [f["provider"] for f in task["failover"]] == ["wavespeed", "gptproto"]
    assert "could not be reached" in task["failover"][0]["reason"]
    assert "out of credit" in task["failover"][1]["reason"]
    assert (jobs(fake, "gptproto"), jobs(fake, "aimlapi")) == (1, 1)
    assert {p["name"]: p["health"]["status"] for p in listed.structured_content["providers"]}["wavespeed"] == "ok"


async def test_a_502_html_page_fails_the_task_without_asking_another_reseller(fake, tmp_path, png):
    fake.provider("wavespeed").submit_errors.append(FakeError(502, "<html>Bad gateway</html>"))
    async with stdio_client(server_env(fake, tmp_path, POOL)) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves"})
    assert result.is_error and "dashboard" in text_of(result)
    assert (jobs(fake, "wavespeed"), jobs(fake, "gptproto"), jobs(fake, "aimlapi")) == (1, 0, 0)
