"""Provider adapters: the exact wire requests they build and how they read every documented reply."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from tests.unit.conftest import image_bytes, offline_client
from videogen_mcp.catalog import resolve
from videogen_mcp.errors import KeyRejected, ProviderError, ProviderUnavailable, RequestRefused, UnexpectedReply
from videogen_mcp.images import check_image_bytes, load_image
from videogen_mcp.providers import ADAPTERS, AimlApi, PollResult, SubmitRequest
from videogen_mcp.providers.gptproto import GptProto
from videogen_mcp.providers.myrouter import MyRouter
from videogen_mcp.providers.wavespeed import WaveSpeed

KEY = "sk-test-key-123"
BASE = "http://h/prefix"
IMAGE = "https://cdn.example.com/cat.png"
PROVIDERS = ("wavespeed", "gptproto", "aimlapi", "myrouter")


def adapter(provider: str, client: httpx2.AsyncClient | None = None):
    return ADAPTERS[provider](KEY, BASE, client or offline_client())


def submit_req(provider: str, model: str, duration: int = 5, **extra: Any) -> SubmitRequest:
    return SubmitRequest(resolve(provider, model), "a cat walks", duration, **extra)


def body_of(request: httpx2.Request) -> Any:
    return json.loads(request.content)


# -- registry ------------------------------------------------------------------------------------


def test_registry_has_one_adapter_class_per_provider():
    registry = dict(ADAPTERS)
    assert registry == {"wavespeed": WaveSpeed, "gptproto": GptProto, "aimlapi": AimlApi, "myrouter": MyRouter}


@pytest.mark.parametrize(
    ("provider", "default"),
    [
        ("wavespeed", "https://api.wavespeed.ai"),
        ("gptproto", "https://gptproto.com"),
        ("aimlapi", "https://api.aimlapi.com"),
        ("myrouter", "https://api.myrouter.ai"),
    ],
)
def test_adapter_uses_public_base_url_when_none_is_configured(provider, default):
    assert ADAPTERS[provider](KEY, None, offline_client()).base_url == default


@pytest.mark.parametrize("provider", PROVIDERS)
def test_base_url_trailing_slash_is_dropped(provider):
    made = ADAPTERS[provider](KEY, "http://h/prefix/", offline_client())
    assert made.poll_request("x").url.path.startswith("/prefix/")
    assert "//" not in made.poll_request("x").url.path


@pytest.mark.parametrize("provider", PROVIDERS)
def test_adapter_repr_never_shows_the_key(provider):
    assert KEY not in repr(adapter(provider))


# -- submit requests -----------------------------------------------------------------------------

SUBMITS = [
    pytest.param(
        "wavespeed", "kling-v2.1-i2v-pro", 5, "/prefix/api/v3/kwaivgi/kling-v2.1-i2v-pro",
        {"image": IMAGE, "prompt": "a cat walks", "duration": "5", "negative_prompt": "blur",
         "guidance_scale": 0.5},
        id="wavespeed-pro-duration-string",
    ),
    pytest.param(
        "wavespeed", "kling-v2.5-turbo-pro-i2v", 10, "/prefix/api/v3/kwaivgi/kling-v2.5-turbo-pro/image-to-video",
        {"image": IMAGE, "prompt": "a cat walks", "duration": "10", "negative_prompt": "blur",
         "guidance_scale": 0.5},
        id="wavespeed-turbo",
    ),
    pytest.param(
        "gptproto", "kling-v2.1-i2v-pro", 5, "/prefix/api/v3/kwaivgi/kling-v2.1-i2v-pro",
        {"image": IMAGE, "prompt": "a cat walks", "duration": 5, "negative_prompt": "blur", "guidance_scale": 0.5},
        id="gptproto-pro-duration-int",
    ),
    pytest.param(
        "gptproto", "kling-v2.1-i2v-master", 10, "/prefix/api/v3/kwaivgi/kling-v2.1-i2v-master",
        {"image": IMAGE, "prompt": "a cat walks", "duration": 10, "negative_prompt": "blur", "guidance_scale": 0.5},
        id="gptproto-master",
    ),
    pytest.param(
        "aimlapi", "kling-v2.1-i2v-pro", 5, "/prefix/v2/video/generations",
        {"model": "kling-video/v2.1/pro/image-to-video", "image_url": IMAGE, "prompt": "a cat walks",
         "duration": 5, "negative_prompt": "blur", "cfg_scale": 0.5},
        id="aimlapi-pro-image_url-cfg_scale",
    ),
    pytest.param(
        "aimlapi", "kling-v2.5-turbo-pro-i2v", 10, "/prefix/v2/video/generations",
        {"model": "klingai/v2.5-turbo/pro/image-to-video", "image_url": IMAGE, "prompt": "a cat walks",
         "duration": 10, "negative_prompt": "blur", "cfg_scale": 0.5},
        id="aimlapi-turbo",
    ),
    pytest.param(
        "myrouter", "kling-v2.1-i2v-pro", 5, "/prefix/v3/async/kling-v2.1-i2v",
        {"image": IMAGE, "prompt": "a cat walks", "duration": "5", "mode": "Professional",
         "negative_prompt": "blur", "guidance_scale": 0.5},
        id="myrouter-pro-mode-professional",
    ),
    pytest.param(
        "myrouter", "kling-v2.1-i2v-standard", 10, "/prefix/v3/async/kling-v2.1-i2v",
        {"image": IMAGE, "prompt": "a cat walks", "duration": "10", "mode": "Standard",
         "negative_prompt": "blur", "guidance_scale": 0.5},
        id="myrouter-standard-mode-standard",
    ),
    pytest.param(
        "myrouter", "kling-v2.1-i2v-master", 5, "/prefix/v3/async/kling-v2.1-i2v-master",
        {"image": IMAGE, "prompt": "a cat walks", "duration": "5", "negative_prompt": "blur",
         "guidance_scale": 0.5},
        id="myrouter-master-no-mode",
    ),
    pytest.param(
        "myrouter", "kling-v2.5-turbo-pro-i2v", 5, "/prefix/v3/async/kling-2.5-turbo-i2v",
        {"image": IMAGE, "prompt": "a cat walks", "duration": "5", "negative_prompt": "blur", "cfg_scale": 0.5},
        id="myrouter-turbo-cfg_scale",
    ),
]


@pytest.mark.parametrize(("provider", "model", "duration", "path", "body"), SUBMITS)
def test_submit_request_is_the_documented_wire_request(provider, model, duration, path, body):
    req = submit_req(provider, model, duration, negative_prompt="blur", guidance_scale=0.5)
    request = adapter(provider).submit_request(req, IMAGE)
    assert request.method == "POST"
    assert (request.url.scheme, request.url.host, request.url.path) == ("http", "h", path)
    assert request.headers["content-type"] == "application/json"
    sent = body_of(request)
    assert sent == body
    assert type(sent["duration"]) is type(body["duration"])


@pytest.mark.parametrize(
    ("provider", "dropped"),
    [
        ("wavespeed", {"negative_prompt", "guidance_scale"}),
        ("gptproto", {"negative_prompt", "guidance_scale"}),
        ("aimlapi", {"negative_prompt", "cfg_scale"}),
        ("myrouter", {"negative_prompt", "guidance_scale", "cfg_scale"}),
    ],
)
def test_submit_request_leaves_out_optional_fields_not_given(provider, dropped):
    sent = body_of(adapter(provider).submit_request(submit_req(provider, "kling-v2.1-i2v-pro"), IMAGE))
    assert not dropped & sent.keys()
    assert sent["prompt"] == "a cat walks"


def test_submit_request_sends_guidance_zero_rather_than_dropping_it():
    sent = body_of(adapter("wavespeed").submit_request(submit_req("wavespeed", None, guidance_scale=0.0), IMAGE))
    assert sent["guidance_scale"] == 0.0


@pytest.mark.parametrize(
    ("provider", "authorization"),
    [
        ("wavespeed", f"Bearer {KEY}"),
        ("gptproto", KEY),
        ("aimlapi", f"Bearer {KEY}"),
        ("myrouter", f"Bearer {KEY}"),
    ],
)
def test_submit_and_poll_requests_carry_the_provider_auth_header_form(provider, authorization):
    made = adapter(provider)
    assert made.submit_request(submit_req(provider, None), IMAGE).headers["authorization"] == authorization
    assert made.poll_request("abc").headers["authorization"] == authorization


# -- poll requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "task_id", "path", "params"),
    [
        ("wavespeed", "pred_abc123", "/prefix/api/v3/predictions/pred_abc123/result", {}),
        ("gptproto", "4ec5973904e74f31", "/prefix/api/v3/predictions/4ec5973904e74f31/result", {}),
        ("aimlapi", "789392067490349060", "/prefix/v2/video/generations", {"generation_id": "789392067490349060"}),
        ("myrouter", "task-1", "/prefix/v3/async/task-result", {"task_id": "task-1"}),
    ],
)
def test_poll_request_is_the_documented_wire_request(provider, task_id, path, params):
    request = adapter(provider).poll_request(task_id)
    assert request.method == "GET"
    assert (request.url.host, request.url.path) == ("h", path)
    assert dict(request.url.params) == params
    assert not request.content


def test_aimlapi_poll_encodes_generation_id_with_colon_and_slash():
    task_id = "935ed026-7a1b:klingai/v2.5-turbo/pro/image-to-video"
    request = adapter("aimlapi").poll_request(task_id)
    assert request.url.path == "/prefix/v2/video/generations"
    assert request.url.query == b"generation_id=935ed026-7a1b%3Aklingai%2Fv2.5-turbo%2Fpro%2Fimage-to-video"
    assert request.url.params["generation_id"] == task_id


# -- submit replies ------------------------------------------------------------------------------

WAVESPEED_SUBMIT_REPLY = {
    "code": 200, "message": "success",
    "data": {"id": "pred_abc123", "model": "kwaivgi/kling-v2.1-i2v-pro", "outputs": [],
             "urls": {"get": "https://api.wavespeed.ai/api/v3/predictions/pred_abc123/result"},
             "has_nsfw_contents": [], "status": "created", "created_at": "2023-04-01T12:34:56.789Z",
             "error": "", "timings": {"inference": 0}},
}


@pytest.mark.parametrize(
    ("provider", "body", "task_id"),
    [
        ("wavespeed", WAVESPEED_SUBMIT_REPLY, "pred_abc123"),
        ("gptproto", WAVESPEED_SUBMIT_REPLY, "pred_abc123"),
        ("aimlapi", {"id": "789392067490349060", "status": "queued"}, "789392067490349060"),
        ("aimlapi", {"id": "789", "status": "queued", "meta": {"usage": {"credits_used": 1575000}}}, "789"),
        ("aimlapi", {"id": 789392067490349060, "status": "queued"}, "789392067490349060"),
        ("aimlapi", {"id": "935ed026:klingai/v2.5-turbo/pro/image-to-video", "status": "queued"},
         "935ed026:klingai/v2.5-turbo/pro/image-to-video"),
        ("myrouter", {"task_id": "a1b2c3"}, "a1b2c3"),
    ],
)
def test_parse_submit_returns_the_provider_task_id(provider, body, task_id):
    assert adapter(provider).parse_submit(body) == task_id


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("body", [{}, [], "ok", None, {"data": {}}, {"id": ""}, {"task_id": None}])
def test_parse_submit_without_a_task_id_is_an_unexpected_reply(provider, body):
    with pytest.raises(UnexpectedReply, match="unexpected reply"):
        adapter(provider).parse_submit(body)


# -- poll replies --------------------------------------------------------------------------------


def envelope(**data: Any) -> dict[str, Any]:
    return {"code": 200, "message": "success", "data": {"id": "pred_abc123", "outputs": [], "error": "", **data}}


GPTPROTO_COMPLETED = {
    "data": {"id": "4ec5973904e74f31bc9cd4ce94e3878e", "model": "kwaivgi/kling-v2.1-i2v-pro",
             "outputs": ["https://cdn.gptproto.com/x.mp4"],
             "urls": {"get": "https://gptproto.com/api/v3/predictions/4ec5/result"}, "status": "completed",
             "error": "", "executionTime": 380841, "timings": {"inference": 380841}, "has_nsfw_contents": None,
             "created_at": "2025-11-07T02:35:15.34950574Z"},
    "message": "success", "code": 200,
}
GPTPROTO_COMPLETED_VARIANT = {
    "data": {"id": "4ec5", "outputs": ["https://cdn.gptproto.com/y.mp4"],
             "urls": [{"get": "https://gptproto.com/api/v3/predictions/4ec5/result"}], "status": "completed",
             "error": None, "has_nsfw_contents": [], "created_at": "2026-01-01 00:00:00"},
    "message": "success", "code": 200,
}


def novita(status: str, videos: list | None = None, **task: Any) -> dict[str, Any]:
    return {"extra": {"seed": "", "debug_info": {}},
            "task": {"task_id": "t1", "status": status, "reason": "", "task_type": "KLING_V2.1_I2V", **task},
            "images": [], "videos": videos or [], "audios": []}


MP4 = "https://cdn.example.com/out.mp4"
POLLS = [
    # WaveSpeed
    pytest.param("wavespeed", envelope(status="created"), PollResult("queued", "created"), id="ws-created"),
    pytest.param("wavespeed", envelope(status="processing"), PollResult("processing", "processing"),
                 id="ws-processing"),
    pytest.param("wavespeed", envelope(status="completed", outputs=[MP4]),
                 PollResult("completed", "completed", video_url=MP4), id="ws-completed"),
    pytest.param("wavespeed", envelope(status="failed", error="NSFW content detected"),
                 PollResult("failed", "failed", error="NSFW content detected"), id="ws-failed-with-reason"),
    pytest.param("wavespeed", envelope(status="failed", error=""),
                 PollResult("failed", "failed", error="the provider gave no reason"), id="ws-failed-no-reason"),
    pytest.param("wavespeed", envelope(status="timeout"),
                 PollResult("failed", "timeout", error="the job ended with status 'timeout'"), id="ws-timeout"),
    pytest.param("wavespeed", envelope(status="cancelled"), PollResult("cancelled", "cancelled"),
                 id="ws-cancelled"),
    # GPTProto
    pytest.param("gptproto", GPTPROTO_COMPLETED, PollResult("completed", "completed",
                 video_url="https://cdn.gptproto.com/x.mp4"), id="gp-completed-nanosecond-created_at-nsfw-null"),
    pytest.param("gptproto", GPTPROTO_COMPLETED_VARIANT, PollResult("completed", "completed",
                 video_url="https://cdn.gptproto.com/y.mp4"), id="gp-completed-error-null-urls-array-plain-date"),
    pytest.param("gptproto", envelope(status="created", error=None, has_nsfw_contents=None),
                 PollResult("queued", "created"), id="gp-created-error-null"),
    pytest.param("gptproto", envelope(status="processing", urls=[{"get": "x"}], created_at="2026-01-01 00:00:00"),
                 PollResult("processing", "processing"), id="gp-processing"),
    pytest.param("gptproto", envelope(status="failed", error=None),
                 PollResult("failed", "failed", error="the provider gave no reason"), id="gp-failed-error-null"),
    pytest.param("gptproto", envelope(status="failed", error="content policy"),
                 PollResult("failed", "failed", error="content policy"), id="gp-failed-with-reason"),
    # AI/ML API
    pytest.param("aimlapi", {"id": "1", "status": "queued"}, PollResult("queued", "queued"), id="aiml-queued"),
    pytest.param("aimlapi", {"id": "1", "status": "generating"}, PollResult("processing", "generating"),
                 id="aiml-generating"),
    pytest.param("aimlapi", {"id": "1", "status": "completed", "video": {"url": MP4}},
                 PollResult("completed", "completed", video_url=MP4), id="aiml-completed"),
    pytest.param("aimlapi", {"id": "1", "status": "completed",
                             "video": {"url": MP4, "content_type": "video/mp4", "file_name": "o.mp4",
                                       "file_size": 123}},
                 PollResult("completed", "completed", video_url=MP4), id="aiml-completed-with-file-details"),
    pytest.param("aimlapi", {"id": "1", "status": "error", "error": {"name": "Error", "message": "quota hit"}},
                 PollResult("failed", "error", error="quota hit"), id="aiml-error-name-message"),
    pytest.param("aimlapi", {"id": "1", "status": "error",
                             "error": {"detail": [{"loc": ["body", "image_url"],
                                                   "msg": "Could not detect face in the image",
                                                   "type": "value_error"}]}},
                 PollResult("failed", "error", error="Could not detect face in the image"), id="aiml-error-detail"),
    pytest.param("aimlapi", {"id": "1", "status": "error"},
                 PollResult("failed", "error", error="the provider gave no reason"), id="aiml-error-no-reason"),
    # myrouter
    pytest.param("myrouter", novita("TASK_STATUS_QUEUED", eta=200, progress_percent=0),
                 PollResult("queued", "TASK_STATUS_QUEUED", progress=0, eta_seconds=200), id="mr-queued"),
    pytest.param("myrouter", novita("TASK_STATUS_PROCESSING", eta=42, progress_percent=35),
                 PollResult("processing", "TASK_STATUS_PROCESSING", progress=35, eta_seconds=42),
                 id="mr-processing-progress-eta"),
    pytest.param("myrouter", novita("TASK_STATUS_PROCESSING"),
                 PollResult("processing", "TASK_STATUS_PROCESSING"), id="mr-processing-no-progress"),
    pytest.param("myrouter", novita("TASK_STATUS_SUCCEED", progress_percent=100, eta=0,
                                    videos=[{"video_url": MP4, "video_url_ttl": "3600", "video_type": "mp4"}]),
                 PollResult("completed", "TASK_STATUS_SUCCEED", progress=100, video_url=MP4), id="mr-succeed"),
    pytest.param("myrouter", novita("TASK_STATUS_SUCCEED", progress_percent=100,
                                    videos=[{"video_url": MP4, "video_url_ttl": "0", "video_type": "mp4"}]),
                 PollResult("completed", "TASK_STATUS_SUCCEED", progress=100, video_url=MP4), id="mr-succeed-ttl-0"),
    pytest.param("myrouter", novita("TASK_STATUS_FAILED", reason="Could not detect face"),
                 PollResult("failed", "TASK_STATUS_FAILED", error="Could not detect face"), id="mr-failed"),
    pytest.param("myrouter", novita("TASK_STATUS_FAILED"),
                 PollResult("failed", "TASK_STATUS_FAILED", error="the provider gave no reason"),
                 id="mr-failed-no-reason"),
    pytest.param("myrouter", novita("TASK_STATUS_CANCELED"), PollResult("cancelled", "TASK_STATUS_CANCELED"),
                 id="mr-canceled"),
]


@pytest.mark.parametrize(("provider", "body", "expected"), POLLS)
def test_parse_poll_reads_every_documented_status_and_variant(provider, body, expected):
    assert adapter(provider).parse_poll(body) == expected


@pytest.mark.parametrize(
    ("provider", "body", "raw"),
    [
        ("wavespeed", envelope(status="paused", outputs=[MP4]), "paused"),
        ("gptproto", envelope(status="moderating", outputs=[MP4]), "moderating"),
        ("aimlapi", {"id": "1", "status": "finalizing", "video": {"url": MP4}}, "finalizing"),
        ("myrouter", novita("TASK_STATUS_PAUSED", videos=[{"video_url": MP4}]), "TASK_STATUS_PAUSED"),
    ],
)
def test_unknown_status_is_none_with_raw_status_and_never_a_video(provider, body, raw):
    result = adapter(provider).parse_poll(body)
    assert result.status is None
    assert result.raw_status == raw
    assert result.video_url is None


MALFORMED = [
    pytest.param(provider, body, id=f"{provider}-{label}")
    for provider, label, body in [
        ("wavespeed", "list", []),
        ("wavespeed", "string", "<html>oops</html>"),
        ("wavespeed", "no-data", {"code": 200, "message": "success"}),
        ("wavespeed", "data-not-object", {"code": 200, "data": "x"}),
        ("wavespeed", "completed-without-outputs", envelope(status="completed")),
        ("wavespeed", "completed-output-not-string", envelope(status="completed", outputs=[{"url": MP4}])),
        ("gptproto", "completed-outputs-null", envelope(status="completed", outputs=None)),
        ("aimlapi", "list", [{"status": "completed"}]),
        ("aimlapi", "null", None),
        ("aimlapi", "completed-without-video", {"id": "1", "status": "completed"}),
        ("aimlapi", "completed-url-not-string", {"id": "1", "status": "completed", "video": {"url": None}}),
        ("myrouter", "no-task", {"videos": []}),
        ("myrouter", "task-not-object", {"task": "TASK_STATUS_SUCCEED"}),
        ("myrouter", "list", []),
        ("myrouter", "succeed-without-videos", novita("TASK_STATUS_SUCCEED")),
        ("myrouter", "succeed-video-without-url", novita("TASK_STATUS_SUCCEED", videos=[{"video_type": "mp4"}])),
    ]
]


@pytest.mark.parametrize(("provider", "body"), MALFORMED)
def test_malformed_poll_reply_is_an_unexpected_reply(provider, body):
    with pytest.raises(UnexpectedReply, match=rf"^{provider} sent an unexpected reply: .+$"):
        adapter(provider).parse_poll(body)


# -- WaveSpeed / GPTProto envelope errors on HTTP 200 ------------------------------------------------


@pytest.mark.parametrize("provider", ["wavespeed", "gptproto"])
@pytest.mark.parametrize(
    ("body", "error", "words"),
    [
        ({"code": 400, "message": "prompt is too long", "data": None}, RequestRefused, "prompt is too long"),
        ({"code": "400", "message": "bad image"}, RequestRefused, "HTTP 400): bad image"),
        ({"code": 401, "message": "Unauthorized"}, KeyRejected, "API_KEY"),
        ({"code": 500, "message": "internal"}, ProviderUnavailable, "unavailable"),
        ({"code": "oops", "message": "weird"}, RequestRefused, "weird"),
    ],
)
@pytest.mark.parametrize("parse", ["parse_poll", "parse_submit"])
def test_envelope_with_non_200_code_on_http_200_is_an_error(provider, body, error, words, parse):
    with pytest.raises(error) as caught:
        getattr(adapter(provider), parse)(body)
    assert words in str(caught.value)
    assert provider in str(caught.value)


def test_wavespeed_envelope_code_400_names_the_provider_message():
    with pytest.raises(RequestRefused, match=r"^wavespeed refused the request \(HTTP 400\): prompt is too long$"):
        adapter("wavespeed").parse_poll({"code": 400, "message": "prompt is too long", "data": None})


@pytest.mark.parametrize("code", [200, "200"])
def test_envelope_code_200_as_int_or_string_is_success(code):
    body = {**envelope(status="created"), "code": code}
    assert adapter("wavespeed").parse_poll(body).status == "queued"


# -- error bodies --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "body", "text"),
    [
        ("wavespeed", {"code": 401, "message": "Unauthorized: invalid API key"}, "Unauthorized: invalid API key"),
        ("wavespeed", {"code": 400, "message": "invalid duration", "error_code": 1001}, "invalid duration"),
        ("wavespeed", {"error": "image is required"}, "image is required"),
        ("wavespeed", {"code": 500, "message": ""}, None),
        ("wavespeed", ["not", "an", "object"], None),
        ("wavespeed", "plain text", None),
        ("gptproto", {"error": {"message": "Invalid signature", "type": "401"}}, "Invalid signature"),
        ("gptproto", {"error": {"message": "Rate limit exceeded", "type": "rate_limit_error",
                                "code": "rate_limit_exceeded"}}, "Rate limit exceeded"),
        ("gptproto", {"code": 403, "message": "Insufficient balance"}, "Insufficient balance"),
        ("aimlapi", {"message": "Unauthorized", "path": "/v2/video/generations", "requestId": "u-1",
                     "statusCode": 401, "timestamp": "2026-01-01T00:00:00Z"}, "Unauthorized"),
        ("aimlapi", {"message": "Too many requests", "statusCode": "429"}, "Too many requests"),
        ("aimlapi", {"message": ["duration must be 5 or 10", "prompt is required"], "statusCode": 400},
         "duration must be 5 or 10; prompt is required"),
        ("aimlapi", {"statusCode": 500}, None),
        ("myrouter", {"code": 403, "reason": "INVALID_API_KEY", "message": "invalid api-key", "metadata": {}},
         "INVALID_API_KEY invalid api-key"),
        ("myrouter", {"code": 403, "reason": "NOT_ENOUGH_BALANCE", "message": "not enough balance"},
         "NOT_ENOUGH_BALANCE not enough balance"),
        ("myrouter", {"code": 429, "reason": "RATE_LIMIT_EXCEEDED"}, "RATE_LIMIT_EXCEEDED"),
        ("myrouter", {}, None),
    ],
)
def test_error_text_reads_each_provider_error_body(provider, body, text):
    assert adapter(provider).error_text(body) == text


@pytest.mark.parametrize("provider", PROVIDERS)
def test_error_text_is_cut_to_300_characters(provider):
    long = "x" * 1000
    body = {"message": long, "reason": "R"} if provider == "myrouter" else {"message": long}
    assert len(adapter(provider).error_text(body)) == 300


# -- through the shared HTTP layer (MockTransport) ------------------------------------------------

SUBMIT_REPLIES = {
    "wavespeed": WAVESPEED_SUBMIT_REPLY,
    "gptproto": WAVESPEED_SUBMIT_REPLY,
    "aimlapi": {"id": "pred_abc123", "status": "queued"},
    "myrouter": {"task_id": "pred_abc123"},
}
COMPLETED_REPLIES = {
    "wavespeed": envelope(status="completed", outputs=[MP4]),
    "gptproto": GPTPROTO_COMPLETED_VARIANT | {"data": {**GPTPROTO_COMPLETED_VARIANT["data"], "outputs": [MP4]}},
    "aimlapi": {"id": "pred_abc123", "status": "completed", "video": {"url": MP4}},
    "myrouter": novita("TASK_STATUS_SUCCEED", progress_percent=100, videos=[{"video_url": MP4}]),
}


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_submit_then_poll_round_trip_through_the_http_layer(provider):
    seen: list[httpx2.Request] = []

    def reply(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        body = SUBMIT_REPLIES[provider] if request.method == "POST" else COMPLETED_REPLIES[provider]
        return httpx2.Response(200, json=body)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(reply)) as client:
        made = adapter(provider, client)
        task_id = await made.submit(submit_req(provider, None), load_image(IMAGE))
        result = await made.poll(task_id)
    assert task_id == "pred_abc123"
    assert (result.status, result.video_url) == ("completed", MP4)
    assert [r.method for r in seen] == ["POST", "GET"]
    assert all(r.url.path.startswith("/prefix/") for r in seen)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fmt", "mime", "name"), [("PNG", "image/png", "image.png"), ("JPEG", "image/jpeg", "image.jpg")]
)
async def test_wavespeed_uploads_local_image_with_its_real_type_then_submits_the_download_url(fmt, mime, name):
    image = check_image_bytes(image_bytes(fmt=fmt), "test")
    seen: list[httpx2.Request] = []

    def reply(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.path.endswith("/media/upload/binary"):
            return httpx2.Response(200, json={"code": 200, "message": "success", "data": {
                "type": "image", "download_url": "https://cdn.wavespeed.ai/up.png", "filename": name, "size": 1}})
        return httpx2.Response(200, json=WAVESPEED_SUBMIT_REPLY)

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(reply)) as client:
        task_id = await adapter("wavespeed", client).submit(submit_req("wavespeed", None), image)
    upload, submit = seen
    assert task_id == "pred_abc123"
    assert (upload.method, upload.url.path) == ("POST", "/prefix/api/v3/media/upload/binary")
    assert upload.headers["authorization"] == f"Bearer {KEY}"
    assert upload.headers["content-type"].startswith("multipart/form-data")
    content = upload.read()
    assert f'name="file"; filename="{name}"'.encode() in content
    assert f"Content-Type: {mime}".encode() in content
    assert image.data in content
    assert body_of(submit)["image"] == "https://cdn.wavespeed.ai/up.png"


@pytest.mark.anyio
async def test_wavespeed_upload_reply_without_download_url_is_an_unexpected_reply():
    image = check_image_bytes(image_bytes(), "test")

    def reply(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json={"code": 200, "message": "success", "data": {"type": "image"}})

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(reply)) as client:
        with pytest.raises(UnexpectedReply, match="download_url"):
            await adapter("wavespeed", client).image_reference(image)


@pytest.mark.anyio
@pytest.mark.parametrize(("provider", "field"), [("gptproto", "image"), ("aimlapi", "image_url"),
                                                 ("myrouter", "image")])
@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("JPEG", "image/jpeg")])
async def test_local_image_is_sent_as_a_data_uri_labelled_with_its_real_type(provider, field, fmt, mime):
    image = check_image_bytes(image_bytes(fmt=fmt), "test")
    made = adapter(provider)
    reference = await made.image_reference(image)
    sent = body_of(made.submit_request(submit_req(provider, None), reference))
    assert sent[field] == image.data_uri()
    assert sent[field].startswith(f"data:{mime};base64,")


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_url_image_is_passed_through_untouched(provider):
    url = "https://cdn.example.com/a%20cat.png?sig=abc&x=1"
    assert await adapter(provider).image_reference(load_image(url)) == url


@pytest.mark.anyio
@pytest.mark.parametrize("provider", PROVIDERS)
async def test_http_error_reply_reaches_the_caller_as_a_provider_error(provider):
    def reply(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(400, json={"code": 400, "reason": "INVALID_REQUEST_BODY", "message": "bad prompt"})

    async with httpx2.AsyncClient(transport=httpx2.MockTransport(reply)) as client:
        with pytest.raises(ProviderError) as caught:
            await adapter(provider, client).submit(submit_req(provider, None), load_image(IMAGE))
    assert isinstance(caught.value, RequestRefused)
    assert "bad prompt" in str(caught.value)
