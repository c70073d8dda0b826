"""Checks arguments against the rules in tasks/requests.py, and turns pydantic's errors into one plain sentence
per problem."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

from pydantic import TypeAdapter, ValidationError

from videogen_mcp.catalog import OFFERINGS, Offering
from videogen_mcp.errors import InvalidInput
from videogen_mcp.tasks.requests import GENERATE_RULES, RANGES, TASK_RULES, GenerateRequest


def check_generate(request: GenerateRequest) -> None:
    """Raise InvalidInput saying every problem of the request's arguments, if any."""
    _check(GENERATE_RULES, request)


def check_offering(request: GenerateRequest, offering: Offering) -> None:
    """Raise InvalidInput when the offering cannot take the request as asked (its catalog row says what it takes)."""
    where = f"{offering.model.id} at {offering.provider}"
    if request.duration not in offering.durations:
        raise InvalidInput(f"{offering.model.id} takes {durations_text(offering.durations)} seconds, "
                           f"got {request.duration}")
    asked = request.asks_for()
    if "end_image" in asked and not offering.end_image:
        raise InvalidInput(f"{where} has no end frame: drop end_image, or choose a model with one "
                           f"({_models_with('end_image')})")
    if "sound" in asked and not offering.sound:
        raise InvalidInput(f"{where} makes no sound: drop sound, or choose a model with native audio "
                           f"({_models_with('sound')})")
    if "guidance_scale" in asked and offering.guidance_parameter is None:
        raise InvalidInput(f"{where} takes no guidance_scale: drop it")
    for rule in offering.forbidden:
        if rule.arguments <= asked:
            both = " and ".join(sorted(rule.arguments))
            raise InvalidInput(f"{where} does not take {both} together ({rule.source}): drop one, or choose "
                               "another provider")


def durations_text(durations: Iterable[int]) -> str:
    """`5 or 10`, `3 to 15`: a run of whole seconds as a range, else the values."""
    values = sorted(durations)
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]} to {values[-1]}"
    if len(values) == 1:
        return str(values[0])
    return ", ".join(map(str, values[:-1])) + f" or {values[-1]}"


def _models_with(capability: str) -> str:
    return ", ".join(dict.fromkeys(o.model.id for o in OFFERINGS
                                   if getattr(o, capability) and not o.preview))


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
        return f"duration must be a whole number of seconds, got {value!r}"
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
