"""Settings read from environment variables; a bad value becomes one ConfigError sentence."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from videogen_mcp.errors import ConfigError
from videogen_mcp.providers import REGISTRY, registered

#: The providers that need an account, in the default order; ALL_PROVIDERS adds those that do not.
PROVIDERS = tuple(cls.name for cls in REGISTRY if cls.key_env_var)
ALL_PROVIDERS = tuple(cls.name for cls in REGISTRY)


def pyav_installed() -> bool:
    """Whether PyAV (the `local` extra) is installed: looked up without importing it, so start-up stays fast."""
    try:
        return importlib.util.find_spec("av") is not None
    except (ImportError, ValueError):
        return False


def key_variable(provider: str) -> str:
    return getattr(registered(provider), "key_env_var", None) or f"{provider.upper()}_API_KEY"


def base_url_variable(provider: str) -> str:
    return getattr(registered(provider), "base_url_env_var", None) or f"{provider.upper()}_BASE_URL"


def _keyless_default() -> str:
    """The first provider that needs no account: the default when no key is set."""
    return next(cls.name for cls in REGISTRY if not cls.key_env_var)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    api_keys: Mapping[str, str] = field(default_factory=dict)
    base_urls: Mapping[str, str] = field(default_factory=dict)
    default_provider: str | None = None
    download: bool = True
    poll_interval: float | None = None
    poll_max_interval: float | None = None
    poll_budget: float | None = None
    http_token: str | None = None
    http_allowed_hosts: tuple[str, ...] = ()
    allow_local_files: bool = False
    #: Let the server's own fetches (videos, local's image URLs) reach loopback and private addresses.
    allow_private_urls: bool = False
    #: The offline `local` provider renders with PyAV, an optional extra: without it, local is not configured.
    local_available: bool = field(default_factory=pyav_installed)
    #: VIDEOGEN_PROVIDER_ORDER: the providers a call naming none tries, in order; None: default_order().
    provider_order: tuple[str, ...] | None = None
    #: VIDEOGEN_DAILY_BUDGET_USD: the most tasks created in any rolling 24 h may cost together; None: no cap.
    daily_budget_usd: float | None = None
    #: VIDEOGEN_CONFIRM_ABOVE_USD: a generation priced above it is confirmed by the user first; None: never ask.
    confirm_above_usd: float | None = None
    #: VIDEOGEN_DATABASE_URL: tasks in PostgreSQL (shared by replicas) instead of SQLite in data_dir.
    database_url: str | None = None

    def configured(self, provider: str) -> bool:
        cls = registered(provider)
        return cls is not None and cls.configured(self)

    def chosen_default(self) -> str:
        """VIDEOGEN_DEFAULT_PROVIDER, else the first hosted provider with a key, else `local` (even uninstalled:
        a call then says how to set a key or install the extra)."""
        if self.default_provider:
            return self.default_provider
        return next((p for p in PROVIDERS if self.configured(p)), _keyless_default())

    def pool_order(self) -> tuple[str, ...]:
        """Who a call naming no provider tries, in order: VIDEOGEN_PROVIDER_ORDER, else the default provider and
        then the other configured hosted ones (whether each is configured and serves the model is checked later)."""
        if self.provider_order is not None:
            return self.provider_order
        default = self.chosen_default()
        return (default, *(p for p in PROVIDERS if p != default and self.configured(p)))

    def __repr__(self) -> str:  # never show keys or tokens
        return f"Settings(data_dir={self.data_dir!s}, configured={[p for p in PROVIDERS if self.configured(p)]})"


def default_data_dir(environ: Mapping[str, str]) -> Path:
    home = Path(environ.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "videogen-mcp"
    if sys.platform == "win32":
        base = environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "videogen-mcp"
    return Path(environ.get("XDG_DATA_HOME") or home / ".local" / "share") / "videogen-mcp"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    data_dir = env.get("VIDEOGEN_DATA_DIR", "").strip()
    return Settings(
        data_dir=Path(data_dir).expanduser() if data_dir else default_data_dir(env),
        api_keys={p: env[key_variable(p)].strip() for p in PROVIDERS if env.get(key_variable(p), "").strip()},
        base_urls={p: _base_url(env, p) for p in PROVIDERS if env.get(base_url_variable(p), "").strip()},
        default_provider=_provider_name(env, "VIDEOGEN_DEFAULT_PROVIDER"),
        provider_order=_provider_order(env, "VIDEOGEN_PROVIDER_ORDER"),
        download=_flag(env, "VIDEOGEN_DOWNLOAD", True),
        poll_interval=_seconds(env, "VIDEOGEN_POLL_INTERVAL"),
        poll_max_interval=_seconds(env, "VIDEOGEN_POLL_MAX_INTERVAL"),
        poll_budget=_rate(env, "VIDEOGEN_POLL_BUDGET"),
        http_token=env.get("VIDEOGEN_HTTP_TOKEN") or None,
        http_allowed_hosts=_host_names(env, "VIDEOGEN_HTTP_ALLOWED_HOSTS"),
        allow_local_files=_flag(env, "VIDEOGEN_ALLOW_LOCAL_FILES", False),
        allow_private_urls=_flag(env, "VIDEOGEN_ALLOW_PRIVATE_URLS", False),
        daily_budget_usd=_dollars(env, "VIDEOGEN_DAILY_BUDGET_USD"),
        confirm_above_usd=_dollars(env, "VIDEOGEN_CONFIRM_ABOVE_USD"),
        database_url=_database_url(env, "VIDEOGEN_DATABASE_URL"),
    )


def _base_url(env: Mapping[str, str], provider: str) -> str:
    name = base_url_variable(provider)
    value = env[name].strip().rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://, got {value!r}")
    return value


def _database_url(env: Mapping[str, str], name: str) -> str | None:
    """A postgresql:// URL, else a ConfigError that never quotes it (it may carry a password)."""
    url = env.get(name, "").strip()
    if not url:
        return None
    if not url.startswith(("postgresql://", "postgres://")):
        scheme = url.split("://", 1)[0][:20] if "://" in url else "no scheme"
        raise ConfigError(f"{name} must be a postgresql://user:password@host:5432/dbname URL, got one with "
                          f"{scheme!r}")
    try:
        urlsplit(url).port  # noqa: B018  (a bad port raises ValueError)
    except ValueError:
        raise ConfigError(f"{name} is not a valid URL; write it as postgresql://user:password@host:5432/dbname") \
            from None
    return url


def _provider_name(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip().lower()
    if value and value not in ALL_PROVIDERS:
        raise ConfigError(f"{name} must be one of {', '.join(ALL_PROVIDERS)}, got {value!r}")
    return value or None


def _provider_order(env: Mapping[str, str], name: str) -> tuple[str, ...] | None:
    value = env.get(name, "").strip().lower()
    if not value:
        return None
    names = [n.strip() for n in value.split(",")]
    bad = next((n for n in names if n not in ALL_PROVIDERS), None)
    if bad is not None:
        raise ConfigError(f"{name} must be provider names separated by commas ({', '.join(ALL_PROVIDERS)}), "
                          f"got {bad!r}")
    return tuple(dict.fromkeys(names))


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be 1 or 0, got {value!r}")


def _seconds(env: Mapping[str, str], name: str) -> float | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 3600:
        raise ConfigError(f"{name} must be between 0 and 3600 seconds, got {value!r}")
    return seconds


def _rate(env: Mapping[str, str], name: str) -> float | None:
    value = env.get(name, "").strip()
    if not value:
        return None
    try:
        rate = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of requests per second, got {value!r}") from None
    if not 0 <= rate <= 10_000:
        raise ConfigError(f"{name} must be between 0 (no limit) and 10000 requests per second, got {value!r}")
    return rate


def _dollars(env: Mapping[str, str], name: str) -> float | None:
    value = env.get(name, "").strip().lstrip("$")
    if not value:
        return None
    try:
        dollars = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be an amount in US dollars such as 5 or 12.50, got {env[name].strip()!r}") \
            from None
    if not 0 <= dollars <= 1_000_000:
        raise ConfigError(f"{name} must be between 0 and 1000000 US dollars, got {env[name].strip()!r}")
    return dollars


def _host_names(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    names = tuple(n.strip().lower() for n in env.get(name, "").split(",") if n.strip())
    bad = [n for n in names if not n.replace(".", "").replace("-", "").replace("[", "").replace("]", "")
           .replace(":", "").isalnum()]
    if bad:
        raise ConfigError(f"{name} must be host names separated by commas (no scheme, no port), got {bad[0]!r}")
    return names
