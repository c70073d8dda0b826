"""Shared pieces of the fake providers: records, switches, job clock, routing."""

from __future__ import annotations

import email.message
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

JSON = "application/json"
DEFAULT_MESSAGES = {
    400: "Bad request",
    401: "Unauthorized",
    402: "Insufficient balance",
    403: "Forbidden",
    404: "Not found",
    429: "Too many requests",
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


@dataclass
class FakeError:
    """A canned answer; body None means the provider's real error body for status."""

    status: int
    body: dict | str | None = None
    headers: dict = field(default_factory=dict)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any | None
    raw: bytes
    kind: str
    file_bytes: bytes | None = None
    file_content_type: str | None = None
    file_name: str | None = None


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict = field(default_factory=dict)


@dataclass
class FakeJob:
    id: str
    model: str
    body: Any
    seconds: float
    fail_reason: str | None = None
    started: float = field(default_factory=time.monotonic)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: Wall clock (time.time()) at submit, taken with `started`: the job's timeline on the machine clock.
    submitted_at: float = field(default_factory=time.time)
    polls: int = 0  # status requests answered for this job
    first_finished_poll_at: float | None = None  # wall time the first poll answered completed/failed

    @property
    def ready_at(self) -> float:
        """Wall time (time.time()) at which the job's status turned completed or failed."""
        return self.submitted_at + self.seconds

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def phase(self) -> str:
        """queued, processing, completed or failed, by the job clock."""
        elapsed = self.elapsed()
        if elapsed >= self.seconds:
            return "failed" if self.fail_reason is not None else "completed"
        return "queued" if elapsed < self.seconds * 0.3 else "processing"

    def progress(self) -> int:
        phase = self.phase()
        if phase in ("completed", "failed"):
            return 100 if phase == "completed" else 0
        if phase == "queued":
            return 0
        return min(99, int(100 * self.elapsed() / self.seconds))

    def eta(self) -> int:
        return max(0, math.ceil(self.seconds - self.elapsed()))


def json_reply(status: int, obj: Any, headers: dict | None = None) -> Reply:
    return Reply(status, json.dumps(obj).encode(), JSON, dict(headers or {}))


def new_id() -> str:
    return uuid.uuid4().hex


def iso_ms(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def header_param(value: str, param: str, header: str = "content-type") -> str | None:
    msg = email.message.Message()
    msg[header] = value
    return msg.get_param(param, header=header)


def parse_multipart(raw: bytes, content_type: str) -> dict[str, tuple[bytes, str | None, str | None]]:
    """Form fields by name: (data, part content-type, filename)."""
    boundary = header_param(content_type, "boundary")
    if not boundary:
        return {}
    fields = {}
    for part in raw.split(b"--" + boundary.encode())[1:-1]:
        head, _, data = part.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("latin-1").strip().split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        name = header_param(disposition, "name", "content-disposition")
        filename = header_param(disposition, "filename", "content-disposition")
        data = data[:-2] if data.endswith(b"\r\n") else data
        fields[name] = (data, headers.get("content-type"), filename)
    return fields


def scale_problem(body: dict, key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        return f"{key} must be a number between 0 and 1"
    return None


def text_problem(body: dict) -> str | None:
    for key in ("prompt", "negative_prompt"):
        value = body.get(key)
        if value is not None and (not isinstance(value, str) or len(value) > 2500):
            return f"{key} must be a string of at most 2500 characters"
    return None


class FakeProvider:
    """One provider: routes, auth, switches and recorded requests."""

    name = ""
    routes: tuple[tuple[str, str, str, str], ...] = ()  # (method, path regex, kind, handler)
    statuses: ClassVar[dict[str, str]] = {
        "queued": "queued",
        "processing": "processing",
        "completed": "completed",
        "failed": "failed",
    }

    def __init__(self, hub: Any) -> None:
        self.hub = hub
        self.lock = threading.RLock()
        self.job_seconds = 0.3
        self.fail_next: str | None = None
        self.fail_shape = "name_message"
        self.unknown_status: str | None = None
        self.submit_errors: list[FakeError] = []
        self.poll_errors: list[FakeError] = []
        self.job_ids: list[str] = []  # ids the next submits hand out, in order (then fresh ones again)
        self.malformed_next_poll = False
        self.submit_delay = 0.0  # seconds a submit takes to answer (after the job exists)
        #: Per-job length: called with (provider model id, request body) at submit; None uses job_seconds.
        self.job_seconds_for: Callable[[str, Any], float] | None = None
        self.variant: dict = {}
        #: When set, every finished job reports this as its video URL (a hostile provider: file://, a private host).
        self.reported_video_url: str | None = None
        self.requests: list[Recorded] = []
        self.jobs: dict[str, FakeJob] = {}

    @property
    def key(self) -> str:
        return f"test-key-{self.name}"

    @property
    def base_url(self) -> str:
        return f"{self.hub.url}/{self.name}"

    def submits(self) -> list[Recorded]:
        return [r for r in self.requests if r.kind == "submit"]

    def polls(self) -> list[Recorded]:
        return [r for r in self.requests if r.kind == "poll"]

    def cancels(self) -> list[Recorded]:
        return [r for r in self.requests if r.kind == "cancel"]

    def uploads(self) -> list[Recorded]:
        return [r for r in self.requests if r.kind == "upload"]

    # --- errors -----------------------------------------------------------
    def error_body(self, status: int, message: str | None = None, path: str = "/") -> dict:
        raise NotImplementedError

    def default_error_body(self, status: int) -> dict:
        return self.error_body(status)

    def error(self, status: int, message: str | None = None, path: str = "/") -> Reply:
        return json_reply(status, self.error_body(status, message, path))

    def canned(self, err: FakeError, path: str) -> Reply:
        if err.body is None:
            return json_reply(err.status, self.error_body(err.status, path=path), err.headers)
        if isinstance(err.body, str):
            return Reply(err.status, err.body.encode(), "text/html", dict(err.headers))
        return json_reply(err.status, err.body, err.headers)

    def auth_problem(self, req: Recorded) -> Reply | None:
        if req.headers.get("authorization") == f"Bearer {self.key}":
            return None
        return self.error(401, path=req.path)

    # --- dispatch ---------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[str, str | None, re.Match | None]:
        for route_method, pattern, kind, handler in self.routes:
            found = re.fullmatch(pattern, path)
            if found and route_method == method:
                return kind, handler, found
        return "other", None, None

    def take(self, attr: str) -> bool:
        """Read a one-shot boolean switch and reset it."""
        with self.lock:
            value = bool(getattr(self, attr))
            setattr(self, attr, False)
            return value

    def take_variant(self, knob: str) -> bool:
        """Read a one-shot variant knob and remove it."""
        with self.lock:
            return bool(self.variant.pop(knob, False))

    def pop_error(self, kind: str) -> FakeError | None:
        queue = {"submit": self.submit_errors, "poll": self.poll_errors}.get(kind)
        with self.lock:
            return queue.pop(0) if queue else None

    def handle(self, req: Recorded) -> Reply:
        kind, handler, found = self.match(req.method, req.path)
        req.kind = kind
        if kind == "upload":
            self.attach_file(req)
        with self.lock:
            self.requests.append(req)
        err = self.pop_error(kind)
        if err is not None:
            return self.canned(err, req.path)
        denied = self.auth_problem(req)
        if denied is not None:
            return denied
        if kind == "poll" and self.take("malformed_next_poll"):
            return Reply(200, b"not json{")
        if handler is None:
            return self.error(404, path=req.path)
        reply = getattr(self, handler)(req, found)
        if kind == "submit" and self.submit_delay:
            time.sleep(self.submit_delay)  # a slow provider: the job exists, the answer is late
        return reply

    def attach_file(self, req: Recorded) -> None:
        fields = parse_multipart(req.raw, req.headers.get("content-type", ""))
        if "file" in fields:
            req.file_bytes, req.file_content_type, req.file_name = fields["file"]

    # --- jobs -------------------------------------------------------------
    def next_job_id(self, fresh: str) -> str:
        """The id for a new job: the next one queued in `job_ids`, else `fresh`."""
        with self.lock:
            return self.job_ids.pop(0) if self.job_ids else fresh

    def new_job(self, job_id: str, model: str, body: Any) -> FakeJob:
        with self.lock:
            reason, self.fail_next = self.fail_next, None
            seconds = self.job_seconds_for(model, body) if self.job_seconds_for else self.job_seconds
            job = FakeJob(job_id, model, body, seconds, reason)
            self.jobs[job_id] = job
        return job

    def count_poll(self, job: FakeJob) -> None:
        """Note one status request for the job, and when a poll first saw it finished."""
        with self.lock:
            job.polls += 1
            if job.first_finished_poll_at is None and job.phase() in ("completed", "failed"):
                job.first_finished_poll_at = time.time()

    def status_of(self, job: FakeJob) -> str:
        override = self.unknown_status
        return override if override is not None else self.statuses[job.phase()]

    def video_url(self, job: FakeJob) -> str:
        if self.reported_video_url is not None:
            return self.reported_video_url
        return f"{self.hub.url}/files/{quote(job.id, safe='')}.mp4"


# --- strict bodies (the models after v2.5) ----------------------------------------------------------------------
Check = Callable[[Any], bool]


def is_text(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 2500


def is_url_or_data(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://", "data:image/"))


def is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def is_scale(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def int_in(*allowed: int) -> Check:
    return lambda value: isinstance(value, int) and not isinstance(value, bool) and value in allowed


@dataclass(frozen=True)
class BodySchema:
    """One model's documented request body: each field it takes with its check; any other field is refused,
    so a field sent to the wrong model (an end frame where there is none) fails here as it would there."""

    fields: dict[str, Check]
    required: tuple[str, ...] = ()
    #: Fields refused together; a field absent counts with its documented default (`defaults`).
    exclusive: tuple[frozenset[str], ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)

    def problem(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "body must be a JSON object"
        missing = [key for key in self.required if key not in body]
        if missing:
            return f"{missing[0]} is required"
        for key, value in body.items():
            check = self.fields.get(key)
            if check is None:
                return f"unknown field {key!r}"
            if not check(value):
                return f"invalid value for {key}: {value!r}"[:200]
        for together in self.exclusive:
            if all({**self.defaults, **body}.get(key) for key in together):
                return f"{' and '.join(sorted(together))} cannot be used together"
        return None
