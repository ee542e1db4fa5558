"""Federation: this server's identity, its peers, pairing by invite, and the check of every signed request.

Pairing (docs/federation.md): an admin makes a one-time, expiring invite (`musicd peer invite`, or the
web player's settings); the friend's admin joins with it (`musicd peer join`), which POSTs a request signed
with the joiner's key to the inviter's `/fed/v1/pair`. The inviter checks the invite (unused, unexpired),
stores the joiner's key and the scopes the invite grants, and answers with its own identity, which the
joiner checks against the key named in the invite. The peer is active at once when the invite was
pre-approved, else when the inviter's admin approves it.

Every other request between peers is signed (net/federation.py); `authenticate` reads the peer's row on
each request, so a revocation, an approval or a change of scopes takes effect on the next request, even
when made by the CLI in another process.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import msgspec

from musicd import __version__
from musicd.config import Config
from musicd.domain.federation import (
    SCOPES,
    Hello,
    Origin,
    PairReply,
    PairRequest,
    Peer,
    normalise_scopes,
)
from musicd.domain.ids import random_id
from musicd.domain.stamps import utc_iso
from musicd.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    MusicdError,
    NotFoundError,
    RateLimitError,
    ValidationError,
)
from musicd.logs import get_logger
from musicd.net.federation import (
    Breaker,
    Identity,
    PeerClient,
    PeerError,
    SignatureError,
    b64,
    instance_id_of,
    read_keyid,
    unb64,
    verify_request,
)
from musicd.services.ratelimit import Bucket, RateLimiter
from musicd.store.db import utc_now
from musicd.store.fed_peers import FedPeerRepository, InviteRow

__all__ = ["INVITE_PREFIX", "FederationService", "PeerAuth"]

log = get_logger("musicd.federation")

INVITE_PREFIX = "musicd-invite:"
_NONCE_CAP = 500_000
_MAX_INVITE_CHARS = 2000


@dataclass(frozen=True, slots=True)
class PeerAuth:
    """The peer a verified request came from, and what it may do."""

    peer_id: str
    scopes: tuple[str, ...]


class _InvitePayload(msgspec.Struct, frozen=True):
    v: int
    url: str
    id: str
    key: str
    name: str
    token: str
    exp: str


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValidationError(f"{url!r} is not an http(s) address of a server", code="invalid_url")
    return url.rstrip("/")


class FederationService:
    """Identity, peers and the authentication of peers' requests."""

    def __init__(self, config: Config, peers: FedPeerRepository, seed: bytes) -> None:
        self.cfg = config.federation
        self.peers = peers
        self.identity = Identity(seed, self.cfg.name or socket.gethostname())
        server = config.server
        self.public_url = (self.cfg.public_url or server.public_url or f"http://{server.host}:{server.port}").rstrip("/")
        rate = self.cfg.peer_requests_per_second
        self._limiter = RateLimiter({"peer": Bucket(2 * rate, rate), "unsigned": Bucket(20, 5)})
        self._nonces: dict[tuple[str, str], int] = {}
        self._clients: dict[str, PeerClient] = {}
        self._down: set[str] = set()
        self.refused: dict[str, int] = {}  # peers' requests refused, by error code (metrics)

    @property
    def instance_id(self) -> str:
        return self.identity.instance_id

    @property
    def name(self) -> str:
        return self.identity.name

    def well_known(self) -> dict[str, object]:
        """`GET /.well-known/musicd`: who this server is, for anyone who asks."""
        return {"software": "musicd", "version": __version__, "instance_id": self.instance_id, "name": self.name,
                "public_key": b64(self.identity.public_key), "algorithm": "ed25519", "url": self.public_url,
                "federation": {"protocol": 1, "base": "/fed/v1", "scopes": list(SCOPES)}}

    # ---- peers ----

    async def list_peers(self) -> list[Peer]:
        return await self.peers.all()

    async def peer(self, peer_id: str) -> Peer:
        found = await self.peers.get(peer_id)
        if found is None:
            found = next((p for p in await self.peers.all() if p.name == peer_id or str(p.folder_no) == peer_id),
                         None)
        if found is None:
            raise NotFoundError(f"no peer {peer_id!r}", code="peer_not_found")
        return found

    async def set_scopes(self, peer_id: str, scopes: Sequence[str] | str) -> Peer:
        """Change what a peer may do here (takes effect on its next request)."""
        peer = await self.peer(peer_id)
        await self.peers.set_scopes(peer.id, granted=self._scopes(scopes))
        return await self.peer(peer.id)

    async def approve(self, peer_id: str) -> Peer:
        peer = await self.peer(peer_id)
        if peer.status == "revoked":
            raise ConflictError("a revoked peer must pair again with a new invite", code="peer_revoked")
        await self.peers.set_status(peer.id, "active")
        return await self.peer(peer.id)

    async def revoke(self, peer_id: str, tell_peer: bool = True) -> Peer:
        """End a pairing: the peer's next request gets 401; its mirrored items leave at the next sync."""
        peer = await self.peer(peer_id)
        await self.peers.set_status(peer.id, "revoked")
        if tell_peer:
            # A courtesy: the peer drops our items at once instead of at its next failed sync.
            with contextlib.suppress(PeerError):
                await self.client(peer).request("POST", "/fed/v1/revoke", body=b"{}", idempotent=False,
                                                max_bytes=64 << 10)
        log.info("federation.revoked", peer=peer.id, name=peer.name)
        return await self.peer(peer.id)

    @staticmethod
    def _scopes(scopes: Sequence[str] | str) -> list[str]:
        try:
            return normalise_scopes(list(scopes) if not isinstance(scopes, str) else scopes)
        except ValueError as e:
            raise ValidationError(str(e), code="invalid_scope") from None

    # ---- availability (what mirrored items show) ----

    def origin(self, peer: Peer) -> Origin:
        return Origin(peer.id, peer.name, self.available(peer))

    def available(self, peer: Peer) -> bool:
        return peer.status == "active" and peer.id not in self._down and "library" in peer.scopes_received

    def mark(self, peer_id: str, up: bool) -> None:
        (self._down.discard if up else self._down.add)(peer_id)

    def client(self, peer: Peer) -> PeerClient:
        """The signed client of a peer (one per peer: its own connections and circuit breaker)."""
        c = self._clients.get(peer.id)
        if c is None or c.base_url != peer.url.rstrip("/"):
            c = PeerClient(self.identity, peer.id, peer.url, connect_timeout=self.cfg.connect_timeout_seconds,
                           read_timeout=self.cfg.read_timeout_seconds,
                           breaker=Breaker(self.cfg.breaker_failures, self.cfg.breaker_seconds))
            self._clients[peer.id] = c
        return c

    async def close(self) -> None:
        for c in self._clients.values():
            await c.close()
        self._clients.clear()

    # ---- invites and pairing ----

    async def invite(self, scopes: Sequence[str] | str = SCOPES, approve: bool = True,
                     created_by: str | None = None, hours: float | None = None) -> str:
        """A one-time invite code for a friend's admin (`musicd peer join <code>`)."""
        granted = self._scopes(scopes)
        hours = self.cfg.invite_hours if hours is None else hours
        if not 0 < hours <= 24 * 365:
            raise ValidationError("an invite lasts more than 0 and at most 8760 hours", code="invalid_hours")
        token = secrets.token_urlsafe(24)
        expires = datetime.now(UTC) + timedelta(hours=hours)
        await self.peers.add_invite(random_id(), hashlib.sha256(token.encode()).digest(), granted, approve,
                                    created_by, utc_iso(expires))
        payload = _InvitePayload(1, self.public_url, self.instance_id, b64(self.identity.public_key), self.name,
                                 token, utc_iso(expires))
        return INVITE_PREFIX + b64(msgspec.json.encode(payload))

    @staticmethod
    def read_invite(code: str) -> _InvitePayload:
        code = code.strip()
        if not code.startswith(INVITE_PREFIX) or len(code) > _MAX_INVITE_CHARS:
            raise ValidationError("this is not a musicd invite (it starts with musicd-invite:)", code="invalid_invite")
        try:
            payload = msgspec.json.decode(unb64(code[len(INVITE_PREFIX):]), type=_InvitePayload)
            key = unb64(payload.key)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            raise ValidationError("the invite is damaged", code="invalid_invite") from None
        if len(key) != 32 or instance_id_of(key) != payload.id:
            raise ValidationError("the invite's key and instance id do not match", code="invalid_invite")
        _check_url(payload.url)
        return payload

    async def join(self, code: str, scopes: Sequence[str] | str = SCOPES, url: str | None = None) -> Peer:
        """Pair with the server that made the invite; `scopes` are what we let it do here."""
        invite = self.read_invite(code)
        if invite.id == self.instance_id:
            raise ValidationError("this invite was made by this server", code="invalid_invite")
        granted = self._scopes(scopes)
        my_url = _check_url(url or self.public_url)
        body = msgspec.json.encode(PairRequest(invite.token, self.instance_id, self.name, my_url,
                                               b64(self.identity.public_key), granted))
        client = PeerClient(self.identity, invite.id, invite.url, connect_timeout=self.cfg.connect_timeout_seconds,
                            read_timeout=self.cfg.read_timeout_seconds, breaker=Breaker(1, 1.0), retries=0)
        try:
            reply = await client.request("POST", "/fed/v1/pair", body=body, idempotent=False, max_bytes=64 << 10)
        finally:
            await client.close()
        if reply.status != 200:
            code_, message = _remote_error(reply.body)
            raise ConflictError(f"the inviting server refused: {message}", code=code_ or "pairing_refused")
        try:
            pr = msgspec.json.decode(reply.body, type=PairReply)
        except (msgspec.DecodeError, msgspec.ValidationError):
            raise PeerError("the inviting server answered garbage", code="peer_bad_response") from None
        if pr.instance_id != invite.id or pr.public_key != invite.key:
            raise PeerError("the server at that address is not the one that made the invite",
                            code="peer_bad_response")
        try:
            received = normalise_scopes(pr.scopes)
        except ValueError:
            received = []
        await self.peers.upsert(invite.id, pr.name[:200], invite.url, unb64(invite.key), "active", granted, received)
        log.info("federation.joined", peer=invite.id, name=pr.name, url=invite.url)
        return await self.peer(invite.id)

    async def accept_pair(self, method: str, target: str, headers: Sequence[tuple[str, str]],
                          body: bytes) -> PairReply:
        """The inviter's side of pairing (`POST /fed/v1/pair`)."""
        try:
            req = msgspec.json.decode(body, type=PairRequest)
            key = unb64(req.public_key)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as e:
            raise ValidationError(f"invalid pairing request: {e}", code="invalid_request") from None
        if len(key) != 32 or instance_id_of(key) != req.instance_id:
            raise ValidationError("the public key does not match the instance id", code="invalid_request")
        url = _check_url(req.url)
        signed = verify_request(method, target, headers, body, key, self.instance_id)
        if signed.keyid != req.instance_id:
            raise SignatureError("signed with another key than the one offered", code="bad_signature")
        self._remember_nonce(signed.keyid, signed.nonce, signed.expires)
        taken = await self.peers.take_invite(hashlib.sha256(req.invite.encode()).digest(), req.instance_id,
                                             utc_now())
        if isinstance(taken, str):
            raise AuthError({"unknown": "no such invite", "used": "this invite was already used",
                             "expired": "this invite has expired"}[taken], code=f"invite_{taken}")
        invite: InviteRow = taken
        status = "active" if invite.approve else "pending"
        try:
            received = normalise_scopes(req.scopes)
        except ValueError as e:
            raise ValidationError(str(e), code="invalid_scope") from None
        await self.peers.upsert(req.instance_id, req.name[:200], url, key, status, invite.scopes, received)
        log.info("federation.paired", peer=req.instance_id, name=req.name, status=status)
        return PairReply(self.instance_id, self.name, b64(self.identity.public_key), invite.scopes, status)

    # ---- requests from peers ----

    async def authenticate(self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes,
                           address: str, scope: str | None = None) -> PeerAuth:
        """The peer that signed this request, if it may do `scope`; AuthError (401) otherwise."""
        try:
            return await self._authenticate(method, target, headers, body, address, scope)
        except MusicdError as e:
            if len(self.refused) < 100:
                self.refused[e.code] = self.refused.get(e.code, 0) + 1
            raise

    async def _authenticate(self, method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes,
                            address: str, scope: str | None) -> PeerAuth:
        keyid = read_keyid(dict((k.lower(), v) for k, v in headers))
        if keyid is None:
            self._count_failure(address)
            if not any(k.lower() == "signature" for k, _ in headers):
                raise SignatureError("this request is not signed (see docs/federation.md)", code="unsigned")
            raise SignatureError("the request has no musicd signature with a keyid", code="bad_signature")
        row = await self.peers.auth_row(keyid)
        if row is None:
            self._count_failure(address)
            raise AuthError("this key belongs to no paired server", code="unknown_peer")
        public_key, status, granted = row
        try:
            signed = verify_request(method, target, headers, body, public_key, self.instance_id)
        except SignatureError:
            self._count_failure(address)
            raise
        if status == "revoked":
            raise AuthError("this server's pairing was revoked", code="peer_revoked")
        if status != "active":
            raise AuthError("this server's pairing awaits an admin's approval", code="peer_not_approved")
        self._remember_nonce(keyid, signed.nonce, signed.expires)
        self._limiter.take("peer", keyid)
        if scope is not None and scope not in granted:
            raise ForbiddenError(f"this server does not grant the {scope!r} scope", code="scope_denied")
        return PeerAuth(keyid, tuple(granted))

    def _count_failure(self, address: str) -> None:
        # Failed signatures cost a verification each: a flood from one address is slowed down.
        wait = self._limiter.try_take("unsigned", address)
        if wait > 0:
            raise RateLimitError("too many rejected requests; slow down", retry_after=wait)

    def _remember_nonce(self, keyid: str, nonce: str, expires: int) -> None:
        now = int(time.time())
        key = (keyid, nonce)
        if key in self._nonces:
            raise AuthError("this request was already received (replay)", code="replayed")
        if len(self._nonces) >= _NONCE_CAP:
            # Forget only what expired: forgetting a live nonce would let its request be replayed.
            self._nonces = {k: e for k, e in self._nonces.items() if e >= now - 300}
            if len(self._nonces) >= _NONCE_CAP:
                raise RateLimitError("too many requests in the signature window", retry_after=5)
        self._nonces[key] = expires + 300

    def hello(self, auth: PeerAuth) -> Hello:
        return Hello(self.instance_id, self.name, list(auth.scopes))

    async def learn_scopes(self, peer: Peer, hello: Hello) -> Peer:
        """Store what a peer says it lets us do (from its hello)."""
        try:
            received = normalise_scopes([s for s in hello.scopes if s in SCOPES])
        except ValueError:
            received = []
        if received != peer.scopes_received:
            await self.peers.set_scopes(peer.id, received=received)
            return await self.peer(peer.id)
        return peer


def _remote_error(body: bytes) -> tuple[str | None, str]:
    """(code, message) of a peer's JSON error, as far as it can be read."""
    try:
        err = json.loads(body)["error"]
        return str(err.get("code"))[:64], str(err.get("message"))[:300]
    except Exception:
        return None, body[:200].decode("utf-8", "replace")
