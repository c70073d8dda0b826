"""Where the server's own fetches may go: http(s) to public addresses, each redirect checked again.

The videos a provider reports and the image URLs the `local` provider reads come from someone else; without
this a provider or a caller could make the server read services on its own network (SSRF).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from urllib.parse import urljoin, urlsplit, urlunsplit

import anyio
import httpx2

from videogen_mcp.http import HttpClient

#: Redirects followed per fetch, each to a checked address.
MAX_REDIRECTS = 5
DEFAULT_PORTS = {"http": 80, "https": 443}
OPT_OUT = "VIDEOGEN_ALLOW_PRIVATE_URLS=1"

#: (host, port) -> every address the name resolves to.
Resolver = Callable[[str, int], Awaitable[list[str]]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(Exception):
    """This URL is never fetched under the current settings; asking again cannot help. One sentence."""


async def resolve(host: str, port: int) -> list[str]:
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class UrlGuard:
    allow_private: bool = False
    #: The host and port of the provider's own base URL: a proxy or a test fake on loopback.
    trusted: tuple[str, int] | None = None
    resolver: Resolver = resolve

    def trusting(self, base_url: str | None) -> UrlGuard:
        """This guard, also allowing the host and port of `base_url` (a provider's configured API)."""
        return replace(self, trusted=_host_port(base_url) if base_url else None)

    async def check(self, url: str) -> str | None:
        """Raise UrlRefused unless `url` is http(s) to a public address (all it resolves to), or allowed.

        Returns the checked address to connect to (None when nothing was judged: allowed outright), so the
        fetch cannot be sent elsewhere by a second DNS answer (DNS rebinding)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in DEFAULT_PORTS:
            shown = f"a {scheme}: URL" if scheme else "a URL without a scheme"
            raise UrlRefused(f"{shown} cannot be downloaded: only http:// and https:// URLs are fetched")
        host, port = _host_port(url) or ("", 0)
        if not host:
            raise UrlRefused("the URL has no host or a bad port: pass a full http:// or https:// URL")
        if self.allow_private or (host, port) == self.trusted:
            return None
        addresses = await self.resolver(host, port)
        for address in addresses:
            if not is_public(address):
                raise UrlRefused(f"{host} is a private or reserved address ({address}), which the server does not "
                                 f"fetch from unless the operator sets {OPT_OUT}")
        if not addresses:
            raise UrlRefused(f"{host} does not resolve to any address: check the URL")
        return addresses[0]

    @asynccontextmanager
    async def stream(self, client: HttpClient, url: str) -> AsyncIterator[httpx2.Response]:
        """GET `url`, following at most MAX_REDIRECTS redirects, each checked before it is fetched."""
        for _ in range(MAX_REDIRECTS + 1):
            target, headers, extensions = pinned(url, await self.check(url))
            async with client.stream("GET", target, headers=headers, extensions=extensions,
                                     follow_redirects=False) as response:
                if not response.has_redirect_location:
                    yield response
                    return
                url = urljoin(url, response.headers["location"])
        raise httpx2.TooManyRedirects(f"more than {MAX_REDIRECTS} redirects")


def pinned(url: str, address: str | None) -> tuple[str, dict[str, str], dict[str, str]]:
    """The request for `url` sent to the checked `address`: the URL's name stays in the Host header and, for
    https, in the TLS server name, so the certificate is still verified against the name."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if address is None or _is_ip(host):
        return url, {}, {}
    port = f":{parts.port}" if parts.port else ""
    netloc = (f"[{address}]" if ":" in address else address) + port
    target = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
    extensions = {"sni_hostname": host} if parts.scheme.lower() == "https" else {}
    return target, {"Host": host + port}, extensions


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def is_public(address: str) -> bool:
    """Whether an address is on the public internet (an IPv4 address mapped into IPv6 is judged as IPv4)."""
    ip: IpAddress = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    private = (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast or ip.is_unspecified
               or ip.is_reserved)
    return ip.is_global and not private


def _host_port(url: str) -> tuple[str, int] | None:
    parts = urlsplit(url)
    try:
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    except ValueError:
        return None
    return ((parts.hostname or "").rstrip("."), port)
