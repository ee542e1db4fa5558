"""Managing friends' servers from the web (/v1/admin/federation): the rulebook's admin rule is checked here,
in the service, like every other rule; the `musicd peer` commands (run by whoever holds the server's files)
call FederationService directly."""

from __future__ import annotations

from collections.abc import Sequence

from musicd.domain.federation import Peer
from musicd.domain.models import User
from musicd.services.fed_sync import MirrorSync, SyncResult
from musicd.services.federation import FederationService
from musicd.services.rules import require_admin

__all__ = ["FedAdmin"]


class FedAdmin:
    def __init__(self, federation: FederationService, sync: MirrorSync) -> None:
        self.fed = federation
        self.sync = sync

    async def overview(self, user: User) -> tuple[dict[str, object], list[Peer]]:
        """This server's identity and its peers."""
        require_admin(user)
        return self.fed.well_known(), await self.fed.list_peers()

    async def invite(self, user: User, scopes: Sequence[str] | str, approve: bool, hours: float | None) -> str:
        """A one-time invite code for a friend's admin."""
        require_admin(user)
        return await self.fed.invite(scopes, approve, user.id, hours)

    async def join(self, user: User, code: str, scopes: Sequence[str] | str) -> Peer:
        require_admin(user)
        return await self.fed.join(code, scopes)

    async def approve(self, user: User, peer_id: str) -> Peer:
        require_admin(user)
        return await self.fed.approve(peer_id)

    async def set_scopes(self, user: User, peer_id: str, scopes: Sequence[str] | str) -> Peer:
        require_admin(user)
        return await self.fed.set_scopes(peer_id, scopes)

    async def revoke(self, user: User, peer_id: str) -> Peer:
        require_admin(user)
        return await self.fed.revoke(peer_id)

    async def sync_now(self, user: User, peer_id: str) -> SyncResult:
        """Mirror the peer's catalogue now."""
        require_admin(user)
        return await self.sync.sync((await self.fed.peer(peer_id)).id)
