"""GPTProto: WaveSpeed's routes and envelope, with the raw key (no Bearer) and local images as data URIs."""

from __future__ import annotations

from videogen_mcp.providers.wavespeed import WaveSpeed


class GptProto(WaveSpeed):
    name = "gptproto"
    default_base_url = "https://gptproto.com"
    image_transport = "data_uri"
    duration_type = int

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": self._api_key}

    async def cancel(self, provider_task_id: str) -> bool | None:
        return None  # GPTProto documents no cancel, though it shares WaveSpeed's routes
