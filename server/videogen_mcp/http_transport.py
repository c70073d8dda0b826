"""Streamable HTTP serving: loopback only unless a bearer token guards it."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings

from videogen_mcp.config import Settings
from videogen_mcp.errors import ConfigError

#: A JSON-RPC request carrying a 10 MB image as a base64 data URI: 13.98 MB of base64 (14.4 MB line-wrapped),
#: plus prompts and envelope (tens of KB). The SDK's 4 MB default admits only about 3 MB of image.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: An idle kept-alive connection is closed after this many seconds (uvicorn's default, stated).
KEEP_ALIVE_SECONDS = 5
#: On SIGTERM or SIGINT, calls still running (a get_task waiting 900 s, an SSE stream) are cut after this many
#: seconds, so the server (its leases handed back) stops within 5 s. uvicorn then ends the process as the
#: signal asks: killed by SIGTERM, or KeyboardInterrupt (exit code 130) for SIGINT, as over stdio.
GRACE_SECONDS = 2


def serve_http(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from videogen_mcp.app import build_server

    if not settings.http_token and not _is_loopback(host):
        raise ConfigError(f"refusing to serve on {host} without VIDEOGEN_HTTP_TOKEN; set it or use 127.0.0.1")
    server = build_server(settings, transport="streamable-http")
    security = transport_security(host, settings.http_allowed_hosts)
    app: Any = server.streamable_http_app(host=host, transport_security=security, max_request_body_size=MAX_BODY_BYTES)
    if settings.http_token:
        app = BearerGuard(app, settings.http_token)
    uvicorn.Server(uvicorn_config(app, host, port)).run()  # not uvicorn.run, which turns a deferred SIGINT into 0


def uvicorn_config(app: Any, host: str, port: int) -> Any:
    """uvicorn with a deadline for each whole request (see http_deadline), idle connections closed after 5 s, and
    running calls cut 2 s after a stop signal."""
    import uvicorn

    from videogen_mcp.http_deadline import SlowClientCutoff

    return uvicorn.Config(app, host=host, port=port, log_level="warning", http=SlowClientCutoff,
                          timeout_keep_alive=KEEP_ALIVE_SECONDS, timeout_graceful_shutdown=GRACE_SECONDS)


def transport_security(host: str, extra_hosts: tuple[str, ...] = ()) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: only requests whose Host (and Origin, when sent) names this
    machine's loopback, the bound address, or VIDEOGEN_HTTP_ALLOWED_HOSTS reach the server."""
    names = ["127.0.0.1", "localhost", "[::1]"]
    if host not in ("0.0.0.0", "::", ""):
        names.append(f"[{host}]" if ":" in host else host)
    names += extra_hosts
    hosts = [form for name in dict.fromkeys(names) for form in (name, f"{name}:*")]
    origins = [f"{scheme}://{form}" for form in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts,
                                     allowed_origins=origins)


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
