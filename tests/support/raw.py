"""A raw JSON-RPC client over the server's stdio, for what the SDK client hides (a task-augmented tools/call)."""

from __future__ import annotations

import itertools
import json
import os
import select
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

from tests.support.servers import SERVER_COMMAND

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"


class RawClient:
    """One server process spoken to line by line; keeps every notification it sends."""

    def __init__(self, env: dict, era: str = LEGACY, extensions: dict | None = None, stderr: Any = None) -> None:
        self.era = era
        self.extensions = extensions
        self.notifications: list[dict] = []
        self._ids = itertools.count(1)
        # Unbuffered: select() then readline() on a buffered pipe misses a second line read ahead in one chunk.
        self.proc = subprocess.Popen([SERVER_COMMAND], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     bufsize=0, stderr=stderr or subprocess.DEVNULL)
        if era == LEGACY:
            self.request("initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                        "clientInfo": {"name": "raw", "version": "0"}})
            self._send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def request(self, method: str, params: dict | None = None, timeout: float = 30) -> dict:
        """Send a request and return its whole response message (`result` or `error`)."""
        return self._response(self.send(method, params), timeout)

    def send(self, method: str, params: dict | None = None) -> int:
        """Send a request without waiting for its answer (a `subscriptions/listen` stream); return its id."""
        request_id = next(self._ids)
        params = dict(params or {})
        if self.era == MODERN:
            meta = {"io.modelcontextprotocol/protocolVersion": MODERN,
                    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
                    "io.modelcontextprotocol/clientCapabilities": {"extensions": self.extensions or {}},
                    **params.get("_meta", {})}
            params["_meta"] = meta
        self._send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        return request_id

    def call(self, tool: str, arguments: dict, **extra: Any) -> dict:
        return self.request("tools/call", {"name": tool, "arguments": arguments, **extra})

    def wait_for(self, method: str, timeout: float = 30, where: Callable[[dict], bool] | None = None) -> dict:
        """The first notification of this method whose params pass `where` (already received or still to come)."""
        deadline = time.monotonic() + timeout
        while True:
            for note in self.notifications:
                if note["method"] == method and (where is None or where(note.get("params") or {})):
                    return note
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {method} within {timeout} s")
            self._read(left)

    def _send(self, message: dict) -> None:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def _response(self, request_id: int, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self._read(left)
            if message is not None and message.get("id") == request_id and "method" not in message:
                return message
        raise TimeoutError(f"no answer to request {request_id} within {timeout} s")

    def _read(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        if not line:
            raise EOFError("the server closed its output")
        message = json.loads(line)
        if "method" in message and "id" not in message:
            self.notifications.append(message)
        return message

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(timeout=20)
