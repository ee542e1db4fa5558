"""zeroconf (mDNS / DNS-SD) for the LAN: the server advertises `_musicd._tcp`, speakers browse for it.

The server registers with the async API of the `zeroconf` package (its blocking `register_service` waits
about 1.6 s), checks its addresses every 30 s and re-announces when they change, and unregisters on
shutdown (a goodbye packet: browsers drop it at once). TXT records: `version`, `id` (a stable instance
id), `path` (the base path of the API).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

# zeroconf is imported where it is used: it costs the server ~4 MiB, and a server on loopback (the
# default) never advertises.
if TYPE_CHECKING:
    from zeroconf import ServiceStateChange, Zeroconf
    from zeroconf.asyncio import AsyncServiceInfo, AsyncZeroconf

__all__ = ["SERVICE_TYPE", "Advertiser", "Found", "browse", "is_lan_host", "local_addresses"]

SERVICE_TYPE = "_musicd._tcp.local."
RECHECK_S = 30.0


class Found(msgspec.Struct, frozen=True):
    """A server seen on the network."""

    name: str
    host: str
    port: int
    instance_id: str
    version: str
    path: str

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path.rstrip('/')}"


def is_lan_host(host: str) -> bool:
    """Whether listening on `host` reaches the LAN (not loopback only)."""
    if host in ("", "0.0.0.0", "::"):
        return True
    with contextlib.suppress(ValueError):
        return not ipaddress.ip_address(host).is_loopback
    return host not in ("localhost",)


def local_addresses() -> list[str]:
    """This host's non-loopback IPv4 addresses (the ones a LAN client can reach)."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(str(info[4][0]))
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        found.add(s.getsockname()[0])
    return sorted(a for a in found if not ipaddress.ip_address(a).is_loopback)


class Advertiser:
    """Advertises one server; `start` registers, `close` says goodbye."""

    def __init__(self, name: str, port: int, instance_id: str, version: str, path: str = "/",
                 host: str = "0.0.0.0", interfaces: Sequence[str] = ()) -> None:
        self.name = name
        self.port = port
        self.props = {"version": version, "id": instance_id, "path": path}
        self.host = host
        self.interfaces = list(interfaces)
        self._zc: AsyncZeroconf | None = None
        self._info: AsyncServiceInfo | None = None
        self._task: asyncio.Task[None] | None = None

    def addresses(self) -> list[str]:
        if self.interfaces:
            return list(self.interfaces)
        if self.host not in ("", "0.0.0.0", "::"):
            return [self.host]
        return local_addresses()

    def _service(self, addresses: list[str]) -> AsyncServiceInfo:
        from zeroconf.asyncio import AsyncServiceInfo

        label = self.name.replace(".", " ")[:63]
        return AsyncServiceInfo(
            SERVICE_TYPE, f"{label}.{SERVICE_TYPE}", port=self.port, properties=self.props,
            parsed_addresses=addresses, server=f"{socket.gethostname().split('.')[0]}.local.")

    async def start(self) -> None:
        from zeroconf import IPVersion
        from zeroconf.asyncio import AsyncZeroconf

        addrs = self.addresses()
        self._zc = AsyncZeroconf(interfaces=self.interfaces or addrs or None, ip_version=IPVersion.V4Only)  # type: ignore[arg-type]
        self._info = self._service(addrs)
        # The async API returns a task that finishes when the announcements went out: wait for it too.
        await (await self._zc.async_register_service(self._info, allow_name_change=True))
        self._task = asyncio.create_task(self._watch(addrs))

    async def _watch(self, addrs: list[str]) -> None:
        """Re-announce when this host's addresses change (a DHCP lease, a new interface)."""
        while True:
            await asyncio.sleep(RECHECK_S)
            now = self.addresses()
            if now != addrs and self._zc is not None and self._info is not None:
                info = self._service(now)
                info.name = self._info.name
                await (await self._zc.async_update_service(info))
                self._info, addrs = info, now

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        if self._zc is not None:
            with contextlib.suppress(Exception):
                if self._info is not None:
                    await (await self._zc.async_unregister_service(self._info))  # the goodbye packets
            await self._zc.async_close()
            self._zc = None


async def browse(within: float = 3.0, interfaces: Sequence[str] = (), first: bool = False) -> list[Found]:
    """The servers that answer within `within` seconds (as soon as one does when `first`)."""
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    zc = AsyncZeroconf(interfaces=list(interfaces) or None, ip_version=IPVersion.V4Only)  # type: ignore[arg-type]
    names: asyncio.Queue[str] = asyncio.Queue()

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Added:
            names.put_nowait(name)

    browser = AsyncServiceBrowser(zc.zeroconf, [SERVICE_TYPE], handlers=[on_change])
    found: dict[str, Found] = {}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    try:
        while (left := deadline - loop.time()) > 0 and not (first and found):
            try:
                name = await asyncio.wait_for(names.get(), left)
            except TimeoutError:
                break
            info = AsyncServiceInfo(SERVICE_TYPE, name)
            if not await info.async_request(zc.zeroconf, 1500):
                continue
            props = {k.decode(): (v or b"").decode() for k, v in info.properties.items()}
            addrs = info.parsed_addresses()
            if addrs and info.port:
                found[name] = Found(name.removesuffix("." + SERVICE_TYPE), addrs[0], int(info.port),
                                    props.get("id", ""), props.get("version", ""), props.get("path", "/"))
    finally:
        await browser.async_cancel()
        await zc.async_close()
    return list(found.values())
