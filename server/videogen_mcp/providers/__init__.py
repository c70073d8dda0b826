"""The providers, one file each, and the one place that registers them: REGISTRY, in the default order."""

from __future__ import annotations

from typing import TYPE_CHECKING

from videogen_mcp.http import HttpClient
from videogen_mcp.providers.aimlapi import AimlApi
from videogen_mcp.providers.base import Adapter, HttpProvider, PollResult, Provider, SubmitRequest
from videogen_mcp.providers.gptproto import GptProto
from videogen_mcp.providers.local import Local
from videogen_mcp.providers.myrouter import MyRouter
from videogen_mcp.providers.wavespeed import WaveSpeed

if TYPE_CHECKING:
    from videogen_mcp.config import Settings

#: Every provider, in the order a call naming none tries the configured ones (the default provider first).
#: Adding a provider: its file, its catalog rows, its fake in tests/fakes, and one entry here.
REGISTRY: tuple[type[Provider], ...] = (WaveSpeed, GptProto, AimlApi, MyRouter, Local)
#: The hosted providers, built from an API key and a base URL.
ADAPTERS: dict[str, type[HttpProvider]] = {a.name: a for a in (WaveSpeed, GptProto, AimlApi, MyRouter)}

__all__ = ["ADAPTERS", "REGISTRY", "Adapter", "HttpProvider", "PollResult", "Provider", "SubmitRequest",
           "build_adapters", "key_variables", "registered"]


def registered(name: str) -> type[Provider] | None:
    return next((cls for cls in REGISTRY if cls.name == name), None)


def key_variables() -> list[str]:
    return [cls.key_env_var for cls in REGISTRY if cls.key_env_var]


def build_adapters(settings: Settings, client: HttpClient) -> dict[str, Provider]:
    """One provider object per configured provider, in REGISTRY order."""
    return {cls.name: cls.build(settings, client) for cls in REGISTRY if cls.configured(settings)}
