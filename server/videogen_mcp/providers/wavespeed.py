"""WaveSpeedAI: Bearer key, POST /api/v3/<model>, poll /api/v3/predictions/<id>/result, an envelope."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx2

from videogen_mcp.errors import ProviderError
from videogen_mcp.images import ImageInput
from videogen_mcp.providers.base import (
    Adapter,
    PollResult,
    SubmitRequest,
    dig,
    offering_fields,
    optional_fields,
    wire_duration,
)

log = logging.getLogger(__name__)

STATUSES = {
    "created": "queued",
    "pending": "queued",
    "queued": "queued",
    "processing": "processing",
    "running": "processing",
    "completed": "completed",
    "succeeded": "completed",
    "failed": "failed",
    "timeout": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}


class WaveSpeed(Adapter):
    name = "wavespeed"
    default_base_url = "https://api.wavespeed.ai"
    image_transport = "upload"
    #: WaveSpeed's page types duration as a string; GPTProto documents an integer.
    duration_type: type = str

    async def upload(self, image: ImageInput) -> str:
        request = self.request(
            "POST",
            "/api/v3/media/upload/binary",
            files={"file": (f"image{image.extension}", image.data, image.mime)},
        )
        reply = self.envelope_data(await self.http.send(request, idempotent=True))  # an upload costs nothing
        url = dig(reply, "download_url")
        if not isinstance(url, str) or not url:
            raise self.unexpected("the upload reply has no download_url")
        return url

    def submit_request(self, req: SubmitRequest, image_ref: str, end_ref: str | None = None) -> httpx2.Request:
        body = {
            "image": image_ref,
            "prompt": req.prompt,
            "duration": wire_duration(req, self.duration_type),
            **optional_fields(negative_prompt=req.negative_prompt),
            **offering_fields(req, end_ref),
        }
        return self.request("POST", f"/api/v3/{req.offering.provider_model_id}", json=body)

    def parse_submit(self, body: Any) -> str:
        task_id = dig(self.envelope_data(body), "id")
        if not isinstance(task_id, str) or not task_id:
            raise self.unexpected("no prediction id in the submit reply")
        return task_id

    def poll_request(self, provider_task_id: str) -> httpx2.Request:
        # the id is the provider's data: escaped, it cannot leave the route ("../"), add a query ("?") or end it ("#")
        return self.request("GET", f"/api/v3/predictions/{quote(provider_task_id, safe='')}/result")

    async def cancel(self, provider_task_id: str) -> bool | None:
        """`DELETE /api/v3/predictions/{id}`, sent once: True when the reply says the prediction was deleted."""
        request = self.request("DELETE", f"/api/v3/predictions/{quote(provider_task_id, safe='')}")
        try:
            data = self.envelope_data(await self.http.send(request, idempotent=False))
        except ProviderError as exc:
            log.info("%s did not cancel job %s: %s", self.name, provider_task_id, exc)
            return False
        return str(data.get("status") or "").lower() in ("deleted", "cancelled", "canceled")

    def parse_poll(self, body: Any) -> PollResult:
        data = self.envelope_data(body)
        raw = str(data.get("status") or "")
        status = STATUSES.get(raw.lower())
        video_url = dig(data, "outputs", 0) if status == "completed" else None
        if status == "completed" and not isinstance(video_url, str):
            raise self.unexpected("a completed prediction without an output URL")
        error = self.error_text({"error": data.get("error")})
        if status == "failed" and not error:
            error = "the provider gave no reason" if raw == "failed" else f"the job ended with status {raw!r}"
        return PollResult(status=status, raw_status=raw, video_url=video_url, error=error)  # type: ignore[arg-type]

    def envelope_data(self, body: Any) -> dict[str, Any]:
        """`data` of a {code, message, data} envelope; a code other than 200 is an error even on HTTP 200."""
        if not isinstance(body, dict):
            raise self.unexpected("the reply is not a JSON object")
        if "data" not in body and isinstance(body.get("error"), dict):  # GPTProto's error body, even on HTTP 200
            kind = str(body["error"].get("type") or "")
            status = int(kind) if kind.isdigit() else 429 if "rate_limit" in kind else 400
            raise self.http.error(status, self.error_text(body))
        code = body.get("code", 200)
        if isinstance(code, int | str) and str(code) != "200":
            status = int(code) if str(code).isdigit() else 400
            raise self.http.error(status, self.error_text(body))
        data = body.get("data")
        if not isinstance(data, dict):
            raise self.unexpected("no data object in the reply")
        return data

    def error_text(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return None
        error = body.get("error")
        if isinstance(error, dict):  # GPTProto and OpenAI-style bodies
            return _text(error.get("message"))
        return _text(body.get("message")) or _text(error)


def _text(value: Any) -> str | None:
    return value.strip()[:300] if isinstance(value, str) and value.strip() else None
