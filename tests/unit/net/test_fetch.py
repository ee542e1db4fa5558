"""The fetcher's address guard, redirects, limits and timeouts, against a real local HTTP server."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from musicd.net import fetch as fetch_mod
from musicd.net.fetch import Fetcher, FetchError, blocked_reason, parse_allow_hosts
from tests.feed_server import FeedServer, Route, feed_server


@pytest.fixture(scope="module")
def fs() -> Iterator[FeedServer]:
    with feed_server() as server:
        yield server


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.0.0.1", "private"), ("172.16.5.4", "private"), ("192.168.1.1", "private"), ("fd00::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),
    ("240.0.0.1", "private"),  # reserved (Python files 240/4 under private too)
    ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),  # IPv4-mapped
    ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
])
def test_blocked_addresses(address: str, reason: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert blocked_reason(ipaddress.ip_address(address)) is None


def test_allow_hosts_parsing() -> None:
    assert parse_allow_hosts(["LAN.example:8080", "[::1]:80"]) == {("lan.example", 8080), ("::1", 80)}
    for bad in ("nohost", "host:", ":80", "host:99999", "host:x"):
        with pytest.raises(ValueError, match="host:port"):
            parse_allow_hosts([bad])


async def _get(f: Fetcher, url: str, **kw: Any) -> Any:
    try:
        return await f.get(url, max_bytes=kw.pop("max_bytes", 1_000_000), **kw)
    finally:
        await f.close()


async def test_loopback_refused_unless_allowed(fs: FeedServer) -> None:
    fs.routes["/ok"] = Route(b"hello", "text/plain")
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(), fs.url("/ok"))
    assert e.value.code == "address_not_allowed" and e.value.status == 400 and "loopback" in e.value.message
    assert fs.hits.get("/ok") is None  # refused before connecting
    got = await _get(Fetcher([f"127.0.0.1:{fs.port}"]), fs.url("/ok"))
    assert got.status == 200 and got.body == b"hello"


async def test_a_name_is_checked_after_resolution(fs: FeedServer) -> None:
    # "localhost" is a name: the guard resolves it and refuses what it resolves to.
    with pytest.raises(FetchError) as e:
        await _get(Fetcher([f"127.0.0.1:{fs.port}"]), f"http://localhost:{fs.port}/ok")
    assert e.value.code == "address_not_allowed"


async def test_connects_to_the_address_it_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The address that passed the check is the one connected to (no second lookup that could differ)."""
    lookups: list[str] = []
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # a rebinding resolver: public first, loopback after

    async def fake_getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        lookups.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in next(answers)]

    connected: list[str] = []

    async def fake_connect(self: Any, host: str, port: int, **_: Any) -> Any:
        connected.append(host)
        raise fetch_mod.httpcore.ConnectError("test: no network")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
    monkeypatch.setattr(fetch_mod.httpcore.AnyIOBackend, "connect_tcp", fake_connect)
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(), "http://rebinding.example/feed")
    assert e.value.code == "connect_failed"
    assert lookups == ["rebinding.example"] and connected == ["93.184.216.34"]


async def test_any_blocked_address_refuses_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    async def fake_getaddrinfo(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in ("93.184.216.34", "10.1.2.3")]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(), "https://mixed.example/feed")
    assert e.value.code == "address_not_allowed" and "10.1.2.3" in e.value.message


async def test_redirects_are_checked_and_counted(fs: FeedServer) -> None:
    allowed = [f"127.0.0.1:{fs.port}"]
    fs.routes["/target"] = Route(b"landed", "text/plain")
    fs.routes["/r1"] = Route(redirect=fs.url("/target"))
    got = await _get(Fetcher(allowed), fs.url("/r1"))
    assert got.body == b"landed" and got.url == fs.url("/target")
    # A redirect to a loopback port that is not in allow_hosts is refused like a first request.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        other = s.getsockname()[1]
    fs.routes["/to-other"] = Route(redirect=f"http://127.0.0.1:{other}/admin")
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed), fs.url("/to-other"))
    assert e.value.code == "address_not_allowed"
    fs.routes["/loop-a"] = Route(redirect=fs.url("/loop-b"))
    fs.routes["/loop-b"] = Route(redirect=fs.url("/loop-a"))
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed), fs.url("/loop-a"))
    assert e.value.code == "redirect_loop"
    for i in range(7):
        fs.routes[f"/hop{i}"] = Route(redirect=fs.url(f"/hop{i + 1}"), status=301)
    fs.routes["/hop7"] = Route(b"far", "text/plain")
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed), fs.url("/hop0"))
    assert e.value.code == "too_many_redirects"
    assert (await _get(Fetcher(allowed), fs.url("/hop2"))).body == b"far"  # exactly 5 redirects are fine
    fs.routes["/to-file"] = Route(redirect="file:///etc/passwd")
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed), fs.url("/to-file"))
    assert e.value.code == "bad_url"


async def test_size_limits_and_timeouts(fs: FeedServer) -> None:
    allowed = [f"127.0.0.1:{fs.port}"]
    fs.routes["/big"] = Route(b"x" * 200_000, "text/plain")
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed), fs.url("/big"), max_bytes=100_000)
    assert e.value.code == "too_large"
    # Without a Content-Length the limit is counted as the bytes come.
    fs.routes["/big-unannounced"] = Route(b"x" * 200_000, "text/plain", omit_length=True)
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed), fs.url("/big-unannounced"), max_bytes=100_000)
    assert e.value.code == "too_large"
    fs.routes["/slow"] = Route(b"x" * 10, "text/plain", chunk=1, delay=0.5)
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed, read_timeout=0.2), fs.url("/slow"))
    assert e.value.code == "timeout"
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed), fs.url("/slow"), total_timeout=1.0)
    assert e.value.code == "timeout"
    fs.routes["/gone"] = Route(b"gone", "text/plain", status=410)
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(allowed), fs.url("/gone"))
    assert e.value.code == "http_status" and e.value.http_status == 410


@pytest.mark.parametrize("url", ["ftp://example.com/feed", "file:///etc/passwd", "http://user:pw@example.com/",
                                 "http:///nohost", "not a url", "http://example.com:99999/"])
async def test_bad_urls(url: str) -> None:
    with pytest.raises(FetchError) as e:
        await _get(Fetcher(), url)
    assert e.value.code == "bad_url" and e.value.status == 400
