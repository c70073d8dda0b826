"""Every tool schema from a real tools/list passes the MCP Inspector's `--strict` portability lint.

The Inspector (2.12, `--cli --method tools/list --strict`) walks each inputSchema and outputSchema and
flags: a `type` written as a list (warning), a bare `true`/`false` where a schema object is expected
(error), a `$ref` outside the document (warning), and a schema with no validation keyword at all
(warning). The same four rules, walked the same way, are checked here.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.anyio

MAP_KEYWORDS = ("properties", "patternProperties", "dependentSchemas", "dependencies", "$defs", "definitions")
LIST_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
ONE_KEYWORDS = ("items", "contains", "not", "propertyNames", "if", "then", "else", "additionalProperties",
                "unevaluatedProperties", "additionalItems", "unevaluatedItems", "contentSchema")
BOOLEAN_ALLOWED = {"additionalProperties", "unevaluatedProperties", "additionalItems", "unevaluatedItems"}
CONSTRAINING = {
    "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
    "maxLength", "minLength", "pattern", "format", "contentMediaType", "contentEncoding", "contentSchema",
    "maxItems", "minItems", "uniqueItems", "maxContains", "minContains", "maxProperties", "minProperties",
    "required", "dependentRequired", "allOf", "anyOf", "oneOf", "not", "items", "prefixItems", "contains",
    "additionalItems", "unevaluatedItems", "properties", "patternProperties", "additionalProperties",
    "unevaluatedProperties", "propertyNames", "dependentSchemas", "dependencies", "$ref", "$dynamicRef",
    "$recursiveRef",
}


def children(node: dict) -> list[tuple[str, str, Any]]:
    """(keyword, path step, subschema) for every subschema of a node."""
    found = []
    for key in MAP_KEYWORDS:
        if isinstance(node.get(key), dict):
            found += [(key, f".{key}.{name}", sub) for name, sub in node[key].items()]
    for key in LIST_KEYWORDS:
        if isinstance(node.get(key), list):
            found += [(key, f".{key}[{i}]", sub) for i, sub in enumerate(node[key])]
    for key in ONE_KEYWORDS:
        if key in node:
            value = node[key]
            subs = enumerate(value) if key == "items" and isinstance(value, list) else [(None, value)]
            found += [(key, f".{key}" + ("" if i is None else f"[{i}]"), sub) for i, sub in subs]
    return found


def findings(node: Any, path: str, keyword: str | None = None) -> list[str]:
    if isinstance(node, bool):
        return [] if keyword in BOOLEAN_ALLOWED else [f"{path}: bare {node} where a schema is expected"]
    if not isinstance(node, dict):
        return []
    found = []
    if isinstance(node.get("type"), list):
        found.append(f"{path}: type is a list {node['type']}")
    ref = node.get("$ref")
    if isinstance(ref, str) and ref and not ref.startswith("#"):
        found.append(f"{path}: $ref outside the document {ref}")
    constrains = bool(CONSTRAINING & node.keys()) or ("if" in node and ("then" in node or "else" in node))
    if not constrains and keyword != "not":
        found.append(f"{path}: no validation keyword at all")
    for child_keyword, step, sub in children(node):
        found += findings(sub, path + step, child_keyword)
    return found


def test_the_lint_flags_what_the_inspector_flags():
    schema = {"type": "object", "properties": {
        "a": {"type": ["string", "null"]}, "b": True, "c": {"$ref": "https://x.example/s.json"},
        "d": {"description": "anything"}, "e": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    }, "additionalProperties": False}
    assert findings(schema, "outputSchema") == [
        "outputSchema.properties.a: type is a list ['string', 'null']",
        "outputSchema.properties.b: bare True where a schema is expected",
        "outputSchema.properties.c: $ref outside the document https://x.example/s.json",
        "outputSchema.properties.d: no validation keyword at all",
    ]


async def test_every_tool_schema_is_portable(start_server):
    async with start_server() as client:
        tools = (await client.list_tools()).tools
    assert {tool.name for tool in tools} >= {"generate_video", "get_task", "list_tasks", "list_providers"}
    problems = []
    for tool in tools:
        problems += findings(tool.input_schema, f"{tool.name}.inputSchema")
        if tool.output_schema is not None:
            problems += findings(tool.output_schema, f"{tool.name}.outputSchema")
    assert problems == []
