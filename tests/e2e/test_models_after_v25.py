"""Kling after v2.5 through the real server: each provider's fake receives the integer duration, the end frame
in every image form under its own field, and the audio flag always; refusals send nothing, not even an upload."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import server_env, stdio_client
from tests.e2e.helpers import text_of
from tests.support.servers import run_cli

pytestmark = pytest.mark.anyio

IMAGE_URL = "https://images.example.com/first.png"
END_URL = "https://images.example.com/last.png"
#: (provider, model, duration): the end-frame field (None: none), the audio field, images inlined as data URIs.
ROWS = [
    ("wavespeed", "kling-v3.0-std-i2v", 12, "end_image", "sound", False),
    ("aimlapi", "kling-v3.0-pro-i2v", 12, "tail_image_url", "generate_audio", True),
    ("myrouter", "kling-v3.0-std-i2v", 12, "end_image", "sound", True),
    ("gptproto", "kling-v2.6-pro-i2v", 10, "last_image", "sound", True),
    ("aimlapi", "kling-v2.6-pro-i2v", 10, None, "generate_audio", True),
]


def start(fake, tmp_path, *providers, **extra):
    return stdio_client(server_env(fake, tmp_path / "data", providers, **extra))


@pytest.mark.parametrize(("provider", "model", "duration", "end_field", "audio_field", "inlines"), ROWS)
async def test_the_fake_receives_the_documented_body(fake, tmp_path, png, provider, model, duration, end_field,
                                                     audio_field, inlines):
    data_uri = "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode()
    ends = [END_URL, str(png), data_uri] if end_field else [None]
    base = {"image": IMAGE_URL, "prompt": "the cat turns to the window", "provider": provider, "model": model,
            "duration": duration}
    async with start(fake, tmp_path, provider) as client:
        results = [await client.call_tool("generate_video", {**base, **({"end_image": e} if e else {})})
                   for e in ends]
        results.append(await client.call_tool("generate_video", {**base, "sound": True}))
    for result in results:
        assert not result.is_error, text_of(result)
        assert result.structured_content["status"] == "completed"
        assert result.structured_content["duration"] == duration
    bodies = [r.json for r in fake.provider(provider).submits()]
    assert len(bodies) == len(results)
    for sent in bodies:
        assert sent["duration"] == duration and type(sent["duration"]) is int
        assert type(sent[audio_field]) is bool
    assert [sent[audio_field] for sent in bodies] == [False] * len(ends) + [True]
    if end_field:
        url, local, inline = (sent[end_field] for sent in bodies[:3])
        assert url == END_URL  # an https URL passes through
        if inlines:
            assert local == inline == data_uri
        else:  # WaveSpeed uploads: the end frame once from the file, once from the data URI
            uploads = fake.provider(provider).uploads()
            assert [u.file_bytes for u in uploads] == [png.read_bytes()] * 2
            assert local.startswith(fake.url) and inline.startswith(fake.url)
        assert end_field not in bodies[-1]


REFUSALS = [
    ("wavespeed", {"duration": 7}, "kling-v2.1-i2v-pro takes 5 or 10 seconds, got 7"),
    ("wavespeed", {"model": "kling-v3.0-std-i2v", "duration": 16},
     "kling-v3.0-std-i2v takes 3 to 15 seconds, got 16"),
    ("wavespeed", {"end_image": "LOCAL"}, "kling-v2.1-i2v-pro at wavespeed has no end frame: drop end_image"),
    ("myrouter", {"sound": True}, "kling-v2.1-i2v-pro at myrouter makes no sound: drop sound"),
    ("aimlapi", {"model": "kling-v2.6-pro-i2v", "end_image": "LOCAL"},
     "kling-v2.6-pro-i2v at aimlapi has no end frame"),
    ("aimlapi", {"model": "kling-v3.0-pro-i2v", "end_image": "LOCAL", "sound": True},
     "kling-v3.0-pro-i2v at aimlapi does not take end_image and sound together"),
    ("gptproto", {"model": "kling-v2.6-pro-i2v", "guidance_scale": 0.5},
     "kling-v2.6-pro-i2v at gptproto takes no guidance_scale"),
]


async def test_refusals_reach_no_provider(fake, tmp_path, png):
    providers = ("wavespeed", "gptproto", "aimlapi", "myrouter")
    async with start(fake, tmp_path, *providers) as client:
        for provider, arguments, sentence in REFUSALS:
            arguments = {k: str(png) if v == "LOCAL" else v for k, v in arguments.items()}
            result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat",
                                                               "provider": provider, **arguments})
            assert result.is_error, arguments
            assert text_of(result).startswith(sentence), text_of(result)
        tasks = await client.call_tool("list_tasks", {})
    assert tasks.structured_content["tasks"] == []
    assert all(fake.provider(name).requests == [] for name in providers)


async def test_a_pool_skips_a_reseller_that_forbids_the_combination(fake, tmp_path):
    """AI/ML API first in the order, but it refuses an end frame with audio: the call goes to WaveSpeed."""
    async with start(fake, tmp_path, "aimlapi", "wavespeed", VIDEOGEN_PROVIDER_ORDER="aimlapi,wavespeed") as client:
        result = await client.call_tool("generate_video", {
            "image": IMAGE_URL, "prompt": "a cat", "model": "kling-v3.0-pro-i2v", "duration": 12,
            "end_image": END_URL, "sound": True})
    assert not result.is_error, text_of(result)
    assert result.structured_content["provider"] == "wavespeed"
    assert fake.provider("aimlapi").requests == []
    sent = fake.provider("wavespeed").submits()[0].json
    assert (sent["end_image"], sent["sound"], sent["duration"]) == (END_URL, True, 12)


async def test_list_providers_shows_lengths_end_frame_sound_and_price(fake, tmp_path):
    async with start(fake, tmp_path, "aimlapi") as client:
        result = await client.call_tool("list_providers", {})
    providers = {p["name"]: p for p in result.structured_content["providers"]}
    models = {m["id"]: m for m in providers["aimlapi"]["models"]}
    v3 = models["kling-v3.0-std-i2v"]
    assert (v3["durations"], v3["end_image"], v3["sound"], v3["price_usd"]) == (list(range(3, 16)), True, True, None)
    assert v3["not_together"] == [["end_image", "sound"]]
    assert (models["kling-v2.6-pro-i2v"]["end_image"], models["kling-v2.6-pro-i2v"]["sound"]) == (False, True)
    assert (models["kling-v2.1-i2v-pro"]["end_image"], models["kling-v2.1-i2v-pro"]["sound"]) == (False, False)
    assert "kling-v2.6-pro-i2v" not in {m["id"] for m in providers["wavespeed"]["models"]}


def test_cli_renders_a_local_kling_3_clip_of_the_asked_length_ending_on_the_end_frame(fake, tmp_path, png):
    import av  # the dev extra installs it: never a reason to skip
    from PIL import Image

    end = tmp_path / "last.png"
    Image.new("RGB", (640, 360), (230, 200, 20)).save(end)
    env = server_env(fake, tmp_path / "data", ())
    base = ["generate", "--provider", "local", "--model", "kling-v3.0-std-i2v", "--image", str(png),
            "--prompt", "zoom in", "--duration", "3", "--end-image", str(end)]
    done = run_cli(base, env)
    refused = run_cli([*base, "--sound"], env)
    assert done.returncode == 0, done.stderr
    with av.open(done.stdout.strip()) as container:
        stream = container.streams.video[0]
        frames = [frame.to_image() for frame in container.decode(stream)]
    assert len(frames) == 3 * 24
    last = frames[-1].resize((1, 1)).getpixel((0, 0))
    assert all(abs(a - b) < 16 for a, b in zip(last, (230, 200, 20), strict=True))
    assert refused.returncode != 0 and refused.stdout == ""
    assert refused.stderr.startswith("videogen-mcp: kling-v3.0-std-i2v at local makes no sound: drop sound")
