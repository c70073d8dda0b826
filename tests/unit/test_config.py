"""Settings from environment variables: defaults, keys, base URLs, and one clear sentence per bad value."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from videogen_mcp.config import PROVIDERS, load_settings
from videogen_mcp.errors import ConfigError

SECRET = "sk-live-SECRET-42"


def test_defaults_when_nothing_is_set():
    settings = load_settings({"HOME": "/home/u"})
    assert settings.api_keys == {}
    assert settings.base_urls == {}
    assert settings.default_provider is None
    assert settings.chosen_default() == "local"
    assert settings.download is True
    assert settings.poll_interval is None
    assert settings.poll_max_interval is None
    assert settings.http_token is None
    assert settings.allow_local_files is False
    assert [p for p in PROVIDERS if settings.configured(p)] == []
    assert settings.configured("local")


@pytest.mark.skipif(sys.platform != "linux", reason="the default data dir is platform specific")
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HOME": "/home/u"}, "/home/u/.local/share/videogen-mcp"),
        ({"HOME": "/home/u", "XDG_DATA_HOME": "/xdg"}, "/xdg/videogen-mcp"),
        ({"HOME": "/home/u", "VIDEOGEN_DATA_DIR": "/srv/videos"}, "/srv/videos"),
        ({"HOME": "/home/u", "VIDEOGEN_DATA_DIR": "  /srv/videos  "}, "/srv/videos"),
    ],
)
def test_data_dir_default_and_override(env, expected):
    assert load_settings(env).data_dir == Path(expected)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_key_and_base_url_configure_a_provider(provider):
    name = provider.upper()
    settings = load_settings({
        f"{name}_API_KEY": f"  {SECRET}\n",
        f"{name}_BASE_URL": "http://127.0.0.1:9000/prefix/",
    })
    assert settings.api_keys == {provider: SECRET}
    assert settings.base_urls == {provider: "http://127.0.0.1:9000/prefix"}
    assert settings.configured(provider)
    assert settings.chosen_default() == provider


@pytest.mark.parametrize("value", ["", "   "])
def test_blank_key_leaves_the_provider_unconfigured(value):
    settings = load_settings({"WAVESPEED_API_KEY": value})
    assert not settings.configured("wavespeed")
    assert settings.chosen_default() == "local"


@pytest.mark.parametrize(
    ("keys", "default"),
    [
        (("WAVESPEED", "GPTPROTO", "AIMLAPI", "MYROUTER"), "wavespeed"),
        (("MYROUTER", "AIMLAPI", "GPTPROTO"), "gptproto"),
        (("MYROUTER", "AIMLAPI"), "aimlapi"),
        (("MYROUTER",), "myrouter"),
        ((), "local"),
    ],
)
def test_chosen_default_is_the_first_configured_in_order(keys, default):
    assert load_settings({f"{k}_API_KEY": "k" for k in keys}).chosen_default() == default


@pytest.mark.parametrize("value", ["myrouter", "MyRouter", " local "])
def test_default_provider_variable_wins(value):
    settings = load_settings({"WAVESPEED_API_KEY": "k", "VIDEOGEN_DEFAULT_PROVIDER": value})
    assert settings.chosen_default() == value.strip().lower()


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("VIDEOGEN_POLL_INTERVAL", "abc", "must be a number of seconds, got 'abc'"),
        ("VIDEOGEN_POLL_INTERVAL", "-1", "must be between 0 and 3600 seconds, got '-1'"),
        ("VIDEOGEN_POLL_INTERVAL", "0", "must be between 0 and 3600 seconds"),
        ("VIDEOGEN_POLL_MAX_INTERVAL", "5s", "must be a number of seconds"),
        ("VIDEOGEN_POLL_MAX_INTERVAL", "99999", "must be between 0 and 3600 seconds"),
        ("VIDEOGEN_DEFAULT_PROVIDER", "openai", "must be one of wavespeed, gptproto, aimlapi, myrouter, local"),
        ("VIDEOGEN_POLL_BUDGET", "fast", "must be a number of requests per second, got 'fast'"),
        ("VIDEOGEN_POLL_BUDGET", "-2", "must be between 0 (no limit) and 10000 requests per second"),
        ("VIDEOGEN_HTTP_ALLOWED_HOSTS", "https://x.example/", "must be host names separated by commas"),
        ("VIDEOGEN_DOWNLOAD", "maybe", "must be 1 or 0, got 'maybe'"),
        ("VIDEOGEN_ALLOW_LOCAL_FILES", "sometimes", "must be 1 or 0"),
        ("WAVESPEED_BASE_URL", "api.wavespeed.ai", "must start with http:// or https://"),
        ("MYROUTER_BASE_URL", "ftp://h/x", "must start with http:// or https://"),
    ],
)
def test_bad_value_is_a_config_error_naming_the_variable(name, value, words):
    with pytest.raises(ConfigError) as caught:
        load_settings({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name} ")
    assert words in message
    assert "\n" not in message


@pytest.mark.parametrize(("value", "expected"), [("0.05", 0.05), ("3", 3.0), (" 15 ", 15.0), ("3600", 3600.0)])
def test_poll_intervals_are_read_as_seconds(value, expected):
    settings = load_settings({"VIDEOGEN_POLL_INTERVAL": value, "VIDEOGEN_POLL_MAX_INTERVAL": value})
    assert settings.poll_interval == settings.poll_max_interval == expected


def test_allowed_hosts_are_a_comma_list():
    settings = load_settings({"VIDEOGEN_HTTP_ALLOWED_HOSTS": " Videogen.Internal, 10.0.0.5 ,,"})
    assert settings.http_allowed_hosts == ("videogen.internal", "10.0.0.5")


@pytest.mark.parametrize(("value", "expected"), [("", None), ("0", 0.0), ("2.5", 2.5)])
def test_poll_budget_is_requests_per_second_and_0_lifts_it(value, expected):
    assert load_settings({"VIDEOGEN_POLL_BUDGET": value}).poll_budget == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), ("on", True), ("0", False), ("false", False), ("No", False),
     ("off", False)],
)
def test_flags_accept_the_usual_spellings(value, expected):
    settings = load_settings({"VIDEOGEN_DOWNLOAD": value, "VIDEOGEN_ALLOW_LOCAL_FILES": value})
    assert settings.download is settings.allow_local_files is expected


def test_settings_repr_never_shows_a_key_or_token():
    env = {f"{p.upper()}_API_KEY": f"{SECRET}-{p}" for p in PROVIDERS}
    env["VIDEOGEN_HTTP_TOKEN"] = "tok-SECRET-http"
    settings = load_settings(env)
    assert settings.http_token == "tok-SECRET-http"
    for text in (repr(settings), str(settings), f"{settings!r}"):
        assert "SECRET" not in text
        assert "configured=['wavespeed', 'gptproto', 'aimlapi', 'myrouter']" in text
