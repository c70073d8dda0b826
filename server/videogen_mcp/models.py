"""The public data shapes: the Task object and the provider/model listing."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TaskStatus = Literal["queued", "processing", "completed", "failed", "cancelled"]
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


def resource_uri(task_id: str) -> str:
    return f"task://{task_id}"


class Failover(BaseModel):
    """A provider a call naming none passed over before the one that took the job, and why."""

    provider: str
    reason: str = Field(description="Why it was skipped: its one-sentence error, or that it is degraded.")


class Task(BaseModel):
    """One video generation, followed until its video is on disk."""

    task_id: str = Field(description="This server's id for the task; pass it to get_task.")
    status: TaskStatus = Field(description="queued, processing, completed, failed or cancelled.")
    provider: str
    model: str = Field(description="Canonical model id.")
    provider_task_id: str | None = Field(description="The provider's own id, once it accepted the job.")
    progress: int = Field(ge=0, le=100, description="0-100; 100 only when completed.")
    eta_seconds: int | None = Field(description="Estimated seconds left, when known.")
    video_url: str | None = Field(description="The provider's URL of the video (may expire).")
    video_path: str | None = Field(description="Local file of the downloaded video.")
    error: str | None = Field(description="Why the task failed, or a note about its download.")
    prompt: str
    duration: int = Field(description="Video length in seconds.")
    created_at: str
    updated_at: str
    resource_uri: str = Field(description="task://<task_id>: read or subscribe to follow the task.")
    failover: list[Failover] = Field(default_factory=list, description="Providers skipped before `provider` took "
                                     "the job (a call naming no provider), each with the reason; empty when none.")
    cost_usd: float | None = Field(default=None, description="What the generation cost in USD: the catalog price "
                                   "at submit, replaced by what the provider reported it charged where it reports "
                                   "one; null when unknown.")

    @property
    def finished(self) -> bool:
        return self.status in TERMINAL_STATUSES


class TaskList(BaseModel):
    tasks: list[Task]


class ModelInfo(BaseModel):
    id: str = Field(description="Canonical model id, the same for every provider.")
    provider_model_id: str = Field(description="The provider's own id for the model.")
    mode: str | None = Field(default=None, description="The provider's mode parameter for this model, if any.")
    durations: list[int] = Field(description="Allowed video lengths in seconds.")
    end_image: bool = Field(default=False, description="Takes end_image, the last frame of the video.")
    sound: bool = Field(default=False, description="Takes sound=true, native audio.")
    not_together: list[list[str]] = Field(default_factory=list, description="Arguments this provider refuses "
                                          "together for this model (each list one combination).")
    guidance_parameter: str | None = Field(description="The provider's name for guidance_scale; null: none taken.")
    prompt_required: bool
    price_usd: dict[str, float | None] | None = Field(description="Price in USD per duration (seconds as key); "
                                                      "null where not published, and null as a whole when no "
                                                      "duration's is (price_note says why).")
    price_source: str | None = Field(default=None, description="Where the prices were read.")
    price_read: str | None = Field(default=None, description="When the prices were read (ISO 8601 date).")
    price_note: str | None = Field(default=None, description="Why a price is null, or how it was taken.")
    is_default: bool


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="degraded: skipped by calls naming no provider for now.")
    reason: str | None = Field(default=None, description="The last of the submit failures that degraded it.")
    until: str | None = Field(default=None, description="When it is tried again (UTC, ISO 8601).")


class ProviderInfo(BaseModel):
    name: str
    configured: bool
    is_default: bool
    models: list[ModelInfo]
    setup: str | None = Field(description="For a provider that is not configured: the variable to set.")
    health: Health = Field(default_factory=lambda: Health(status="ok"),
                           description="ok, or degraded after 3 submits in a row failed without creating a job.")


class ProviderList(BaseModel):
    providers: list[ProviderInfo]
