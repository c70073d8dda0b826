"""WaveSpeedAI and GPTProto: same routes and envelope, different errors and auth."""

from __future__ import annotations

import re
from typing import Any, ClassVar

from .base import (
    DEFAULT_MESSAGES,
    BodySchema,
    FakeJob,
    FakeProvider,
    Recorded,
    Reply,
    int_in,
    is_bool,
    is_scale,
    is_text,
    is_url_or_data,
    iso_ms,
    json_reply,
    new_id,
    scale_problem,
    text_problem,
)

KLING_MODELS = {
    "kwaivgi/kling-v2.1-i2v-pro",
    "kwaivgi/kling-v2.1-i2v-standard",
    "kwaivgi/kling-v2.1-i2v-master",
    "kwaivgi/kling-v2.5-turbo-pro/image-to-video",
    "kwaivgi/kling-v2.5-turbo-std/image-to-video",
}
#: WaveSpeed's Kling 3.0 pages: integer duration 3-15, cfg_scale, end_image, sound (API.md, after v2.5).
V3 = BodySchema(
    {"image": is_url_or_data, "prompt": is_text, "negative_prompt": is_text, "duration": int_in(*range(3, 16)),
     "cfg_scale": is_scale, "end_image": is_url_or_data, "sound": is_bool},
    required=("image",),
)
WAVESPEED_AFTER_V25 = {
    "kwaivgi/kling-v3.0-std/image-to-video": V3,
    "kwaivgi/kling-v3.0-pro/image-to-video": V3,
}
#: GPTProto's Kling 2.6 pro: 5 or 10 s (an integer, or the string as its older pages send), last_image, sound,
#: no guidance.
GPTPROTO_AFTER_V25 = {
    "kwaivgi/kling-v2.6-pro/image-to-video": BodySchema(
        {"image": is_url_or_data, "prompt": is_text, "negative_prompt": is_text,
         "duration": lambda v: int_in(5, 10)(v) or v in ("5", "10"), "last_image": is_url_or_data, "sound": is_bool},
        required=("image",),
    ),
}
UPLOAD = ("POST", r"/api/v3/media/upload/binary", "upload", "upload")
POLL = ("GET", r"/api/v3/predictions/(?P<id>[^/]+)(?:/result)?", "poll", "poll")
SUBMIT = ("POST", r"/api/v3/(?P<model>.+)", "submit", "submit")
#: WaveSpeed's documented cancel; the job may still finish (as the docs warn), so the fake lets it run on.
CANCEL = ("DELETE", r"/api/v3/predictions/(?P<id>[^/]+)", "cancel", "cancel")
WAVESPEED_MESSAGES = {
    401: "Unauthorized: invalid API key",
    402: "Insufficient balance",
    403: "Insufficient balance",
}


def body_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Invalid request: body must be a JSON object"
    if not isinstance(body.get("image"), str) or not body["image"]:
        return "Invalid request: image is required"
    duration = body.get("duration", 5)
    if isinstance(duration, bool) or duration not in (5, 10, "5", "10"):
        return "Invalid request: duration must be one of 5, 10"
    return text_problem(body) or scale_problem(body, "guidance_scale")


class WaveSpeedProvider(FakeProvider):
    name = "wavespeed"
    routes = (UPLOAD, POLL, SUBMIT, CANCEL)
    #: Answer the next cancel with an error instead of confirming it.
    refuse_cancel = False
    #: The models after v2.5 this provider sells, each with its strict body.
    after_v25: ClassVar[dict[str, BodySchema]] = WAVESPEED_AFTER_V25
    statuses: ClassVar[dict[str, str]] = {
        "queued": "created",
        "processing": "processing",
        "completed": "completed",
        "failed": "failed",
    }

    def error_body(self, status: int, message: str | None = None, path: str = "/") -> dict:
        default = WAVESPEED_MESSAGES.get(status) or DEFAULT_MESSAGES.get(status, "Error")
        return {"code": status, "message": message or default}

    def envelope(self, data: dict) -> dict:
        return {"code": 200, "message": "success", "data": data}

    def data(self, job: FakeJob, status: str, poll: bool) -> dict:
        phase = job.phase() if poll else "queued"
        done = phase == "completed"
        return {
            "id": job.id,
            "model": job.model,
            "outputs": [self.video_url(job)] if done else [],
            "urls": {"get": f"{self.base_url}/api/v3/predictions/{job.id}/result"},
            "has_nsfw_contents": [False] if done else [],
            "status": status,
            "created_at": iso_ms(job.created_at),
            "error": job.fail_reason if phase == "failed" else "",
            "timings": {"inference": int(job.seconds * 1000) if done else 0},
        }

    def submit(self, req: Recorded, found: re.Match) -> Reply:
        model = found["model"]
        if self.take_variant("http200_error"):
            return json_reply(200, {"code": 400, "message": "Invalid request: prompt is required"})
        if model not in KLING_MODELS and model not in self.after_v25:
            return self.error(404, f"Model not found: {model}", req.path)
        schema = self.after_v25.get(model)
        problem = schema.problem(req.json) if schema else body_problem(req.json)
        if problem:
            return self.error(400, problem, req.path)
        job = self.new_job(self.next_job_id(new_id()), model, req.json)
        return json_reply(200, self.envelope(self.data(job, "created", poll=False)))

    def poll(self, req: Recorded, found: re.Match) -> Reply:
        job = self.jobs.get(found["id"])
        if job is None:
            return self.error(404, f"Prediction not found: {found['id']}", req.path)
        self.count_poll(job)
        return json_reply(200, self.envelope(self.data(job, self.status_of(job), poll=True)))

    def cancel(self, req: Recorded, found: re.Match) -> Reply:
        job = self.jobs.get(found["id"])
        if job is None:
            return self.error(404, f"Prediction not found: {found['id']}", req.path)
        if self.take("refuse_cancel"):
            return self.error(400, "Prediction cannot be cancelled", req.path)
        return json_reply(200, self.envelope({"id": job.id, "status": "deleted"}))

    def upload(self, req: Recorded, found: re.Match) -> Reply:
        if req.file_bytes is None:
            return self.error(400, "Invalid request: file is required", req.path)
        url = self.hub.add_upload(req.file_bytes, req.file_name, req.file_content_type)
        data = {
            "type": "image",
            "download_url": url,
            "filename": req.file_name or "image.png",
            "size": len(req.file_bytes),
        }
        return json_reply(200, self.envelope(data))


class GPTProtoProvider(WaveSpeedProvider):
    name = "gptproto"
    routes = (("POST", UPLOAD[1], "upload", "no_upload"), POLL, SUBMIT)
    after_v25: ClassVar[dict[str, BodySchema]] = GPTPROTO_AFTER_V25

    def error_body(self, status: int, message: str | None = None, path: str = "/") -> dict:
        if status == 401:
            return {"error": {"message": message or "Invalid signature", "type": "401"}}
        if status == 429:
            return {
                "error": {
                    "message": message or "Rate limit exceeded",
                    "type": "rate_limit_error",
                    "code": "rate_limit_exceeded",
                }
            }
        if status in (402, 403):
            return {"error": {"message": message or "Insufficient balance", "type": str(status)}}
        if status >= 500:
            return {"error": {"message": message or "Upstream service unavailable", "type": "server_error"}}
        return {"error": {"message": message or DEFAULT_MESSAGES.get(status, "Error"), "type": str(status)}}

    def auth_problem(self, req: Recorded) -> Reply | None:
        if req.headers.get("authorization") in (self.key, f"Bearer {self.key}"):
            return None
        return self.error(401, path=req.path)

    def envelope(self, data: dict) -> dict:
        return {"data": data, "message": "success", "code": 200}

    def data(self, job: FakeJob, status: str, poll: bool) -> dict:
        data = super().data(job, status, poll)
        at = job.created_at
        data["created_at"] = at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond:06d}417Z"
        data["executionTime"] = data["timings"]["inference"]
        if poll:
            self.apply_variants(data)
        return data

    def apply_variants(self, data: dict) -> None:
        variant = dict(self.variant)
        if variant.get("error_null") and not data["error"]:
            data["error"] = None
        if variant.get("nsfw_null"):
            data["has_nsfw_contents"] = None
        if variant.get("urls_array"):
            data["urls"] = [data["urls"]]
        if variant.get("created_at_plain"):
            data["created_at"] = data["created_at"][:19].replace("T", " ")

    def no_upload(self, req: Recorded, found: re.Match) -> Reply:
        return self.error(404, "Not found", req.path)
