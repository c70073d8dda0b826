"""Pixel bombs and a 150 MB data URI are refused before any decoding, over stdio and on the command line."""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image

from tests.conftest import SERVER_COMMAND, server_env, stdio_client
from tests.e2e.helpers import text_of
from tests.e2e.observed import server_pids, status_kb

pytestmark = pytest.mark.anyio

#: What the SDK itself needs to read, parse and validate a 150 MB line, with room to spare; decoding the
#: base64 and copying it on top (as the server did before sizing data URIs first) passes it.
MAX_GROWTH_MB = 700


async def test_a_150_mb_data_uri_is_refused_before_decoding(fake, tmp_path):
    data_dir = tmp_path / "data"
    huge = "data:image/png;base64," + "A" * 150_000_000
    async with stdio_client(server_env(fake, data_dir)) as client:
        await client.call_tool("list_providers", {})
        [pid] = server_pids(data_dir)
        before = status_kb(pid, "VmHWM")
        result = await client.call_tool("generate_video", {"image": huge, "prompt": "a cat waves", "wait_seconds": 0})
        grown_mb = (status_kb(pid, "VmHWM") - before) / 1024
    print(f"\na 150 MB data URI grew the server's peak memory (VmHWM) by {grown_mb:.0f} MB")
    assert result.is_error
    assert "112.5 MB; the limit is 10 MB" in text_of(result), text_of(result)
    assert grown_mb < MAX_GROWTH_MB, f"the server's peak memory grew by {grown_mb:.0f} MB"
    assert fake.provider("wavespeed").submits() == []


def test_the_command_line_refuses_a_pixel_bomb_before_any_provider_call(fake, tmp_path):
    bomb = tmp_path / "bomb.png"
    buffer = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buffer, format="PNG")
    bomb.write_bytes(buffer.getvalue())
    done = subprocess.run([SERVER_COMMAND, "generate", "--image", str(bomb), "--prompt", "a cat waves"],
                          env=server_env(fake, tmp_path / "data"), capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and done.stdout == ""
    assert "12000x12000 (144 megapixels); at most 64 megapixels are accepted" in done.stderr, done.stderr
    assert fake.provider("wavespeed").submits() == []
