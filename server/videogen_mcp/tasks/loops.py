"""Background loops that outlive their errors: a broken store is logged and retried, never fatal."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import anyio

from videogen_mcp.http import backoff

log = logging.getLogger(__name__)

#: Wait before the first retry of a step that failed; it doubles with each failure in a row, up to LONGEST_RETRY.
FIRST_RETRY = 1.0
LONGEST_RETRY = 60.0


async def run_every(seconds: float, step: Callable[[], Awaitable[object]], what: str, *,
                    wait_first: bool = False) -> None:
    """Run `step` every `seconds`, forever. A step that raises is logged and tried again after a growing
    backoff, so one storage error ('no such table', a full disk) never takes the server's task group down."""
    if wait_first:
        await anyio.sleep(seconds)
    failures = 0
    while True:
        try:
            await step()
        except Exception:
            failures += 1
            wait = backoff(failures, base=FIRST_RETRY, cap=LONGEST_RETRY)
            log.exception("%s failed (%d in a row); trying again in %.1f s", what, failures, wait)
        else:
            if failures:
                log.info("%s works again after %d failures", what, failures)
            failures, wait = 0, seconds
        await anyio.sleep(wait)
