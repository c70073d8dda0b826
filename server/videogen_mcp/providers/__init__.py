"""Provider adapters, one file each, and the registry that builds them from settings."""

from __future__ import annotations

from videogen_mcp.config import Settings
from videogen_mcp.http import HttpClient
from videogen_mcp.providers.aimlapi import AimlApi
from videogen_mcp.providers.base import Adapter, PollResult, SubmitRequest
from videogen_mcp.providers.gptproto import GptProto
from videogen_mcp.providers.local import Local
from videogen_mcp.providers.myrouter import MyRouter
from videogen_mcp.providers.wavespeed import WaveSpeed
from videogen_mcp.urlguard import UrlGuard

#: The hosted providers, built from an API key and a base URL.
ADAPTERS: dict[str, type[Adapter]] = {a.name: a for a in (WaveSpeed, GptProto, AimlApi, MyRouter)}

__all__ = ["ADAPTERS", "Adapter", "PollResult", "SubmitRequest", "build_adapters"]


def build_adapters(settings: Settings, client: HttpClient) -> dict[str, Adapter]:
    """One adapter per configured provider, the offline `local` one included when PyAV is installed."""
    adapters: dict[str, Adapter] = {
        name: cls(settings.api_keys[name], settings.base_urls.get(name), client)
        for name, cls in ADAPTERS.items()
        if settings.configured(name)
    }
    if settings.configured("local"):
        adapters["local"] = Local(settings.data_dir / "local", client, UrlGuard(settings.allow_private_urls))
    return adapters
