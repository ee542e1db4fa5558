"""Whether and how the server advertises itself on the LAN (`discovery.*` settings, musicd.net.discovery)."""

from __future__ import annotations

import hashlib
import socket

from musicd import __version__
from musicd.config import Config
from musicd.logs import get_logger
from musicd.net.discovery import Advertiser, is_lan_host

__all__ = ["DiscoveryService", "instance_id"]

log = get_logger("musicd.discovery")


def instance_id(server_key: bytes) -> str:
    """A stable id of this instance that reveals nothing of its key."""
    return hashlib.sha256(b"musicd-instance\0" + server_key).hexdigest()[:16]


class DiscoveryService:
    def __init__(self, config: Config, server_key: bytes) -> None:
        self.config = config
        self.instance_id = instance_id(server_key)
        self._advertiser: Advertiser | None = None

    @property
    def wanted(self) -> bool:
        mode = self.config.discovery.advertise
        return mode == "always" or (mode == "auto" and is_lan_host(self.config.server.host))

    async def start(self) -> None:
        """Advertise `_musicd._tcp` when the settings say so; a failure is logged, the server serves on."""
        if not self.wanted:
            return
        d, s = self.config.discovery, self.config.server
        name = d.name or f"musicd on {socket.gethostname().split('.')[0]}"
        adv = Advertiser(name, s.port, self.instance_id, __version__, "/", s.host, d.interfaces)
        self._advertiser = adv
        try:
            await adv.start()
        except Exception as e:
            log.error("discovery.failed", error=str(e))
            return
        log.info("discovery.advertised", name=name, port=s.port)

    async def close(self) -> None:
        """Say goodbye on the network."""
        if self._advertiser is not None:
            await self._advertiser.close()
            self._advertiser = None
            log.info("discovery.goodbye")
