"""myrouter: Novita-style async task API."""

from __future__ import annotations

import re
import uuid
from typing import Any, ClassVar

from .base import (
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
    "kling-v2.1-i2v": "guidance_scale",
    "kling-v2.1-i2v-master": "guidance_scale",
    "kling-2.5-turbo-i2v": "cfg_scale",
}
#: myrouter's Kling 3.0 pages (Novita's): integer duration 3-15, cfg_scale, end_image, sound (API.md, after v2.5).
_V3 = BodySchema(
    {"image": is_url_or_data, "prompt": is_text, "negative_prompt": is_text, "duration": int_in(*range(3, 16)),
     "cfg_scale": is_scale, "end_image": is_url_or_data, "sound": is_bool},
    required=("image", "prompt"),
)
AFTER_V25 = {"kling-v3.0-std-i2v": _V3, "kling-v3.0-pro-i2v": _V3}
REASONS = {
    400: ("INVALID_REQUEST_BODY", "invalid request body"),
    401: ("FAILED_TO_AUTH", "failed to auth"),
    402: ("NOT_ENOUGH_BALANCE", "not enough balance"),
    403: ("NOT_ENOUGH_BALANCE", "not enough balance"),
    404: ("MODEL_NOT_FOUND", "model not found"),
    429: ("RATE_LIMIT_EXCEEDED", "rate limit exceeded"),
    500: ("INTERNAL_SERVER_ERROR", "internal server error"),
}

UNAVAILABLE = ("SERVICE_NOT_AVAILABLE", "service not available")


def body_problem(model: str, body: Any) -> str | None:
    if model in AFTER_V25:
        return AFTER_V25[model].problem(body)
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    for key in ("image", "prompt"):
        if not isinstance(body.get(key), str) or not body[key]:
            return f"{key} is required"
    if body.get("duration", "5") not in ("5", "10"):
        return "duration must be a string, one of: 5, 10"
    if model == "kling-v2.1-i2v" and body.get("mode", "Standard") not in ("Standard", "Professional"):
        return "mode must be one of: Standard, Professional"
    return text_problem(body) or scale_problem(body, MODELS[model])


class MyRouterProvider(FakeProvider):
    name = "myrouter"
    routes = (
        ("GET", r"/v3/async/task-result", "poll", "poll"),
        ("POST", r"/v3/async/(?P<model>[^/]+)", "submit", "submit"),
    )
    statuses: ClassVar[dict[str, str]] = {
        "queued": "TASK_STATUS_QUEUED",
        "processing": "TASK_STATUS_PROCESSING",
        "completed": "TASK_STATUS_SUCCEED",
        "failed": "TASK_STATUS_FAILED",
    }

    def error_body(self, status: int, message: str | None = None, path: str = "/", reason: str = "") -> dict:
        default_reason, default_message = REASONS.get(status, UNAVAILABLE)
        return {
            "code": status,
            "reason": reason or default_reason,
            "message": message or default_message,
            "metadata": {},
        }

    def auth_problem(self, req: Recorded) -> Reply | None:
        auth = req.headers.get("authorization")
        if auth == f"Bearer {self.key}":
            return None
        if not auth:
            return self.error(401, path=req.path)
        return json_reply(403, self.error_body(403, "invalid api-key", reason="INVALID_API_KEY"))

    def submit(self, req: Recorded, found: re.Match) -> Reply:
        model = found["model"]
        if model not in MODELS and model not in AFTER_V25:
            return self.error(404, f"model not found: {model}", req.path)
        problem = body_problem(model, req.json)
        if problem:
            return self.error(400, problem, req.path)
        job = self.new_job(self.next_job_id(str(uuid.uuid4())), model, req.json)
        return json_reply(200, {"task_id": job.id})

    def poll(self, req: Recorded, found: re.Match) -> Reply:
        task_id = req.query.get("task_id")
        if not task_id:
            return self.error(400, "task_id is required", req.path)
        job = self.jobs.get(task_id)
        if job is None:
            return json_reply(404, self.error_body(404, "task not found", reason="TASK_NOT_FOUND"))
        self.count_poll(job)
        return json_reply(200, self.result(job))

    def result(self, job: FakeJob) -> dict:
        phase = job.phase()
        reason = job.fail_reason if phase == "failed" else ""
        task = {
            "task_id": job.id,
            "status": self.status_of(job),
            "reason": reason,
            "task_type": job.model.upper().replace("-", "_").replace(".", "_"),
            "eta": job.eta(),
            "progress_percent": job.progress(),
        }
        videos = []
        if phase == "completed":
            videos = [{"video_url": self.video_url(job), "video_url_ttl": "3600", "video_type": "mp4"}]
        extra = {"seed": "", "debug_info": {}}
        return {"extra": extra, "task": task, "images": [], "videos": videos, "audios": []}
