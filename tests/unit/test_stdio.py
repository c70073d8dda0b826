"""repair_line: lone UTF-16 surrogate escapes become U+FFFD; every other line passes untouched."""

from __future__ import annotations

import json

import pytest

from videogen_mcp.stdio import repair_line


@pytest.mark.parametrize("line", [
    '{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
    '{"a":"\\u00e9 caf\\u00e9"}\n',
    "not json at all \\ud800\n",
    "",
])
def test_lines_without_a_repairable_surrogate_are_untouched(line):
    assert repair_line(line) == line


@pytest.mark.parametrize(("escaped", "text"), [
    ("cut \\ud83d", "cut \ufffd"),
    ("\\udc00 low first", "\ufffd low first"),
    ("pair \\ud83d\\ude00 kept", "pair \U0001F600 kept"),
    ("\\uD800\\uD800", "\ufffd\ufffd"),
])
def test_lone_surrogates_become_the_replacement_character(escaped, text):
    line = '{"params":{"arguments":{"prompt":"' + escaped + '","list":["' + escaped + '"]}}}\n'
    repaired = json.loads(repair_line(line))
    assert repaired["params"]["arguments"] == {"prompt": text, "list": [text]}
    assert repair_line(line).endswith("\n") and repair_line(line).count("\n") == 1
