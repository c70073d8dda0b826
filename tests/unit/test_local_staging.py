"""Local after a restart: a finished render whose input was already removed is still reported finished."""

from __future__ import annotations

import httpx2
import pytest

from videogen_mcp.providers.local import Local

pytestmark = pytest.mark.anyio


async def test_a_render_finished_before_a_restart_is_completed_without_its_staged_input(tmp_path):
    (tmp_path / "local-1.mp4").write_bytes(b"video")  # rendered; .src and .json already removed
    local = Local(tmp_path, httpx2.AsyncClient(transport=httpx2.MockTransport(lambda r: httpx2.Response(500))))
    done = await local.poll("local-1")
    gone = await local.poll("local-2")
    assert (done.status, done.video_url) == ("completed", (tmp_path / "local-1.mp4").as_uri())
    assert gone.status == "failed" and "generate again" in (gone.error or "")
