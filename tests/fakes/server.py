"""FakeServer: one loopback HTTP server that mounts every fake provider under its prefix."""

from __future__ import annotations

import hashlib
import json
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from .aimlapi import AimlApiProvider
from .base import FakeError, FakeProvider, Recorded, Reply
from .myrouter import MyRouterProvider
from .wavespeed import GPTProtoProvider, WaveSpeedProvider

MP4_HEAD = b"\x00\x00\x00\x18ftypmp42"
VIDEO_SIZE = 64 * 1024
IMAGE_EXTS = {"png", "jpg", "jpeg", "webp"}


def parse_json(raw: bytes):
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # a burst of submits must not overflow socketserver's default backlog of 5

    def handle_error(self, request, client_address) -> None:
        pass  # client resets are part of the tests; never print


class FakeServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.url = ""
        self.downloads: list[Recorded] = []
        self.download_errors: list[FakeError] = []
        self.uploaded: dict[str, tuple[bytes, str]] = {}
        self.bugs: list[str] = []  # tracebacks of exceptions inside the fake (answered as 500)
        classes = (WaveSpeedProvider, GPTProtoProvider, AimlApiProvider, MyRouterProvider)
        self.providers: dict[str, FakeProvider] = {cls.name: cls(self) for cls in classes}
        self._httpd: QuietServer | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self._httpd = QuietServer(("127.0.0.1", 0), make_handler(self))
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def provider(self, name: str) -> FakeProvider:
        return self.providers[name]

    def base_url(self, name: str) -> str:
        return self.providers[name].base_url

    def api_key(self, name: str) -> str:
        return self.providers[name].key

    def file_bytes(self, job_id: str) -> bytes:
        seed = hashlib.sha256(job_id.encode()).digest()
        filler = seed * (VIDEO_SIZE // len(seed) + 1)
        return (MP4_HEAD + filler)[:VIDEO_SIZE]

    def add_upload(self, data: bytes, filename: str | None, content_type: str | None) -> str:
        ext = (filename or "").rpartition(".")[2].lower()
        ext = ext if ext in IMAGE_EXTS else "png"
        with self.lock:
            name = f"{len(self.uploaded) + 1}.{ext}"
            self.uploaded[name] = (data, content_type or f"image/{ext}")
        return f"{self.url}/files/uploads/{name}"

    def dispatch(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        prefix, _, rest = parts.path.lstrip("/").partition("/")
        req = Recorded(method, "/" + rest, query, headers, parse_json(raw), raw, "other")
        if prefix in self.providers:
            return self.providers[prefix].handle(req)
        if prefix == "files" and method == "GET":
            return self.serve_file(req)
        return Reply(404, b"not found", "text/plain")

    def serve_file(self, req: Recorded) -> Reply:
        req.kind, req.path = "download", "/files" + req.path
        with self.lock:
            self.downloads.append(req)
            err = self.download_errors.pop(0) if self.download_errors else None
        if err is not None:
            body = err.body if err.body is not None else f"<html><body>{err.status}</body></html>"
            body = body if isinstance(body, str) else json.dumps(body)
            return Reply(err.status, body.encode(), "text/html", dict(err.headers))
        name = unquote(req.path.removeprefix("/files/"))
        if name.startswith("uploads/") and name[8:] in self.uploaded:
            data, content_type = self.uploaded[name[8:]]
            return Reply(200, data, content_type)
        job_id = name[:-4] if name.endswith(".mp4") else None
        if job_id is not None and any(job_id in p.jobs for p in self.providers.values()):
            return Reply(200, self.file_bytes(job_id), "video/mp4")
        return Reply(404, b"<html><body>404 Not Found</body></html>", "text/html")


def make_handler(fake: FakeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                reply = fake.dispatch(self.command, self.path, headers, raw)
            except Exception:  # a bug in the fake: answer it rather than print it
                fake.bugs.append(traceback.format_exc())
                reply = Reply(500, fake.bugs[-1].encode(), "text/plain")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, str(value))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(reply.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = serve

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler
