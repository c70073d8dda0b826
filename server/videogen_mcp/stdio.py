"""Serving over stdio: the SDK's transport, with one repair on the way in.

A JSON string may carry a lone UTF-16 surrogate escape (`"\\ud800"`): JavaScript's JSON.stringify
writes one for a string cut in the middle of an emoji. The SDK's strict parser refuses such a line
and answers nothing, so the host would wait on that call forever. Lines that contain such an escape
are parsed leniently here and written back with U+FFFD in place of the lone half; every other line
passes untouched.
"""

from __future__ import annotations

import io
import json
import re
import sys
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server

#: A cheap test for a surrogate escape of either half; only such lines are re-encoded.
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def run_stdio(server: MCPServer) -> None:
    anyio.run(_serve, server)


async def _serve(server: MCPServer) -> None:
    lines = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="\n")
    stdin: Any = anyio.wrap_file(_RepairedLines(lines))
    low = server._lowlevel_server  # the same call MCPServer.run_stdio_async makes, with our stdin
    async with stdio_server(stdin=stdin) as (read_stream, write_stream):
        await low.run(read_stream, write_stream, low.create_initialization_options())


class _RepairedLines:
    """A text stream whose lines have lone surrogates replaced; what anyio.wrap_file needs of a file."""

    def __init__(self, source: io.TextIOBase) -> None:
        self._source = source

    def readline(self) -> str:
        return repair_line(self._source.readline())

    def __iter__(self) -> _RepairedLines:
        return self

    def __next__(self) -> str:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self) -> None:
        self._source.close()


def repair_line(line: str) -> str:
    if not SURROGATE_ESCAPE.search(line):
        return line
    try:
        message = json.loads(line)
    except ValueError:
        return line  # not JSON at all: the SDK reports it as it always does
    return json.dumps(_repaired(message), ensure_ascii=False) + "\n"


def _repaired(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_repaired(v) for v in value]
    if isinstance(value, dict):
        return {_repaired(k): _repaired(v) for k, v in value.items()}
    return value
