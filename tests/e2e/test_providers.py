"""Every provider, by parametrization: completes from a URL and a local PNG, fails honestly, maps errors,
and speaks its exact wire format to its fake."""

from __future__ import annotations

import base64

import pytest

from tests.conftest import PROVIDERS, server_env, stdio_client
from tests.e2e.helpers import text_of
from tests.fakes import FakeError
from tests.support.waits import until

pytestmark = pytest.mark.anyio

IMAGE_URL = "https://images.example.com/cat.png"


def start(fake, tmp_path, provider, mode="legacy", **extra):
    env = server_env(fake, tmp_path / "data", (provider,), **extra)
    return stdio_client(env, mode)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_generation_completes_from_url_and_local_png(fake, tmp_path, png, provider):
    args = {"prompt": "the cat turns its head", "guidance_scale": 0.7, "negative_prompt": "blur"}
    async with start(fake, tmp_path, provider) as client:
        from_url = await client.call_tool("generate_video", {**args, "image": IMAGE_URL})
        from_file = await client.call_tool("generate_video", {**args, "image": str(png), "duration": 10})
    for result in (from_url, from_file):
        task = result.structured_content
        assert not result.is_error, text_of(result)
        assert (task["status"], task["provider"], task["progress"]) == ("completed", provider, 100)
        assert task["video_path"] and task["video_url"]
    assert from_file.structured_content["duration"] == 10


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_provider_failure_gives_failed_task_with_reason(fake, tmp_path, png, provider):
    fake.provider(provider).fail_next = "Could not detect face in the image"
    async with start(fake, tmp_path, provider) as client:
        result = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "smile"})
    assert not result.is_error
    assert result.structured_content["status"] == "failed"
    assert "Could not detect face in the image" in result.structured_content["error"]


async def test_aimlapi_detail_failure_shape_gives_the_reason(fake, tmp_path):
    fake.provider("aimlapi").fail_next = "Could not detect face in the image"
    fake.provider("aimlapi").fail_shape = "detail"
    async with start(fake, tmp_path, "aimlapi") as client:
        result = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "smile"})
    assert result.structured_content["error"] == "Could not detect face in the image"


ERROR_SENTENCES = [
    ([FakeError(401)], "rejected the API key (HTTP 401"),
    ([FakeError(403)], "out of credit (HTTP 403"),
    ([FakeError(400)], "refused the request (HTTP 400): "),
    ([FakeError(429, headers={"Retry-After": "0"})] * 3, "rate limiting requests (HTTP 429)"),
    ([FakeError(503)] * 3, "is unavailable (HTTP 503"),
    ([FakeError(500)], "failed while answering the submit request (HTTP 500); the job may still have been created"),
    ([FakeError(502, "<html><body>502 Bad Gateway</body></html>")], "(HTTP 502); the job may still have been created"),
    ([FakeError(200, "<html>maintenance</html>")], "not JSON; the job may still have been created"),
]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_provider_error_bodies_map_to_one_clear_sentence(fake, tmp_path, provider):
    async with start(fake, tmp_path, provider) as client:
        for errors, expected in ERROR_SENTENCES:
            fake.provider(provider).submit_errors = list(errors)
            result = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "smile"})
            assert result.is_error
            assert text_of(result).startswith(provider) and expected in text_of(result), text_of(result)
            if "HTTP 400" in expected:  # a refusal quotes the provider's own message
                own = fake.provider(provider).default_error_body(400)
                said = own.get("message") or own["error"]["message"]
                assert said in text_of(result)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_wrong_key_names_the_variable_and_never_echoes_the_key(fake, tmp_path, provider):
    secret = "sk-wrong-secret-123"
    async with start(fake, tmp_path, provider, **{f"{provider.upper()}_API_KEY": secret}) as client:
        result = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "smile"})
        listed = await client.call_tool("list_tasks", {})
    assert result.is_error
    assert f"{provider} rejected the API key" in text_of(result)
    assert f"check {provider.upper()}_API_KEY" in text_of(result)
    assert secret not in text_of(result) and secret not in text_of(listed)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_transient_poll_errors_do_not_lose_the_task(fake, tmp_path, provider):
    fake.provider(provider).poll_errors = [FakeError(503), FakeError(429, headers={"Retry-After": "0"})]
    fake.provider(provider).malformed_next_poll = True
    async with start(fake, tmp_path, provider) as client:
        result = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "smile"})
    assert result.structured_content["status"] == "completed"


# -- the exact wire, as each fake saw it -------------------------------------------------------

def _data_uri_of(path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


async def _generate(fake, tmp_path, provider, image, **extra):
    async with start(fake, tmp_path, provider) as client:
        result = await client.call_tool(
            "generate_video",
            {"image": image, "prompt": "wave", "guidance_scale": 0.6, "negative_prompt": "blur", **extra},
        )
    assert result.structured_content["status"] == "completed", text_of(result)
    return fake.provider(provider)


async def test_wavespeed_wire(fake, tmp_path, png):
    p = await _generate(fake, tmp_path, "wavespeed", str(png))
    upload, submit = p.uploads()[0], p.submits()[0]
    assert upload.path == "/api/v3/media/upload/binary"
    assert upload.file_bytes == png.read_bytes() and upload.file_content_type == "image/png"
    assert submit.headers["authorization"] == "Bearer test-key-wavespeed"
    assert submit.path == "/api/v3/kwaivgi/kling-v2.1-i2v-pro"
    assert submit.json == {"image": f"{fake.url}/files/uploads/1.png", "prompt": "wave", "duration": "5",
                           "guidance_scale": 0.6, "negative_prompt": "blur"}
    job = next(iter(p.jobs))
    assert {r.path for r in p.polls()} == {f"/api/v3/predictions/{job}/result"}


async def test_wavespeed_http_200_error_envelope_is_an_error(fake, tmp_path):
    fake.provider("wavespeed").variant = {"http200_error": True}
    async with start(fake, tmp_path, "wavespeed") as client:
        result = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "wave"})
    assert result.is_error
    assert "wavespeed refused the request (HTTP 400): Invalid request: prompt is required" in text_of(result)


async def test_gptproto_wire_and_variants(fake, tmp_path, png):
    fake.provider("gptproto").variant = {"error_null": True, "nsfw_null": True, "urls_array": True,
                                         "created_at_plain": True}
    p = await _generate(fake, tmp_path, "gptproto", str(png), model="kling-v2.5-turbo-pro-i2v")
    submit = p.submits()[0]
    assert submit.headers["authorization"] == "test-key-gptproto"
    assert submit.path == "/api/v3/kwaivgi/kling-v2.5-turbo-pro/image-to-video"
    assert submit.json["image"] == _data_uri_of(png)
    assert submit.json["duration"] == 5 and submit.json["guidance_scale"] == 0.6
    job = next(iter(p.jobs))
    assert {r.path for r in p.polls()} == {f"/api/v3/predictions/{job}/result"}


async def test_aimlapi_wire_with_colon_and_slash_ids(fake, tmp_path, png):
    fake.provider("aimlapi").variant = {"colon_ids": True}
    p = await _generate(fake, tmp_path, "aimlapi", str(png), duration=10)
    submit = p.submits()[0]
    assert submit.headers["authorization"] == "Bearer test-key-aimlapi"
    assert submit.path == "/v2/video/generations"
    assert submit.json == {"model": "kling-video/v2.1/pro/image-to-video", "image_url": _data_uri_of(png),
                           "prompt": "wave", "duration": 10, "cfg_scale": 0.6, "negative_prompt": "blur"}
    job = next(iter(p.jobs))
    assert ":" in job and "/" in job
    poll = p.polls()[0]
    assert poll.path == "/v2/video/generations" and poll.query == {"generation_id": job}


async def test_aimlapi_string_status_code_error_body(fake, tmp_path):
    fake.provider("aimlapi").variant = {"status_code_str": True}
    fake.provider("aimlapi").submit_errors = [FakeError(403)]
    async with start(fake, tmp_path, "aimlapi") as client:
        result = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "wave"})
    assert "aimlapi says the account is out of credit (HTTP 403: Insufficient credits)" in text_of(result)


@pytest.mark.parametrize(
    ("model", "path", "expected"),
    [
        ("kling-v2.1-i2v-pro", "/v3/async/kling-v2.1-i2v", {"mode": "Professional", "guidance_scale": 0.6}),
        ("kling-v2.1-i2v-standard", "/v3/async/kling-v2.1-i2v", {"mode": "Standard", "guidance_scale": 0.6}),
        ("kling-v2.1-i2v-master", "/v3/async/kling-v2.1-i2v-master", {"guidance_scale": 0.6}),
        ("kling-v2.5-turbo-pro-i2v", "/v3/async/kling-2.5-turbo-i2v", {"cfg_scale": 0.6}),
    ],
)
async def test_myrouter_wire(fake, tmp_path, png, model, path, expected):
    p = await _generate(fake, tmp_path, "myrouter", str(png), model=model)
    submit = p.submits()[0]
    assert submit.headers["authorization"] == "Bearer test-key-myrouter"
    assert submit.path == path
    assert submit.json == {"image": _data_uri_of(png), "prompt": "wave", "duration": "5",
                           "negative_prompt": "blur", **expected}
    job = next(iter(p.jobs))
    assert {(r.path, r.query["task_id"]) for r in p.polls()} == {("/v3/async/task-result", job)}


async def test_myrouter_progress_and_eta_come_from_the_provider(fake, tmp_path):
    fake.provider("myrouter").job_seconds = 8  # queued for its first 2.4 s, then processing
    seen: dict = {}
    async with start(fake, tmp_path, "myrouter") as client:
        made = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "wave", "wait_seconds": 0})

        async def out_of_the_queue() -> bool:
            result = await client.call_tool("get_task", {"task_id": made.structured_content["task_id"]})
            seen.update(result.structured_content)
            return seen["status"] != "queued"

        await until(out_of_the_queue, step=0.1, timeout=7)
    assert seen["status"] == "processing"
    # The provider's figures, not the server's own estimate (about 2% done and 200 s left at this age):
    assert 25 <= seen["progress"] < 100 and seen["eta_seconds"] <= 6


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_provider_own_model_id_is_accepted_and_unserved_model_lists_valid_ones(fake, tmp_path, provider):
    from videogen_mcp.catalog import offerings

    own = next(o.provider_model_id for o in offerings(provider) if o.model.id == "kling-v2.1-i2v-master")
    async with start(fake, tmp_path, provider) as client:
        ok = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "wave", "model": own})
        bad = await client.call_tool("generate_video", {"image": IMAGE_URL, "prompt": "wave", "model": "veo-3"})
    assert ok.structured_content["model"] == "kling-v2.1-i2v-master"
    assert bad.is_error and "kling-v2.1-i2v-pro" in text_of(bad) and "kling-v2.5-turbo-pro-i2v" in text_of(bad)
