"""The `local` provider is an optional extra: without PyAV it is listed, not configured, and says how to install it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.unit.conftest import offline_client
from videogen_mcp.config import Settings, load_settings, pyav_installed
from videogen_mcp.errors import InvalidInput
from videogen_mcp.providers import build_adapters
from videogen_mcp.tasks.service import GenerateRequest, open_service

INSTALL = "pip install 'videogen-mcp-server[local]'"


def test_pyav_is_found_in_the_dev_environment_without_importing_it(tmp_path):
    """Start-up only looks PyAV up; it is imported when a render starts, so the server starts fast."""
    code = (
        "import sys; from videogen_mcp.app import build_server; from videogen_mcp.config import load_settings; "
        "s = load_settings(); build_server(s, transport='stdio'); "
        "assert s.configured('local'); assert 'av' not in sys.modules, 'av was imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "VIDEOGEN_DATA_DIR": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    assert pyav_installed()


def test_settings_detect_pyav_by_default():
    assert load_settings({"HOME": "/home/u"}).local_available is pyav_installed()


@pytest.mark.parametrize(("available", "configured"), [(True, True), (False, False)])
def test_local_is_configured_only_when_pyav_is_installed(tmp_path, available, configured):
    settings = Settings(data_dir=tmp_path, local_available=available)
    assert settings.configured("local") is configured
    assert settings.chosen_default() == "local"  # with no key; a call then says how to fix it
    assert ("local" in build_adapters(settings, offline_client())) is configured


def test_a_key_makes_its_provider_the_default_whether_or_not_pyav_is_installed(tmp_path):
    for available in (True, False):
        settings = Settings(data_dir=tmp_path, api_keys={"aimlapi": "k"}, local_available=available)
        assert settings.chosen_default() == "aimlapi"


@pytest.mark.anyio
async def test_without_pyav_list_providers_says_how_to_install_local(tmp_path):
    async with open_service(Settings(data_dir=tmp_path, download=False, local_available=False), follow=False) as svc:
        [local] = [p for p in svc.providers() if p.name == "local"]
    assert (local.configured, local.is_default) == (False, True)
    assert INSTALL in local.setup and "not an AI model" in local.setup


@pytest.mark.anyio
async def test_with_pyav_list_providers_says_honestly_what_local_is(tmp_path):
    async with open_service(Settings(data_dir=tmp_path, download=False, local_available=True), follow=False) as svc:
        [local] = [p for p in svc.providers() if p.name == "local"]
    assert local.configured
    assert "not an AI model" in local.setup and "animates the still image" in local.setup


@pytest.mark.anyio
@pytest.mark.parametrize("provider", [None, "local"])
async def test_without_pyav_or_a_key_generate_says_no_provider_is_configured(tmp_path, provider):
    settings = Settings(data_dir=tmp_path, download=False, local_available=False)
    async with open_service(settings, follow=False) as service:
        with pytest.raises(InvalidInput) as raised:
            await service.generate(GenerateRequest("https://cdn.example.com/cat.png", "a cat", provider))
        assert await service.list() == []  # nothing was stored
    message = str(raised.value)
    assert message.startswith("no provider is configured")
    assert "WAVESPEED_API_KEY" in message and INSTALL in message


@pytest.mark.anyio
async def test_without_pyav_asking_for_local_names_the_configured_providers(tmp_path):
    settings = Settings(data_dir=tmp_path, download=False, api_keys={"myrouter": "k"}, local_available=False)
    async with open_service(settings, follow=False) as service:
        with pytest.raises(InvalidInput) as raised:
            await service.generate(GenerateRequest("https://cdn.example.com/cat.png", "a cat", "local"))
    assert str(raised.value) == f"provider 'local' is not installed: run {INSTALL}, or choose a configured provider " \
                                "(myrouter)"
