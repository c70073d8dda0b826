"""myrouter (Novita-style async API): POST /v3/async/<model>, poll /v3/async/task-result?task_id=."""

from __future__ import annotations

from typing import Any

import httpx2

from videogen_mcp.providers.base import (
    Adapter,
    PollResult,
    SubmitRequest,
    as_int,
    dig,
    offering_fields,
    optional_fields,
    wire_duration,
)

STATUSES = {
    "TASK_STATUS_QUEUED": "queued",
    "TASK_STATUS_PROCESSING": "processing",
    "TASK_STATUS_SUCCEED": "completed",
    "TASK_STATUS_FAILED": "failed",
    "TASK_STATUS_CANCELED": "cancelled",
    "TASK_STATUS_CANCELLED": "cancelled",
}


class MyRouter(Adapter):
    name = "myrouter"
    default_base_url = "https://api.myrouter.ai"
    reports_progress = True

    def submit_request(self, req: SubmitRequest, image_ref: str, end_ref: str | None = None) -> httpx2.Request:
        offering = req.offering
        body = {
            "image": image_ref,
            "prompt": req.prompt,
            "duration": wire_duration(req, str),  # a string for the v2 models; v3.0 documents an integer
            **optional_fields(mode=offering.mode, negative_prompt=req.negative_prompt),
            **offering_fields(req, end_ref),
        }
        return self.request("POST", f"/v3/async/{offering.provider_model_id}", json=body)

    def parse_submit(self, body: Any) -> str:
        task_id = dig(body, "task_id")
        if not isinstance(task_id, str) or not task_id:
            raise self.unexpected("no task_id in the submit reply")
        return task_id

    def poll_request(self, provider_task_id: str) -> httpx2.Request:
        return self.request("GET", "/v3/async/task-result", params={"task_id": provider_task_id})

    def parse_poll(self, body: Any) -> PollResult:
        task = dig(body, "task")
        if not isinstance(task, dict):
            raise self.unexpected("no task object in the reply")
        raw = str(task.get("status") or "")
        status = STATUSES.get(raw.upper())
        video_url = dig(body, "videos", 0, "video_url") if status == "completed" else None
        if status == "completed" and not isinstance(video_url, str):
            raise self.unexpected("a succeeded task without videos[0].video_url")
        error = (str(task.get("reason") or "") or "the provider gave no reason") if status == "failed" else None
        return PollResult(
            status=status,  # type: ignore[arg-type]
            raw_status=raw,
            progress=as_int(task.get("progress_percent")),
            eta_seconds=as_int(task.get("eta")) if status in ("queued", "processing") else None,
            video_url=video_url,
            error=error,
        )

    def error_text(self, body: Any) -> str | None:
        reason, message = dig(body, "reason"), dig(body, "message")
        text = " ".join(str(part) for part in (reason, message) if part)
        return text[:300] or None
