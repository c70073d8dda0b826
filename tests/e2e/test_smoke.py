import pytest

pytestmark = pytest.mark.anyio


async def test_generate_video_completes_on_wavespeed(start_server, png, fake):
    async with start_server("legacy") as client:
        result = await client.call_tool("generate_video", {"image": str(png), "prompt": "a cat waves", "wait_seconds": 20})
        print(result)
        assert not result.is_error
        assert result.structured_content["status"] == "completed"
