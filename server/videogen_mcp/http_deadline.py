"""Cuts off HTTP clients that send a request too slowly: uvicorn bounds neither headers nor body in time."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

#: A request's headers and body must all arrive within this many seconds of the connection opening (or of
#: the previous response ending): a 16 MB body (the largest admitted) needs an uplink of 2.3 Mbit/s. A response
#: may then take as long as it likes (an SSE stream, a long wait_seconds).
REQUEST_SECONDS = 60.0


class SlowClientCutoff(H11Protocol):
    """uvicorn's h11 protocol with one deadline for receiving each whole request; past it the connection is closed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        super().connection_lost(exc)

    def _arm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = self.loop.call_later(REQUEST_SECONDS, self._cut_off_if_incomplete, self.cycle)

    def _cut_off_if_incomplete(self, cycle_when_armed: Any) -> None:
        """Close unless a new request has arrived whole (its response may take as long as it likes)."""
        if self.transport.is_closing():
            return
        if self.cycle is cycle_when_armed or self.cycle.more_body:
            self.transport.close()
