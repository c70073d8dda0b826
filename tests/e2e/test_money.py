"""Money end to end over stdio: confirmation through elicitation in both eras, the daily budget, cost_usd."""

from __future__ import annotations

import json

import anyio
import pytest
from mcp_types import ElicitResult

from tests.support.servers import ERAS, server_env, stdio_client

pytestmark = pytest.mark.anyio


def text(result) -> str:
    return "".join(getattr(c, "text", "") for c in result.content)


def answering(action: str, asked: list):
    async def callback(context, params):
        asked.append(params)
        content = {"confirm": True} if action == "accept" else None
        return ElicitResult(action=action, content=content)

    return callback


@pytest.mark.parametrize("era", ERAS)
async def test_a_costly_generation_asks_first_and_runs_once_confirmed(fake, tmp_path, png, era):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_CONFIRM_ABOVE_USD="0.40")
    asked: list = []
    async with stdio_client(env, era, elicitation_callback=answering("accept", asked)) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat", "wait_seconds": 0})
    assert not result.is_error, text(result)
    assert len(asked) == 1
    message = asked[0].message
    assert all(word in message for word in ("kling-v2.1-i2v-pro", "wavespeed", "5 s", "$0.45"))
    assert list(asked[0].requested_schema["properties"]) == ["confirm"]
    assert result.structured_content["cost_usd"] == 0.45
    assert len(fake.provider("wavespeed").submits()) == 1


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_a_declined_confirmation_sends_nothing(fake, tmp_path, png, era, action):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_CONFIRM_ABOVE_USD="0.40")
    asked: list = []
    async with stdio_client(env, era, elicitation_callback=answering(action, asked)) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat"})
        listed = await client.call_tool("list_tasks", {})
    assert result.is_error
    assert text(result) == "not confirmed; nothing was spent"
    assert len(asked) == 1
    assert fake.provider("wavespeed").requests == []
    assert listed.structured_content["tasks"] == []


@pytest.mark.parametrize("era", ERAS)
async def test_a_client_without_elicitation_is_told_the_price_and_the_variable(fake, tmp_path, png, era):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_CONFIRM_ABOVE_USD="0.40")
    async with stdio_client(env, era) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat"})
    assert result.is_error
    assert "$0.45" in text(result) and "VIDEOGEN_CONFIRM_ABOVE_USD" in text(result)
    assert "nothing was sent" in text(result)
    assert fake.provider("wavespeed").requests == []


@pytest.mark.parametrize("era", ERAS)
async def test_a_generation_under_the_threshold_asks_nothing(fake, tmp_path, png, era):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_CONFIRM_ABOVE_USD="0.50")
    asked: list = []
    async with stdio_client(env, era, elicitation_callback=answering("decline", asked)) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat", "wait_seconds": 0})
    assert not result.is_error, text(result)
    assert asked == []


async def test_the_budget_refuses_the_call_that_would_pass_it_before_any_provider_call(fake, tmp_path, png):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_DAILY_BUDGET_USD="1.00")
    arguments = {"image": str(png), "prompt": "a cat", "wait_seconds": 0}
    async with stdio_client(env) as client:
        first = await client.call_tool("generate_video", arguments)
        second = await client.call_tool("generate_video", arguments)
        third = await client.call_tool("generate_video", arguments)
    assert not first.is_error and not second.is_error
    assert third.is_error
    assert "$0.90 spent" in text(third) and "$0.45" in text(third) and "$1.00" in text(third)
    assert len(fake.provider("wavespeed").submits()) == 2


async def test_aimlapi_reported_credits_replace_the_catalog_price(fake, tmp_path, png):
    env = server_env(fake, tmp_path / "data", ("aimlapi",))
    async with stdio_client(env) as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat", "wait_seconds": 0})
    assert not result.is_error, text(result)
    assert result.structured_content["cost_usd"] == pytest.approx(1575000 / 2_000_000)


async def test_list_providers_shows_prices_with_source_and_date(fake, tmp_path):
    env = server_env(fake, tmp_path / "data")
    async with stdio_client(env) as client:
        result = await client.call_tool("list_providers", {})
    providers = {p["name"]: p for p in json.loads(text(result))["providers"]}
    pro = next(m for m in providers["wavespeed"]["models"] if m["id"] == "kling-v2.1-i2v-pro")
    assert pro["price_usd"] == {"5": 0.45, "10": 0.9}
    assert pro["price_source"].startswith("WaveSpeed") and pro["price_read"]
    myrouter = providers["myrouter"]["models"][0]
    assert myrouter["price_usd"] is None and myrouter["price_note"]


async def test_two_processes_sharing_a_data_dir_never_pass_the_budget_together(fake, tmp_path, png):
    env = server_env(fake, tmp_path / "data", VIDEOGEN_DAILY_BUDGET_USD="2.00")  # room for 4 at $0.45
    arguments = {"image": str(png), "prompt": "a cat", "wait_seconds": 0}
    results: list = []

    async def call(client) -> None:
        results.append(await client.call_tool("generate_video", arguments))

    async with stdio_client(env) as one, stdio_client(env) as two, anyio.create_task_group() as group:
        for _ in range(5):
            group.start_soon(call, one)
            group.start_soon(call, two)
    accepted = [r for r in results if not r.is_error]
    refused = [r for r in results if r.is_error]
    assert len(accepted) == 4 and len(refused) == 6
    assert all("VIDEOGEN_DAILY_BUDGET_USD=$2.00" in text(r) for r in refused)
    assert len(fake.provider("wavespeed").submits()) == 4
