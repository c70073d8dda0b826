"""Sanity tests of the fake providers, through each provider's own wire format."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import httpx2
import pytest

from tests.fakes import FakeError, FakeServer

IMAGE = "https://example.com/cat.png"


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx2.Client]:
    with httpx2.Client(timeout=5) as c:
        yield c


def auth(fake: FakeServer, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key(name)}"}


def poll_until(get: Callable[[], dict], done: Callable[[dict], bool], seconds: float = 3) -> list[dict]:
    seen = [get()]
    deadline = time.monotonic() + seconds
    while not done(seen[-1]) and time.monotonic() < deadline:
        time.sleep(0.03)
        seen.append(get())
    assert done(seen[-1]), seen[-1]
    return seen


def ws_submit(fake, client, name="wavespeed", body=None, headers=None) -> httpx2.Response:
    url = f"{fake.base_url(name)}/api/v3/kwaivgi/kling-v2.1-i2v-pro"
    body = body if body is not None else {"prompt": "a cat", "image": IMAGE, "duration": "5"}
    return client.post(url, json=body, headers=headers or auth(fake, name))


def test_wavespeed_job_completes_and_video_downloads(fake, client):
    r = ws_submit(fake, client)
    assert r.status_code == 200
    data = r.json()["data"]
    assert data["status"] == "created" and data["outputs"] == []
    get = data["urls"]["get"]
    assert get == f"{fake.base_url('wavespeed')}/api/v3/predictions/{data['id']}/result"
    seen = poll_until(
        lambda: client.get(get, headers=auth(fake, "wavespeed")).json()["data"],
        lambda d: d["status"] == "completed",
    )
    assert {"created", "processing"} & {d["status"] for d in seen[:-1]}
    video = client.get(seen[-1]["outputs"][0])
    assert video.headers["content-type"] == "video/mp4"
    assert video.content == fake.file_bytes(data["id"]) and video.content.startswith(
        b"\x00\x00\x00\x18ftypmp42"
    )
    assert "authorization" not in fake.downloads[0].headers
    p = fake.provider("wavespeed")
    assert len(p.submits()) == 1 and p.polls() and p.jobs[data["id"]].body["prompt"] == "a cat"


def test_wavespeed_validation_and_variant(fake, client):
    assert ws_submit(fake, client, body={"prompt": "x", "image": IMAGE, "duration": 7}).status_code == 400
    assert ws_submit(fake, client, body={"prompt": "x"}).json() == {
        "code": 400,
        "message": "Invalid request: image is required",
    }
    assert ws_submit(fake, client, body={"prompt": "x", "image": IMAGE, "duration": 10}).status_code == 200
    bad_model = client.post(
        f"{fake.base_url('wavespeed')}/api/v3/kwaivgi/nope", json={}, headers=auth(fake, "wavespeed")
    )
    assert bad_model.status_code == 404 and bad_model.json()["code"] == 404
    fake.provider("wavespeed").variant = {"http200_error": True}
    r = ws_submit(fake, client)
    assert r.status_code == 200 and r.json()["code"] == 400
    assert ws_submit(fake, client).json()["code"] == 200


def test_wavespeed_upload(fake, client):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    url = f"{fake.base_url('wavespeed')}/api/v3/media/upload/binary"
    r = client.post(url, files={"file": ("cat.png", png, "image/png")}, headers=auth(fake, "wavespeed"))
    data = r.json()["data"]
    assert r.status_code == 200 and data["type"] == "image" and data["size"] == len(png)
    rec = fake.provider("wavespeed").uploads()[0]
    assert (rec.file_bytes, rec.file_name, rec.file_content_type) == (png, "cat.png", "image/png")
    assert client.get(data["download_url"]).content == png
    gpt = f"{fake.base_url('gptproto')}/api/v3/media/upload/binary"
    assert client.post(gpt, files={"file": ("a.png", png)}, headers=auth(fake, "gptproto")).status_code == 404


def test_gptproto_raw_key_and_variants(fake, client):
    p = fake.provider("gptproto")
    p.variant = {"error_null": True, "nsfw_null": True, "urls_array": True, "created_at_plain": True}
    key = {"Authorization": fake.api_key("gptproto")}
    r = ws_submit(fake, client, "gptproto", {"prompt": "x", "image": IMAGE, "duration": 5}, key)
    job_id = r.json()["data"]["id"]
    url = f"{fake.base_url('gptproto')}/api/v3/predictions/{job_id}/result"
    seen = poll_until(
        lambda: client.get(url, headers=key).json()["data"], lambda d: d["status"] == "completed"
    )
    last = seen[-1]
    assert last["error"] is None and last["has_nsfw_contents"] is None and isinstance(last["urls"], list)
    assert last["created_at"] == last["created_at"][:10] + " " + last["created_at"][11:19]
    assert "executionTime" in last and last["outputs"][0].endswith(".mp4")
    denied = ws_submit(fake, client, "gptproto", headers={"Authorization": "wrong"})
    assert denied.status_code == 401
    assert denied.json() == {"error": {"message": "Invalid signature", "type": "401"}}


def aiml_submit(fake, client, body, path="/v2/video/generations") -> httpx2.Response:
    return client.post(fake.base_url("aimlapi") + path, json=body, headers=auth(fake, "aimlapi"))


@pytest.mark.parametrize("path", ["/v2/video/generations", "/v2/generate/video/kling/generation"])
def test_aimlapi_job_completes(fake, client, path):
    fake.provider("aimlapi").variant = {"colon_ids": True}
    body = {
        "model": "klingai/v2.5-turbo/pro/image-to-video",
        "image_url": IMAGE,
        "prompt": "x",
        "duration": 5,
    }
    r = aiml_submit(fake, client, body, path)
    assert r.status_code == 201 and r.json()["status"] == "queued" and ":" in r.json()["id"]
    job_id = r.json()["id"]

    def get() -> dict:
        params = {"generation_id": job_id}
        return client.get(
            fake.base_url("aimlapi") + path, params=params, headers=auth(fake, "aimlapi")
        ).json()

    last = poll_until(get, lambda d: d["status"] == "completed")[-1]
    assert last["video"]["content_type"] == "video/mp4"
    assert client.get(last["video"]["url"]).content == fake.file_bytes(job_id)


def test_aimlapi_validation_failure_shapes(fake, client):
    p = fake.provider("aimlapi")
    body = {"model": "kling-video/v2.1/pro/image-to-video", "image_url": IMAGE, "duration": "5"}
    r = aiml_submit(fake, client, body)
    assert (
        r.status_code == 400 and r.json()["statusCode"] == 400 and r.json()["path"] == "/v2/video/generations"
    )
    assert aiml_submit(fake, client, {**body, "duration": 5, "model": "x"}).status_code == 400
    p.fail_next, p.fail_shape, p.job_seconds = "Could not detect face in the image", "detail", 0.05
    job_id = aiml_submit(fake, client, {**body, "duration": 10}).json()["id"]
    time.sleep(0.1)
    url = f"{fake.base_url('aimlapi')}/v2/video/generations"
    reply = client.get(url, params={"generation_id": job_id}, headers=auth(fake, "aimlapi")).json()
    assert reply["status"] == "error"
    assert reply["error"]["detail"][0]["msg"] == "Could not detect face in the image"
    p.variant = {"status_code_str": True}
    denied = client.get(url, params={"generation_id": job_id})
    assert denied.status_code == 401 and denied.json()["statusCode"] == "401"


def router_submit(fake, client, model, body, headers=None) -> httpx2.Response:
    url = f"{fake.base_url('myrouter')}/v3/async/{model}"
    return client.post(url, json=body, headers=headers or auth(fake, "myrouter"))


def test_myrouter_progress_and_success(fake, client):
    body = {"image": IMAGE, "prompt": "x", "mode": "Professional", "duration": "5"}
    task_id = router_submit(fake, client, "kling-v2.1-i2v", body).json()["task_id"]
    url = f"{fake.base_url('myrouter')}/v3/async/task-result"

    def get() -> dict:
        return client.get(url, params={"task_id": task_id}, headers=auth(fake, "myrouter")).json()

    seen = poll_until(get, lambda d: d["task"]["status"] == "TASK_STATUS_SUCCEED")
    progress = [d["task"]["progress_percent"] for d in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert seen[-1]["videos"][0]["video_url_ttl"] == "3600"
    assert client.get(seen[-1]["videos"][0]["video_url"]).status_code == 200


def test_myrouter_validation_and_auth(fake, client):
    body = {"image": IMAGE, "prompt": "x", "duration": 5}
    r = router_submit(fake, client, "kling-v2.1-i2v", body)
    assert r.status_code == 400 and r.json()["reason"] == "INVALID_REQUEST_BODY"
    assert (
        router_submit(fake, client, "kling-9", {**body, "duration": "5"}).json()["reason"]
        == "MODEL_NOT_FOUND"
    )
    ok = router_submit(fake, client, "kling-2.5-turbo-i2v", {**body, "duration": "10", "cfg_scale": 0.5})
    assert ok.status_code == 200 and ok.json()["task_id"]
    wrong = router_submit(fake, client, "kling-v2.1-i2v", body, {"Authorization": "Bearer nope"})
    assert wrong.status_code == 403 and wrong.json()["reason"] == "INVALID_API_KEY"
    missing = client.post(f"{fake.base_url('myrouter')}/v3/async/kling-v2.1-i2v", json=body)
    assert missing.status_code == 401 and missing.json()["reason"] == "FAILED_TO_AUTH"
    assert fake.provider("myrouter").default_error_body(403)["reason"] == "NOT_ENOUGH_BALANCE"


def test_error_queues_and_switches(fake, client):
    p = fake.provider("wavespeed")
    p.submit_errors = [
        FakeError(429, headers={"Retry-After": "2"}),
        FakeError(502, "<html>Bad Gateway</html>"),
    ]
    r = ws_submit(fake, client)
    assert (
        r.status_code == 429
        and r.headers["retry-after"] == "2"
        and r.json()["message"] == "Too many requests"
    )
    r = ws_submit(fake, client)
    assert r.status_code == 502 and r.headers["content-type"] == "text/html"
    data = ws_submit(fake, client).json()["data"]
    p.poll_errors = [FakeError(503)]
    p.malformed_next_poll = True
    p.unknown_status = "weird"
    headers = auth(fake, "wavespeed")
    assert client.get(data["urls"]["get"], headers=headers).status_code == 503
    assert client.get(data["urls"]["get"], headers=headers).content == b"not json{"
    assert client.get(data["urls"]["get"], headers=headers).json()["data"]["status"] == "weird"
    assert len(p.submits()) == 3 and len(p.polls()) == 3 and not p.poll_errors


def test_fail_next_and_download_errors(fake, client):
    p = fake.provider("wavespeed")
    p.fail_next, p.job_seconds = "content policy", 0.05
    data = ws_submit(fake, client).json()["data"]
    assert p.fail_next is None
    time.sleep(0.1)
    failed = client.get(data["urls"]["get"], headers=auth(fake, "wavespeed")).json()["data"]
    assert (failed["status"], failed["error"], failed["outputs"]) == ("failed", "content policy", [])
    ok = ws_submit(fake, client).json()["data"]
    fake.download_errors = [FakeError(403)]
    video = f"{fake.url}/files/{ok['id']}.mp4"
    assert client.get(video).status_code == 403
    assert client.get(video).status_code == 200
    assert client.get(f"{fake.url}/files/nope.mp4").status_code == 404
    assert not fake.bugs
