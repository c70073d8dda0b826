"""Argument errors become one plain sentence per problem."""

from __future__ import annotations

from typing import Annotated

import pytest
from pydantic import BaseModel, Field, ValidationError

from videogen_mcp.models import TaskStatus
from videogen_mcp.validation import describe_validation_error


class ToolArguments(BaseModel):
    """The tool arguments as the MCP tools declare them (see app.py)."""

    image: str = "https://x.test/a.png"
    prompt: Annotated[str, Field(min_length=1, max_length=2500)] = "a cat"
    duration: int = 5  # checked against the chosen model by the service (tests/unit/test_models_after_v25.py)
    negative_prompt: Annotated[str | None, Field(max_length=2500)] = None
    guidance_scale: Annotated[float | None, Field(ge=0, le=1)] = None
    wait_seconds: Annotated[float, Field(ge=0, le=900)] = 45
    limit: Annotated[int, Field(ge=1, le=200)] = 20
    status: TaskStatus | None = None


class Required(BaseModel):
    task_id: str


def describe(model: type[BaseModel] = ToolArguments, **arguments: object) -> str:
    with pytest.raises(ValidationError) as caught:
        model(**arguments)
    return describe_validation_error(caught.value)


@pytest.mark.parametrize(
    ("arguments", "sentence"),
    [
        ({"duration": "long"}, "duration must be a whole number of seconds, got 'long'"),
        ({"duration": 7.5}, "duration must be a whole number of seconds, got 7.5"),
        ({"prompt": "x" * 2501}, "prompt must be at most 2500 characters, got 2501"),
        ({"negative_prompt": "x" * 3000}, "negative_prompt must be at most 2500 characters, got 3000"),
        ({"prompt": ""}, "prompt must not be empty"),
        ({"guidance_scale": 1.5}, "guidance_scale must be between 0 and 1, got 1.5"),
        ({"guidance_scale": -0.1}, "guidance_scale must be between 0 and 1, got -0.1"),
        ({"wait_seconds": 901}, "wait_seconds must be between 0 and 900 seconds, got 901"),
        ({"wait_seconds": "soon"}, "wait_seconds must be between 0 and 900 seconds, got 'soon'"),
        ({"limit": 0}, "limit must be between 1 and 200, got 0"),
        ({"limit": 201}, "limit must be between 1 and 200, got 201"),
        ({"status": "done"},
         "status must be one of 'queued', 'processing', 'completed', 'failed' or 'cancelled', got 'done'"),
    ],
)
def test_each_argument_error_is_one_plain_sentence(arguments, sentence):
    assert describe(**arguments) == sentence


def test_missing_argument_is_required():
    assert describe(Required) == "task_id is required"


def test_several_problems_are_joined_in_one_line():
    text = describe(duration="long", wait_seconds=901)
    assert text == ("duration must be a whole number of seconds, got 'long'; wait_seconds must be between 0 and 900 "
                    "seconds, got 901")
