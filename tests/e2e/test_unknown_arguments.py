"""A misspelt or unknown argument is named back with isError, in both eras, and nothing reaches a provider."""

from __future__ import annotations

import pytest

from tests.conftest import ERAS
from tests.e2e.helpers import text_of

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("mode", ERAS)
async def test_a_misspelt_argument_is_named_back_and_nothing_is_sent(start_server, png, fake, mode):
    async with start_server(mode) as client:
        result = await client.call_tool("generate_video",
                                        {"image": str(png), "prompt": "a cat waves", "durration": 10})
        listed = await client.call_tool("list_tasks", {})
    assert result.is_error
    assert text_of(result) == "unknown argument 'durration'; did you mean 'duration'?"
    assert fake.provider("wavespeed").requests == []
    assert listed.structured_content["tasks"] == []


@pytest.mark.parametrize("mode", ERAS)
async def test_every_tool_refuses_unknown_arguments(start_server, mode):
    async with start_server(mode) as client:
        get = await client.call_tool("get_task", {"task_id": "abc", "wait_secs": 5})
        listing = await client.call_tool("list_tasks", {"limt": 5, "colour": "blue"})
        providers = await client.call_tool("list_providers", {"verbose": True})
    assert get.is_error and text_of(get) == "unknown argument 'wait_secs'; did you mean 'wait_seconds'?"
    assert listing.is_error
    assert text_of(listing) == ("unknown argument 'limt'; did you mean 'limit'?; "
                                "unknown argument 'colour'; list_tasks takes limit, status")
    assert providers.is_error and text_of(providers) == "unknown argument 'verbose'; list_providers takes no arguments"


@pytest.mark.parametrize("mode", ERAS)
async def test_input_schemas_say_no_other_arguments_are_accepted(start_server, mode):
    async with start_server(mode) as client:
        tools = (await client.list_tools()).tools
    assert {t.name: t.input_schema.get("additionalProperties") for t in tools} == {
        t.name: False for t in tools}
