"""The Task's published JSON schema: strict, and portable (nullable fields as anyOf, never a type list)."""

from __future__ import annotations

import jsonschema
import pytest

from tests.unit.conftest import task
from videogen_mcp.models import Task, TaskList

NULLABLE = ("provider_task_id", "eta_seconds", "video_url", "video_path", "error")


def test_nullable_fields_are_any_of_a_type_and_null_never_type_lists():
    properties = Task.model_json_schema()["properties"]
    for name in NULLABLE:
        assert "type" not in properties[name]
        assert properties[name]["anyOf"][1] == {"type": "null"}
    assert TaskList.model_json_schema()["$defs"]["Task"]["properties"]["error"]["anyOf"] == [
        {"type": "string"}, {"type": "null"}]


def test_the_schema_still_accepts_every_task_and_refuses_wrong_types():
    schema = Task.model_json_schema()
    jsonschema.validate(task().model_dump(mode="json"), schema)
    jsonschema.validate(task(status="completed", progress=100, video_path="/v.mp4", eta_seconds=None)
                        .model_dump(mode="json"), schema)
    for field, value in [("eta_seconds", "soon"), ("error", 3), ("status", "done"), ("video_path", False)]:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**task().model_dump(mode="json"), field: value}, schema)
