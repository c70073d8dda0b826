"""Turns pydantic's argument errors into one plain sentence per problem."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

BOUNDS = {
    "guidance_scale": "between 0 and 1",
    "wait_seconds": "between 0 and 900 seconds",
    "limit": "between 1 and 200",
}


def describe_validation_error(error: ValidationError) -> str:
    return "; ".join(_describe(e) for e in error.errors(include_url=False))


def _describe(error: Any) -> str:
    field = ".".join(str(p) for p in error["loc"]) or "arguments"
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if field == "duration":
        return f"duration must be 5 or 10 seconds, got {value!r}"
    if kind == "missing":
        return f"{field} is required"
    if kind == "string_too_long":
        return f"{field} must be at most {ctx.get('max_length')} characters, got {len(value)}"
    if kind == "string_too_short":
        return f"{field} must not be empty"
    if field in BOUNDS and kind.startswith(("less_than", "greater_than", "float", "int")):
        return f"{field} must be {BOUNDS[field]}, got {value!r}"
    if kind == "literal_error":
        return f"{field} must be one of {ctx.get('expected')}, got {value!r}"
    return f"{field}: {error['msg']}"
