"""The rules for every argument a caller passes, written once: the tools' schemas and TaskService's checks use them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict

from videogen_mcp.models import TaskStatus

MAX_PROMPT = 2500
MIN_GUIDANCE, MAX_GUIDANCE = 0, 1
MAX_WAIT = 900
MIN_LIMIT, MAX_LIMIT = 1, 200
MAX_TASK_ID = 100

Prompt = Annotated[str, Field(min_length=1, max_length=MAX_PROMPT)]
NegativePrompt = Annotated[str | None, Field(max_length=MAX_PROMPT)]
GuidanceScale = Annotated[float | None, Field(ge=MIN_GUIDANCE, le=MAX_GUIDANCE, allow_inf_nan=False)]
WaitSeconds = Annotated[float, Field(ge=0, le=MAX_WAIT, allow_inf_nan=False)]
Limit = Annotated[int, Field(ge=MIN_LIMIT, le=MAX_LIMIT)]
TaskId = Annotated[str, Field(min_length=1, max_length=MAX_TASK_ID)]
StatusFilter = TaskStatus | None

#: How a refusal states each numeric range, from the same numbers.
RANGES = {
    "guidance_scale": f"between {MIN_GUIDANCE} and {MAX_GUIDANCE}",
    "wait_seconds": f"between 0 and {MAX_WAIT} seconds",
    "limit": f"between {MIN_LIMIT} and {MAX_LIMIT}",
}


@dataclass(frozen=True)
class GenerateRequest:
    """One generation as a caller asked for it; `duration` is checked against the chosen model by the service."""

    #: Checked as it stands (no coercion) each time it is validated, not only when built.
    __pydantic_config__ = ConfigDict(revalidate_instances="always", strict=True)

    image: str
    prompt: Prompt
    provider: str | None = None
    model: str | None = None
    duration: int = 5
    negative_prompt: NegativePrompt = None
    guidance_scale: GuidanceScale = None
    #: The last frame, in the same forms as `image`; only on models with an end frame.
    end_image: str | None = None
    #: Native audio; None and False both send "no audio" on models that have it.
    sound: bool | None = None

    def asks_for(self) -> frozenset[str]:
        """The optional capabilities this request uses, by argument name (as offerings declare them)."""
        used = {"end_image": self.end_image is not None, "sound": bool(self.sound),
                "guidance_scale": self.guidance_scale is not None}
        return frozenset(name for name, on in used.items() if on)


class TaskArguments(TypedDict, total=False):
    """The arguments of the task methods (get, wait, list), each under its rule."""

    __pydantic_config__ = ConfigDict(strict=True)  # type: ignore[misc]

    task_id: TaskId
    wait_seconds: WaitSeconds
    status: StatusFilter
    limit: Limit


GENERATE_RULES = TypeAdapter(GenerateRequest)
TASK_RULES = TypeAdapter(TaskArguments)
