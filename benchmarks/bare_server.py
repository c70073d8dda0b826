"""The reference floor: a bare MCPServer from the SDK with one echo tool, served over stdio.

benchmarks/run.py spawns it next to videogen-mcp, the same way, to compare start-up and call latency.
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("bare-echo")


@server.tool()
async def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


if __name__ == "__main__":
    server.run()
