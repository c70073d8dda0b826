"""Checks arguments against the rules in tasks/requests.py, and turns pydantic's errors into one plain sentence
per problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from videogen_mcp.errors import InvalidInput
from videogen_mcp.tasks.requests import GENERATE_RULES, RANGES, TASK_RULES, GenerateRequest


def check_generate(request: GenerateRequest) -> None:
    """Raise InvalidInput saying every problem of the request's arguments, if any."""
    _check(GENERATE_RULES, request)


def check_task_arguments(**arguments: object) -> None:
    """Raise InvalidInput saying every problem of task_id, wait_seconds, status or limit, if any."""
    _check(TASK_RULES, arguments)


def _check(rules: TypeAdapter[Any], value: object) -> None:
    try:
        rules.validate_python(value)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def describe_unknown_arguments(tool: str, unknown: Iterable[str], known: Iterable[str]) -> str:
    """`unknown argument 'durration'; did you mean 'duration'?`, one clause per unknown name."""
    known = sorted(known)
    return "; ".join(_describe_unknown(tool, name, known) for name in unknown)


def _describe_unknown(tool: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown argument {name!r}; did you mean {close[0]!r}?"
    return f"unknown argument {name!r}; {tool} takes {', '.join(known) or 'no arguments'}"


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
    if field in RANGES and kind.startswith(("less_than", "greater_than", "float", "int", "finite")):
        return f"{field} must be {RANGES[field]}, got {value!r}"
    if kind == "literal_error":
        return f"{field} must be one of {ctx.get('expected')}, got {value!r}"
    return f"{field}: {error['msg']}"
