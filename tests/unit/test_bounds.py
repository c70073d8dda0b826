"""One set of argument bounds, enforced by TaskService whichever door a call came through."""

from __future__ import annotations

import math

import pytest

from videogen_mcp.config import Settings
from videogen_mcp.errors import InvalidInput
from videogen_mcp.tasks.service import GenerateRequest, open_service

pytestmark = pytest.mark.anyio


def settings_for(fake, tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, download=False, api_keys={"wavespeed": fake.api_key("wavespeed")},
                    base_urls={"wavespeed": fake.base_url("wavespeed")}, local_available=False)


@pytest.mark.parametrize(
    ("fields", "sentence"),
    [
        ({"guidance_scale": 2.0}, "guidance_scale must be between 0 and 1, got 2.0"),
        ({"guidance_scale": -0.1}, "guidance_scale must be between 0 and 1, got -0.1"),
        ({"guidance_scale": math.nan}, "guidance_scale must be between 0 and 1, got nan"),
        ({"guidance_scale": math.inf}, "guidance_scale must be between 0 and 1, got inf"),
        ({"prompt": "x" * 3000}, "prompt must be at most 2500 characters, got 3000"),
        ({"negative_prompt": "x" * 3000}, "negative_prompt must be at most 2500 characters, got 3000"),
    ],
)
async def test_an_argument_out_of_bounds_is_refused_before_anything_is_stored_or_sent(fake, tmp_path, png, fields,
                                                                                     sentence):
    request = GenerateRequest(**{"image": str(png), "prompt": "a cat waves", "provider": "wavespeed", **fields})
    async with open_service(settings_for(fake, tmp_path)) as service:
        with pytest.raises(InvalidInput) as raised:
            await service.generate(request)
        assert await service.list() == []
    assert str(raised.value) == sentence
    assert fake.provider("wavespeed").requests == []  # not even the image upload


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        ({"limit": 0}, "limit must be between 1 and 200, got 0"),
        ({"limit": -3}, "limit must be between 1 and 200, got -3"),
        ({"limit": 201}, "limit must be between 1 and 200, got 201"),
        ({"status": "done"},
         "status must be one of 'queued', 'processing', 'completed', 'failed' or 'cancelled', got 'done'"),
    ],
)
async def test_listing_checks_its_arguments(fake, tmp_path, arguments, sentence):
    async with open_service(settings_for(fake, tmp_path), follow=False) as service:
        with pytest.raises(InvalidInput) as raised:
            await service.list(**arguments)
    assert str(raised.value) == sentence


@pytest.mark.parametrize(
    ("task_id", "seconds", "sentence"),
    [
        ("a" * 32, 901, "wait_seconds must be between 0 and 900 seconds, got 901"),
        ("a" * 32, -1, "wait_seconds must be between 0 and 900 seconds, got -1"),
        ("a" * 32, math.nan, "wait_seconds must be between 0 and 900 seconds, got nan"),
        ("a" * 101, 0, "task_id must be at most 100 characters, got 101"),
        ("", 0, "task_id must not be empty"),
    ],
)
async def test_waiting_checks_its_arguments(fake, tmp_path, task_id, seconds, sentence):
    async with open_service(settings_for(fake, tmp_path), follow=False) as service:
        with pytest.raises(InvalidInput) as raised:
            await service.wait(task_id, seconds)
    assert str(raised.value) == sentence


async def test_get_checks_the_task_id_length(fake, tmp_path):
    async with open_service(settings_for(fake, tmp_path), follow=False) as service:
        with pytest.raises(InvalidInput, match="task_id must be at most 100 characters, got 5000"):
            await service.get("x" * 5000)
