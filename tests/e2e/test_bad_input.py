"""Bad input gets a clear isError sentence, no task, and no provider call, in both eras."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import ERAS, make_image
from tests.e2e.helpers import text_of

pytestmark = pytest.mark.anyio


def bad_inputs(tmp_path):
    small = make_image(tmp_path / "small.png", (200, 200))
    wide = make_image(tmp_path / "wide.png", (1200, 300))
    good = make_image(tmp_path / "good.png")
    text = tmp_path / "notes.png"
    text.write_text("this is not an image")
    ok = {"image": str(good), "prompt": "a cat waves"}
    return [
        ({**ok, "prompt": "x" * 2501}, "prompt must be at most 2500 characters, got 2501"),
        ({**ok, "prompt": ""}, "prompt must not be empty"),
        ({**ok, "duration": 7}, "kling-v2.1-i2v-pro takes 5 or 10 seconds, got 7"),
        ({**ok, "guidance_scale": 1.5}, "guidance_scale must be between 0 and 1, got 1.5"),
        ({**ok, "wait_seconds": 901}, "wait_seconds must be between 0 and 900 seconds, got 901"),
        ({**ok, "provider": "sora"}, "unknown provider 'sora'"),
        ({**ok, "provider": "aimlapi"}, "provider 'aimlapi' is not configured: set AIMLAPI_API_KEY"),
        ({**ok, "model": "kling-v9"}, "unknown model 'kling-v9'"),
        ({**ok, "image": str(tmp_path / "missing.png")}, "does not exist"),
        ({**ok, "image": str(small)}, "200x200 px; it must be at least 300x300 px"),
        ({**ok, "image": str(wide)}, "it must be between 1:2.5 (0.40) and 2.5:1 (2.50)"),
        ({**ok, "image": str(text)}, "is not a readable image"),
        ({**ok, "image": "data:image/png;base64," + base64.b64encode(b"nope").decode()}, "not a readable image"),
        ({**ok, "image": "photo.png"}, "is relative"),
        ({"prompt": "no image"}, "image is required"),
    ]


@pytest.mark.parametrize("mode", ERAS)
async def test_each_bad_input_is_an_error_and_reaches_no_provider(start_server, fake, tmp_path, mode):
    cases = bad_inputs(tmp_path)
    async with start_server(mode) as client:
        for arguments, expected in cases:
            result = await client.call_tool("generate_video", arguments)
            assert result.is_error, arguments
            assert expected in text_of(result), (expected, text_of(result))
        tasks = await client.call_tool("list_tasks", {})
    assert tasks.structured_content["tasks"] == []
    assert fake.provider("wavespeed").requests == []


async def test_unknown_task_id_is_a_clear_error(start_server):
    async with start_server() as client:
        result = await client.call_tool("get_task", {"task_id": "nope"})
    assert result.is_error
    assert "no task has id 'nope'" in text_of(result)


async def test_unconfigured_provider_names_its_variable(start_server, png, fake):
    async with start_server(providers=()) as client:
        arguments = {"image": str(png), "prompt": "a cat", "provider": "myrouter"}
        result = await client.call_tool("generate_video", arguments)
    assert result.is_error
    assert "provider 'myrouter' is not configured: set MYROUTER_API_KEY" in text_of(result)
