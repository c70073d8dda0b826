"""UrlGuard: which addresses the server's own fetches may reach, judged on the resolved address and per redirect."""

from __future__ import annotations

import httpx2
import pytest

from tests.support.rig import requested_url
from videogen_mcp.urlguard import UrlGuard, UrlRefused, is_public

pytestmark = pytest.mark.anyio


def dns(**names: list[str]):
    """A resolver answering from a table (no network in unit tests); IP literals resolve to themselves."""

    async def resolve(host: str, port: int) -> list[str]:
        return names.get(host.replace(".", "_").replace("-", "_"), [host])

    return resolve


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "ff0e::1", "2001:db8::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::127.0.0.1",
])
def test_private_loopback_link_local_multicast_unspecified_and_reserved_addresses_are_not_public(address):
    assert not is_public(address)


@pytest.mark.parametrize("address", ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:93.184.216.34"])
def test_public_addresses_are_public(address):
    assert is_public(address)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/x", "http://[::1]/x", "http://[::ffff:127.0.0.1]:9000/", "http://169.254.169.254/latest",
    "http://10.1.2.3/v.mp4", "https://[fe80::1]/v.mp4",
])
async def test_literal_private_addresses_are_refused(url):
    with pytest.raises(UrlRefused, match=r"private or reserved.*VIDEOGEN_ALLOW_PRIVATE_URLS=1"):
        await UrlGuard(resolver=dns()).check(url)


async def test_a_host_name_is_judged_by_every_address_it_resolves_to():
    guard = UrlGuard(resolver=dns(cdn_example_com=["93.184.216.34"], sneaky_example_com=["93.184.216.34", "10.0.0.7"],
                                  localhost=["127.0.0.1", "::1"]))
    await guard.check("https://cdn.example.com/v.mp4")
    for url in ("https://sneaky.example.com/v.mp4", "http://localhost:9000/"):
        with pytest.raises(UrlRefused, match="private or reserved"):
            await guard.check(url)


@pytest.mark.parametrize("url", ["ftp://cdn.example.com/v.mp4", "javascript:alert(1)", "/relative/v.mp4",
                                 "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "v.mp4"])
async def test_other_schemes_and_relative_urls_are_refused(url):
    with pytest.raises(UrlRefused, match="only http:// and https:// URLs are fetched"):
        await UrlGuard(allow_private=True, resolver=dns()).check(url)


async def test_the_provider_s_own_base_host_and_port_is_allowed_and_only_that():
    guard = UrlGuard(resolver=dns(localhost=["127.0.0.1"])).trusting("http://127.0.0.1:8123/wavespeed")
    await guard.check("http://127.0.0.1:8123/files/job.mp4")
    for url in ("http://127.0.0.1:8124/files/job.mp4", "http://127.0.0.2:8123/", "http://localhost:8123/"):
        with pytest.raises(UrlRefused):
            await guard.check(url)


async def test_the_operator_may_allow_private_addresses():
    await UrlGuard(allow_private=True, resolver=dns()).check("http://127.0.0.1:6379/")


class Hops:
    """A mock network: each URL answers a redirect to the next one, the last one a video; records what was asked."""

    def __init__(self, *urls: str) -> None:
        self.urls, self.asked = urls, []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.asked.append(requested_url(request))
        index = self.urls.index(requested_url(request))
        if index + 1 < len(self.urls):
            return httpx2.Response(302, headers={"Location": self.urls[index + 1]})
        return httpx2.Response(200, content=b"video")


async def read(guard: UrlGuard, hops: Hops) -> bytes:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(hops), follow_redirects=True)
    async with client, guard.stream(client, hops.urls[0]) as response:
        return await response.aread()


async def test_redirects_to_public_addresses_are_followed():
    hops = Hops("https://cdn.example.com/a", "https://93.184.216.34/b", "https://cdn.example.com/c")
    assert await read(UrlGuard(resolver=dns(cdn_example_com=["93.184.216.34"])), hops) == b"video"
    assert hops.asked == list(hops.urls)


@pytest.mark.parametrize("target", ["http://127.0.0.1:6379/", "http://[::ffff:10.0.0.1]/", "http://internal.corp/",
                                    "file:///proc/self/environ"])
async def test_a_redirect_to_a_private_address_or_another_scheme_is_refused_before_it_is_fetched(target):
    hops = Hops("https://cdn.example.com/a", target)
    with pytest.raises(UrlRefused):
        await read(UrlGuard(resolver=dns(cdn_example_com=["93.184.216.34"], internal_corp=["10.1.1.1"])), hops)
    assert hops.asked == ["https://cdn.example.com/a"]


async def test_a_redirect_from_the_trusted_base_host_to_another_loopback_port_is_refused():
    hops = Hops("http://127.0.0.1:8123/files/job.mp4", "http://127.0.0.1:8999/admin")
    with pytest.raises(UrlRefused):
        await read(UrlGuard(resolver=dns()).trusting("http://127.0.0.1:8123/wavespeed"), hops)
    assert hops.asked == ["http://127.0.0.1:8123/files/job.mp4"]


async def test_redirects_are_bounded():
    hops = Hops(*(f"https://cdn.example.com/{n}" for n in range(10)))
    with pytest.raises(httpx2.TooManyRedirects):
        await read(UrlGuard(resolver=dns(cdn_example_com=["93.184.216.34"])), hops)
    assert len(hops.asked) == 6
