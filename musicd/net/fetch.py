"""Outbound HTTP with an address guard: what the server fetches for podcasts (feeds, enclosures, chapters).

A feed URL comes from a user, so fetching it must not reach the server's own network. Every connection
(the first and each redirect, up to `max_redirects`) resolves the host name here, refuses it when any
address it resolves to is loopback, private, link-local, multicast, unspecified, reserved or otherwise
not global, and then connects to exactly the address it checked: the check and the connect see the same
address, so a name that resolves differently a moment later (DNS rebinding) gains nothing. Hosts named
in `allow_hosts` ("host:port") skip the address check (a LAN feed, the tests' feed server).

The guard lives in an httpcore network backend, below TLS and connection reuse: httpcore only ever
asks it for TCP connections, so there is no code path that connects without the check. httpcore reads
no proxy settings from the environment (a proxy would hide the address from the guard).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore

from musicd.errors import MusicdError

__all__ = ["FetchError", "Fetched", "Fetcher", "Response", "blocked_reason", "parse_allow_hosts"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(MusicdError):
    """A fetch failed: a refused address, a redirect loop, too large, too slow, or an HTTP error.

    `status` is 400 when the URL itself is unacceptable and 502 when the remote side failed.
    """

    code = "fetch_failed"
    status = 502

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 http_status: int | None = None) -> None:
        super().__init__(message, code=code)
        if status is not None:
            self.status = status
        self.http_status = http_status


def blocked_reason(ip: _Address) -> str | None:
    """Why an address may not be fetched from ("loopback", "private", ...), or None when it is public."""
    if isinstance(ip, ipaddress.IPv6Address):
        # An IPv6 form of an IPv4 address is judged as that IPv4 address.
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return blocked_reason(embedded)
    for attr, label in (("is_loopback", "loopback"), ("is_multicast", "multicast"), ("is_link_local", "link-local"),
                        ("is_unspecified", "unspecified"), ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(ip, attr):
            return label
    return None if ip.is_global else "not globally routable"


def parse_allow_hosts(entries: Iterable[str]) -> frozenset[tuple[str, int]]:
    """`["host:port", "[::1]:8080"]` as (lower-case host, port) pairs; ValueError names a bad entry."""
    out = set()
    for entry in entries:
        host, sep, port = entry.strip().rpartition(":")
        host = host.strip("[]").lower()
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"allow_hosts entry {entry!r} is not host:port")
        out.add((host, int(port)))
    return frozenset(out)


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every address, connects to a checked one."""

    def __init__(self, allowed: frozenset[tuple[str, int]]) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._allowed = allowed

    async def _addresses(self, host: str, port: int, timeout: float | None) -> list[str]:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as e:
            raise FetchError(f"cannot resolve {host}: {e}", code="dns_failed") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise FetchError(f"{host} has no address", code="dns_failed")
        if (host.lower(), port) in self._allowed:
            return addresses
        for a in addresses:
            reason = blocked_reason(ipaddress.ip_address(a.split("%", 1)[0]))
            if reason is not None:
                raise FetchError(f"{host} resolves to {a}, which is {reason}; only public addresses are fetched"
                                 " unless the host is in podcasts.allow_hosts", code="address_not_allowed", status=400)
        return addresses

    # httpcore's interface passes timeouts as parameters (hence the noqa).
    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        last: Exception | None = None
        for address in await self._addresses(host.strip("[]"), port, timeout):
            try:
                return await self._inner.connect_tcp(address, port, timeout=timeout, local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                last = e
        raise FetchError(f"cannot connect to {host}:{port}: {last}", code="connect_failed")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise FetchError("unix sockets are not fetched", code="bad_url", status=400)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


@dataclass
class Response:
    """A response being read: final URL (after redirects), status, lower-case headers."""

    url: str
    status: int
    headers: dict[str, str]
    _raw: httpcore.Response = field(repr=False)

    def length(self) -> int | None:
        """Content-Length when the server sent a sane one."""
        v = self.headers.get("content-length", "")
        return int(v) if v.isdigit() else None

    async def chunks(self, max_bytes: int) -> AsyncIterator[bytes]:
        """The body as it arrives; FetchError("too_large") once more than `max_bytes` came."""
        n = 0
        try:
            async for chunk in self._raw.aiter_stream():
                n += len(chunk)
                if n > max_bytes:
                    raise FetchError(f"{self.url} is larger than the limit of {max_bytes} bytes", code="too_large")
                yield chunk
        except httpcore.TimeoutException:
            raise FetchError(f"{self.url} stopped sending (timeout)", code="timeout") from None
        except httpcore.NetworkError as e:
            raise FetchError(f"{self.url}: connection failed mid-body: {e}", code="connect_failed") from None


@dataclass(frozen=True)
class Fetched:
    """A whole small response (a feed, a chapters file); `status` 304 means not modified (empty body)."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a bad port)
    except ValueError:
        raise FetchError(f"not a valid URL: {url!r}", code="bad_url", status=400) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"only http and https URLs are fetched, not {url[:200]!r}", code="bad_url", status=400)
    if parts.username is not None or parts.password is not None:
        raise FetchError("URLs with a user name or password are not fetched", code="bad_url", status=400)


class Fetcher:
    """GET with the address guard, redirects (at most `max_redirects`), timeouts and size limits."""

    def __init__(self, allow_hosts: Iterable[str] = (), *, user_agent: str = "musicd", connect_timeout: float = 10.0,
                 read_timeout: float = 30.0, max_redirects: int = 5) -> None:
        self.allowed = parse_allow_hosts(allow_hosts)
        self.user_agent = user_agent
        self.timeouts = {"connect": connect_timeout, "read": read_timeout, "write": read_timeout,
                         "pool": connect_timeout}
        self.max_redirects = max_redirects
        self._pool = httpcore.AsyncConnectionPool(network_backend=_GuardedBackend(self.allowed), max_connections=32,
                                                  keepalive_expiry=30.0, retries=0)

    @asynccontextmanager
    async def open(self, url: str, headers: dict[str, str] | None = None) -> AsyncIterator[Response]:
        """The response to GET `url` after redirects; FetchError for a refused URL or a non-2xx/304 answer."""
        seen: set[str] = set()
        for _hop in range(self.max_redirects + 1):
            _check_url(url)
            seen.add(url)
            req_headers = [("User-Agent", self.user_agent), ("Accept-Encoding", "identity"),
                           *(headers or {}).items()]
            try:
                async with self._pool.stream("GET", url, headers=req_headers,
                                             extensions={"timeout": self.timeouts}) as raw:
                    resp = Response(url, raw.status, {k.decode("latin-1").lower(): v.decode("latin-1")
                                                      for k, v in raw.headers}, raw)
                    location = resp.headers.get("location")
                    if raw.status in _REDIRECTS and location:
                        nxt = urljoin(url, location.strip())
                        if nxt in seen:
                            raise FetchError(f"redirect loop at {nxt[:200]}", code="redirect_loop")
                        url = nxt
                        continue
                    if raw.status != 304 and not 200 <= raw.status < 300:
                        raise FetchError(f"{url[:200]} answered HTTP {raw.status}", code="http_status",
                                         http_status=raw.status)
                    yield resp
                    return
            except httpcore.TimeoutException:
                raise FetchError(f"{url[:200]} timed out", code="timeout") from None
            except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as e:
                raise FetchError(f"{url[:200]}: {e or type(e).__name__}", code="connect_failed") from None
            except httpcore.LocalProtocolError as e:
                raise FetchError(f"{url[:200]}: {e}", code="bad_url", status=400) from None
        raise FetchError(f"more than {self.max_redirects} redirects", code="too_many_redirects")

    async def get(self, url: str, *, max_bytes: int, headers: dict[str, str] | None = None,
                  total_timeout: float = 60.0) -> Fetched:
        """A whole response body of at most `max_bytes`, within `total_timeout` seconds."""
        try:
            async with asyncio.timeout(total_timeout), self.open(url, headers) as resp:
                declared = resp.length()
                if declared is not None and declared > max_bytes:
                    raise FetchError(f"{resp.url[:200]} is {declared} bytes, over the limit of {max_bytes}",
                                     code="too_large")
                body = b"".join([c async for c in resp.chunks(max_bytes)])
                return Fetched(resp.url, resp.status, resp.headers, body)
        except TimeoutError:
            raise FetchError(f"{url[:200]} took longer than {total_timeout:g} s", code="timeout") from None

    async def close(self) -> None:
        await self._pool.aclose()
