"""Streamable HTTP serving: loopback only unless a bearer token guards it."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from videogen_mcp.config import Settings
from videogen_mcp.errors import ConfigError


def serve_http(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from videogen_mcp.app import build_server

    if not settings.http_token and not _is_loopback(host):
        raise ConfigError(f"refusing to serve on {host} without VIDEOGEN_HTTP_TOKEN; set it or use 127.0.0.1")
    server = build_server(settings, transport="streamable-http")
    app: Any = server.streamable_http_app(host=host)
    if settings.http_token:
        app = BearerGuard(app, settings.http_token)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerGuard:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <VIDEOGEN_HTTP_TOKEN>`."""

    def __init__(self, app: Any, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and not self._authorized(scope):
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]})
            await send({"type": "http.response.body", "body": b'{"error":"missing or wrong bearer token"}'})
            return
        await self._app(scope, receive, send)

    def _authorized(self, scope: dict[str, Any]) -> bool:
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        return hmac.compare_digest(given, self._expected)
