"""videogen-mcp: an MCP server that turns an image and a prompt into a video, as a durable task."""

__version__ = "0.1.0"
