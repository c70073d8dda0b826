"""Client-side recorders for end-to-end tests: progress, notifications, and the text of a tool result."""

from __future__ import annotations

from typing import Any


class ProgressLog:
    """A progress_callback that records (progress, total, message)."""

    def __init__(self) -> None:
        self.events: list[tuple[float, float | None, str | None]] = []

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.events.append((progress, total, message))

    @property
    def values(self) -> list[float]:
        return [p for p, _, _ in self.events]


class MessageLog:
    """A message_handler that records server notifications by method name."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)

    def methods(self) -> list[str]:
        return [getattr(m, "method", type(m).__name__) for m in self.messages]

    def updated_uris(self) -> list[str]:
        updated = [m for m in self.messages if getattr(m, "method", "") == "notifications/resources/updated"]
        return [str(m.params.uri) for m in updated]


def text_of(result: Any) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)
