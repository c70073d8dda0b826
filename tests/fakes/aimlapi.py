"""AI/ML API: unified /v2/video/generations and the legacy Kling path."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
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
    json_reply,
    scale_problem,
    text_problem,
)

MODELS = {
    "kling-video/v2.1/pro/image-to-video",
    "kling-video/v2.1/standard/image-to-video",
    "klingai/v2.1-master-image-to-video",
    "klingai/v2.5-turbo/pro/image-to-video",
}
_V3_FIELDS = {"model": is_text, "image_url": is_url_or_data, "prompt": is_text, "negative_prompt": is_text,
              "duration": int_in(*range(3, 16)), "cfg_scale": is_scale, "tail_image_url": is_url_or_data,
              "generate_audio": is_bool}
#: AI/ML API's v3 and v2.6 pro pages (API.md, after v2.5): generate_audio defaults to true, and the v3 models
#: refuse an end frame with audio on.
_V3 = BodySchema(_V3_FIELDS, required=("model", "image_url"), exclusive=(frozenset({"tail_image_url",
                 "generate_audio"}),), defaults={"generate_audio": True})
AFTER_V25 = {
    "klingai/video-v3-standard-image-to-video": _V3,
    "klingai/video-v3-pro-image-to-video": _V3,
    "klingai/video-v2-6-pro-image-to-video": BodySchema(
        {"model": is_text, "image_url": is_url_or_data, "prompt": is_text, "negative_prompt": is_text,
         "duration": int_in(5, 10), "generate_audio": is_bool},
        required=("model", "image_url"),
    ),
}
PATH = "/v2/video/generations"
PATHS = r"/v2/video/generations|/v2/generate/video/kling/generation"
MESSAGES = {401: "Invalid API key", 403: "Insufficient credits"}
CREDITS = {5: 1575000, 10: 3150000}


def body_problem(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "Body must be a JSON object"
    if body.get("model") in AFTER_V25:
        return AFTER_V25[body["model"]].problem(body)
    if body.get("model") not in MODELS:
        return f"model must be one of: {', '.join(sorted(MODELS | set(AFTER_V25)))}"
    if not isinstance(body.get("image_url"), str) or not body["image_url"]:
        return "image_url is required"
    if body["model"].startswith("klingai/v2.5") and not body.get("prompt"):
        return "prompt is required"
    duration = body.get("duration", 5)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration not in (5, 10):
        return "duration must be one of the following values: 5, 10"
    return text_problem(body) or scale_problem(body, "cfg_scale")


class AimlApiProvider(FakeProvider):
    name = "aimlapi"
    routes = (("POST", PATHS, "submit", "submit"), ("GET", PATHS, "poll", "poll"))
    statuses: ClassVar[dict[str, str]] = {
        "queued": "queued",
        "processing": "generating",
        "completed": "completed",
        "failed": "error",
    }

    def error_body(self, status: int, message: str | None = None, path: str = PATH) -> dict:
        code: int | str = str(status) if self.variant.get("status_code_str") else status
        return {
            "message": message or MESSAGES.get(status) or DEFAULT_MESSAGES.get(status, "Error"),
            "path": path,
            "requestId": str(uuid.uuid4()),
            "statusCode": code,
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    def submit(self, req: Recorded, found: re.Match) -> Reply:
        problem = body_problem(req.json)
        if problem:
            return self.error(400, problem, req.path)
        model = req.json["model"]
        job_id = str(uuid.uuid4().int)[:18]
        if self.variant.get("colon_ids"):
            job_id = f"{uuid.uuid4()}:{model}"
        job_id = self.next_job_id(job_id)
        self.new_job(job_id, model, req.json)
        duration = req.json.get("duration", 5)
        usage = {"credits_used": CREDITS.get(duration, CREDITS[5] // 5 * duration)}
        return json_reply(201, {"id": job_id, "status": "queued", "meta": {"usage": usage}})

    def poll(self, req: Recorded, found: re.Match) -> Reply:
        job_id = req.query.get("generation_id")
        if not job_id:
            return self.error(400, "generation_id is required", req.path)
        job = self.jobs.get(job_id)
        if job is None:
            return self.error(404, f"Generation {job_id} not found", req.path)
        self.count_poll(job)
        reply = {"id": job.id, "status": self.status_of(job)}
        phase = job.phase()
        if phase == "completed":
            reply["video"] = self.video(job)
        elif phase == "failed":
            reply["error"] = self.failure(job)
        return json_reply(200, reply)

    def video(self, job: FakeJob) -> dict:
        size = len(self.hub.file_bytes(job.id))
        return {
            "url": self.video_url(job),
            "content_type": "video/mp4",
            "file_name": "output.mp4",
            "file_size": size,
        }

    def failure(self, job: FakeJob) -> dict:
        if self.fail_shape == "detail":
            return {"detail": [{"loc": ["body", "image_url"], "msg": job.fail_reason, "type": "value_error"}]}
        return {"name": "Error", "message": job.fail_reason}
