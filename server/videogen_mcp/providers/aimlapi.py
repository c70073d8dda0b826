"""AI/ML API: POST /v2/video/generations, poll by ?generation_id=, flat error bodies with statusCode."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx2

from videogen_mcp.errors import KeyRejected, OutOfCredit
from videogen_mcp.providers.base import Adapter, PollResult, SubmitRequest, dig, offering_fields, optional_fields

#: AI/ML API bills in credits: $1 = 2,000,000 credits (providers/API.md "Prices").
CREDITS_PER_USD = 2_000_000

STATUSES = {
    "queued": "queued",
    "waiting": "queued",
    "generating": "processing",
    "processing": "processing",
    "active": "processing",
    "completed": "completed",
    "error": "failed",
    "failed": "failed",
}


class AimlApi(Adapter):
    name = "aimlapi"
    default_base_url = "https://api.aimlapi.com"
    #: Its docs: 401 invalid key, 403 out of credits (whatever the message says).
    status_meanings: ClassVar[Mapping[int, type[KeyRejected | OutOfCredit]]] = {403: OutOfCredit}

    def submit_request(self, req: SubmitRequest, image_ref: str, end_ref: str | None = None) -> httpx2.Request:
        body = {
            "model": req.offering.provider_model_id,
            "image_url": image_ref,
            "prompt": req.prompt,
            "duration": req.duration,
            **optional_fields(negative_prompt=req.negative_prompt),
            **offering_fields(req, end_ref),
        }
        return self.request("POST", "/v2/video/generations", json=body)

    def parse_submit(self, body: Any) -> str:
        task_id = dig(body, "id")
        if not isinstance(task_id, str | int) or not str(task_id):
            raise self.unexpected("no generation id in the submit reply")
        return str(task_id)

    def poll_request(self, provider_task_id: str) -> httpx2.Request:
        # httpx2 encodes the query value, so ids holding ':' and '/' survive the trip
        return self.request("GET", "/v2/video/generations", params={"generation_id": provider_task_id})

    def parse_poll(self, body: Any) -> PollResult:
        if not isinstance(body, dict):
            raise self.unexpected("the reply is not a JSON object")
        raw = str(body.get("status") or "")
        status = STATUSES.get(raw.lower())
        video_url = dig(body, "video", "url") if status == "completed" else None
        if status == "completed" and not isinstance(video_url, str):
            raise self.unexpected("a completed generation without video.url")
        error = _failure_reason(body.get("error")) if status == "failed" else None
        return PollResult(status=status, raw_status=raw, video_url=video_url, error=error)  # type: ignore[arg-type]

    def parse_charged(self, body: Any) -> float | None:
        """`meta.usage.usd_spent` when present, else `meta.usage.credits_used` at $1 = 2,000,000 credits."""
        usage = dig(body, "meta", "usage")
        for key, per_usd in (("usd_spent", 1), ("credits_used", CREDITS_PER_USD)):
            value = dig(usage, key)
            if isinstance(value, int | float | str) and not isinstance(value, bool):
                try:
                    usd = float(value) / per_usd
                except ValueError:
                    continue
                if math.isfinite(usd) and usd >= 0:
                    return round(usd, 6)
        return None

    def error_text(self, body: Any) -> str | None:
        message = dig(body, "message")
        if isinstance(message, list):  # validation errors may come as a list of strings
            message = "; ".join(str(m) for m in message)
        return str(message)[:300] if message else None


def _failure_reason(error: Any) -> str:
    if isinstance(error, str) and error:
        return error
    if isinstance(error, dict):
        if error.get("message"):
            return str(error["message"])
        details = error.get("detail")
        if isinstance(details, list) and details:
            return "; ".join(str(dig(d, "msg") or d) for d in details)
        if isinstance(details, str):
            return details
    return "the provider gave no reason"
