"""InternalService: a loopback HTTP server standing for a service on the server's own network (SSRF target)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler

from .server import QuietServer

SECRET = b"internal secret: metadata token"


class InternalService:
    """Answers every GET with SECRET and records the paths asked; a test asserts it was never asked."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.url = ""
        self._httpd: QuietServer | None = None

    def __enter__(self) -> InternalService:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(SECRET)))
                self.end_headers()
                self.wfile.write(SECRET)

            def log_message(self, format: str, *args) -> None:
                pass

        self._httpd = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        assert self._httpd is not None
        self._httpd.shutdown()
        self._httpd.server_close()
