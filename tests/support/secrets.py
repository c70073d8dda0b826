"""Canary keys and a haystack of everything the server said or wrote, to search for secrets and image payloads."""

from __future__ import annotations

import base64
import json
import sys
import uuid
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client

from tests.fakes import FakeProvider
from tests.support.clients import text_of
from tests.support.observed import observed_client
from tests.support.servers import PROVIDERS

#: Runs the real command line with every logger at DEBUG (the CLI sets INFO, and httpx2 to WARNING).
DEBUG_LAUNCHER = """
import logging
_basic, _set = logging.basicConfig, logging.Logger.setLevel
logging.basicConfig = lambda **kw: _basic(**{**kw, "level": logging.DEBUG})
logging.Logger.setLevel = lambda self, level: _set(self, logging.DEBUG)
from videogen_mcp.cli import main
main()
"""
#: A secret's random part leaks if any run of this many of its characters shows up anywhere.
WINDOW = 10


def canary(provider: str) -> str:
    return f"canary-{provider}-{uuid.uuid4().hex}"


class Haystack:
    """Everything the server said or wrote, to be searched for secrets and image payloads."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []  # (where, text)

    def add(self, where: str, value: Any) -> None:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        elif not isinstance(value, str):
            value = json.dumps(value, default=_dump, ensure_ascii=False)
        self.texts.append((where, value))

    def add_result(self, where: str, result: Any) -> None:
        self.add(where, text_of(result))
        self.add(where + " (structured)", result.structured_content)

    def add_files(self, root: Path) -> int:
        files = [p for p in sorted(root.rglob("*")) if p.is_file()]
        for path in files:
            self.add(f"file {path.relative_to(root)}", path.read_bytes())
        return len(files)

    def leaks(self, secret: str) -> list[str]:
        """Where the secret, or any WINDOW characters of its random part, appears."""
        random_part = secret.rsplit("-", 1)[1]
        needles = [secret] + [random_part[i:i + WINDOW] for i in range(len(random_part) - WINDOW + 1)]
        found = {}
        for where, text in self.texts:
            needle = next((n for n in needles if n in text), None)
            if needle is not None and where not in found:
                at = text.find(needle)
                found[where] = f"{where}: ...{text[max(0, at - 80):at + 60]!r}..."
        return list(found.values())

    def contains(self, needle: str) -> list[str]:
        return [where for where, text in self.texts if needle in text]


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if dump else repr(value)


def payload_needles(data: bytes) -> list[str]:
    """Pieces of the image's base64 (start and middle) and of its raw bytes (as the Haystack decodes them)."""
    b64 = base64.b64encode(data).decode()
    middle = len(b64) // 2
    return [b64[:40], b64[middle:middle + 40], data[len(data) // 2:len(data) // 2 + 40].decode("latin-1")]


@pytest.fixture
def canaries(fake, monkeypatch) -> dict[str, str]:
    """A fresh canary key per provider, which the fakes accept as the right key."""
    keys = {name: canary(name) for name in PROVIDERS}
    monkeypatch.setattr(FakeProvider, "key", property(lambda self: keys[self.name]))
    return keys


def debug_server(env: dict, stderr: Path, **kwargs: Any) -> AbstractAsyncContextManager[Client]:
    return observed_client(env, stderr, command=sys.executable, args=["-c", DEBUG_LAUNCHER], **kwargs)
