"""The signed peer client: this server's Ed25519 identity, RFC 9421 signatures, bounded HTTP to friends' servers.

Signatures use `http-message-signatures` (RFC 9421, algorithm `ed25519`): every server-to-server request
covers `@method`, `@path`, `@query`, `content-digest` (SHA-256 of the body, empty or not) and
`musicd-to` (the instance id of the server it is meant for, so a request one peer received cannot be
replayed at another), with `created`, `expires` (created + 300 s), a random `nonce`, `keyid` (the
sender's instance id) and the tag `musicd-fed`. The receiver checks the window (±300 s of clock skew)
and remembers nonces until they expire (the replay cache lives in services/federation.py).

The client never follows redirects, reads at most `max_bytes` of a body, gives up on a body that takes
longer than its deadline, retries idempotent requests with backoff, and opens a circuit breaker after
repeated failures, so a dead or hostile peer costs little and never holds up another peer.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import secrets
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from http_message_signatures import HTTPMessageSigner, HTTPMessageVerifier, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException, InvalidSignature
from http_message_signatures.resolvers import MappingKeyResolver

from musicd.domain.ids import derived_id
from musicd.errors import MusicdError

__all__ = [
    "COVERED",
    "LABEL",
    "TAG",
    "WINDOW_S",
    "Breaker",
    "Identity",
    "PeerClient",
    "PeerError",
    "PeerReply",
    "PeerStream",
    "SignatureError",
    "SignedBy",
    "b64",
    "instance_id_of",
    "read_keyid",
    "unb64",
    "verify_request",
]

COVERED = ("@method", "@path", "@query", "content-digest", "musicd-to")
LABEL = "musicd"
TAG = "musicd-fed"
WINDOW_S = 300
_USER_AGENT = "musicd-federation/1"
if TYPE_CHECKING:
    import httpx


def _httpx() -> Any:
    """httpx, imported on first use: it costs the server ~6 MiB, and only a server with peers needs it."""
    import httpx

    return httpx


# httpx logs every request at INFO: a sync of a big peer would fill the server log with page fetches.
logging.getLogger("httpx").setLevel(logging.WARNING)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def instance_id_of(public_key: bytes) -> str:
    """A server's instance id: derived from its public key, so it cannot be claimed without the key."""
    return derived_id("musicd-instance", public_key.hex())


class _Message:
    """The view of a request the signature library reads: method, URL and header fields."""

    def __init__(self, method: str, url: str, headers: httpx.Headers) -> None:
        self.method = method
        self.url = url
        self.headers = headers


class Identity:
    """This server's key pair and instance id; signs the requests it sends."""

    def __init__(self, seed: bytes, name: str) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.instance_id = instance_id_of(self.public_key)
        self.name = name
        self._signer = HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519,
            key_resolver=MappingKeyResolver(public_keys={}, private_keys={self.instance_id: self._key}),
        )

    def sign(self, method: str, url: str, headers: httpx.Headers, body: bytes, to: str,
             now: float | None = None, nonce: str | None = None) -> None:
        """Add Content-Digest, Musicd-To, Signature-Input and Signature to `headers` (in place)."""
        created = int(time.time() if now is None else now)
        headers["musicd-to"] = to
        msg = _Message(method.upper(), url, headers)
        self._signer.sign(
            msg, key_id=self.instance_id, label=LABEL, tag=TAG, covered_component_ids=COVERED,
            created=dt.datetime.fromtimestamp(created, dt.UTC),
            expires=dt.datetime.fromtimestamp(created + WINDOW_S, dt.UTC),
            nonce=nonce or secrets.token_urlsafe(16), body=body,
        )


class SignatureError(MusicdError):
    """A request whose signature is missing, malformed, forged, out of its window or not meant for us."""

    code = "bad_signature"
    status = 401


@dataclass(frozen=True, slots=True)
class SignedBy:
    keyid: str
    created: int
    expires: int
    nonce: str


def read_keyid(headers: Mapping[str, str]) -> str | None:
    """The `keyid` of the musicd signature of a request, before it is verified (to find the peer's key)."""
    raw = headers.get("signature-input")
    if not raw:
        return None
    try:
        parsed = http_sf.parse(raw.encode(), tltype="dictionary")
        _, params = parsed[LABEL]  # type: ignore[index]
        keyid = params.get("keyid")
    except Exception:
        return None
    return keyid if isinstance(keyid, str) and 0 < len(keyid) <= 128 else None


class _Verifier(HTTPMessageVerifier):
    max_clock_skew = dt.timedelta(seconds=WINDOW_S)


def verify_request(method: str, target: str, headers: Sequence[tuple[str, str]], body: bytes,
                   public_key: bytes, me: str, now: float | None = None) -> SignedBy:
    """Check a request's signature against `public_key`; raise SignatureError saying why it fails.

    `target` is the path and query as they arrived (the raw request target).
    """
    if not any(k.lower() == "signature" for k, _ in headers):
        raise SignatureError("this request is not signed (Signature and Signature-Input headers)", code="unsigned")
    h = _httpx().Headers(list(headers))
    keyid = read_keyid(h)
    if keyid is None:
        raise SignatureError("the request has no musicd signature with a keyid", code="bad_signature")
    try:
        key = Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise SignatureError("the peer's stored key is unusable", code="bad_signature") from None
    verifier = _Verifier(signature_algorithm=algorithms.ED25519,
                         key_resolver=MappingKeyResolver(public_keys={keyid: key}, private_keys={}))
    try:
        results = verifier.verify(_Message(method.upper(), "http://peer" + target, h), expect_tag=TAG,
                                  expect_label=LABEL, max_age=dt.timedelta(seconds=WINDOW_S),
                                  require_components=COVERED, body=body)
    except InvalidSignature as e:
        reason = str(e) or "the signature does not match the request or the key"
        if "Content-Digest" in reason:
            code = "bad_digest"
        elif any(w in reason for w in ("in the past", "allowable age", "in the future")):
            code = "signature_expired"
        else:
            code = "bad_signature"
        raise SignatureError(f"signature rejected: {reason}", code=code) from None
    except (HTTPMessageSignaturesException, ValueError) as e:
        raise SignatureError(f"signature rejected: {e}", code="bad_signature") from None
    params = results[0].parameters
    created, expires, nonce = params.get("created"), params.get("expires"), params.get("nonce")
    if not isinstance(expires, int) or not isinstance(created, int) or not isinstance(nonce, str) or not nonce:
        raise SignatureError("the signature needs created, expires and nonce", code="bad_signature")
    t = time.time() if now is None else now
    if expires - created > WINDOW_S or expires < t - WINDOW_S or abs(created - t) > WINDOW_S:
        raise SignatureError("the signature is outside its ±300 s window", code="signature_expired")
    if h.get("musicd-to") != me:
        raise SignatureError("this request was signed for another server", code="wrong_recipient")
    return SignedBy(keyid, created, expires, nonce)


# ---- the client ----


class PeerError(MusicdError):
    """A peer could not be reached, answered garbage or too much, or redirected: it is unavailable."""

    code = "peer_unavailable"
    status = 503

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None,
                 remote_code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.http_status = http_status
        self.remote_code = remote_code


class Breaker:
    """A circuit breaker: after `failures` failures in a row the peer is left alone for `cooldown_s`,
    then one request may try again (half-open); a success closes it."""

    def __init__(self, failures: int, cooldown_s: float) -> None:
        self.limit = failures
        self.cooldown_s = cooldown_s
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if time.monotonic() - self.opened_at >= self.cooldown_s and not self._trial:
            self._trial = True  # half-open: let one request through
            return True
        return False

    @property
    def open(self) -> bool:
        return self.opened_at is not None

    def success(self) -> None:
        self.failures, self.opened_at, self._trial = 0, None, False

    def failure(self) -> None:
        self.failures += 1
        self._trial = False
        if self.failures >= self.limit:
            self.opened_at = time.monotonic()


@dataclass(frozen=True, slots=True)
class PeerReply:
    status: int
    headers: httpx.Headers
    body: bytes


class PeerStream:
    """A streaming answer from a peer: status, headers and the body as chunks; close it when done."""

    def __init__(self, response: httpx.Response, max_bytes: int, deadline_s: float) -> None:
        self.response = response
        self.status = response.status_code
        self.headers = response.headers
        self._max = max_bytes
        self._deadline = deadline_s

    async def chunks(self) -> AsyncIterator[bytes]:
        seen = 0
        try:
            async with asyncio.timeout(self._deadline):
                async for chunk in self.response.aiter_raw():
                    seen += len(chunk)
                    if seen > self._max:
                        raise PeerError("the peer sent more than it announced", code="peer_bad_response")
                    yield chunk
        except (_httpx().HTTPError, TimeoutError) as e:
            raise PeerError(f"the peer stopped sending: {type(e).__name__}") from None
        finally:
            await self.response.aclose()

    async def close(self) -> None:
        await self.response.aclose()


_RETRY_STATUS = frozenset({502, 503, 504})


class PeerClient:
    """Signed, bounded HTTP to one peer (its own connection pool and circuit breaker)."""

    def __init__(self, identity: Identity, peer_id: str, base_url: str, *, connect_timeout: float,
                 read_timeout: float, breaker: Breaker, retries: int = 2, backoff_s: float = 0.2) -> None:
        self.identity = identity
        self.peer_id = peer_id
        self.base_url = base_url.rstrip("/")
        self.breaker = breaker
        self.retries = retries
        self.backoff_s = backoff_s
        self.read_timeout = read_timeout
        self._http = _httpx().AsyncClient(
            timeout=_httpx().Timeout(read_timeout, connect=connect_timeout, pool=connect_timeout),
            limits=_httpx().Limits(max_connections=16, max_keepalive_connections=8),
            follow_redirects=False, trust_env=False, headers={"user-agent": _USER_AGENT},
        )

    async def close(self) -> None:
        await self._http.aclose()

    def _build(self, method: str, path: str, params: Mapping[str, Any] | None, body: bytes,
               headers: Mapping[str, str] | None) -> httpx.Request:
        req = self._http.build_request(method, self.base_url + path, params=params, content=body or None,
                                       headers={**(headers or {}), **({"content-type": "application/json"}
                                                                         if body else {})})
        self.identity.sign(method, str(req.url), req.headers, body, self.peer_id)
        return req

    def _check_status(self, resp: httpx.Response) -> None:
        if 300 <= resp.status_code < 400:
            raise PeerError(f"the peer redirected to {resp.headers.get('location', '?')[:200]}; not followed",
                            code="peer_redirected", http_status=resp.status_code)

    async def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      body: bytes = b"", max_bytes: int = 8 << 20, idempotent: bool = True) -> PeerReply:
        """One signed request; the whole body read (at most `max_bytes`). Raises PeerError when unavailable;
        a 4xx answer is returned as it is (the caller decides)."""
        attempts = 1 + (self.retries if idempotent else 0)
        last: PeerError | None = None
        for attempt in range(attempts):
            if not self.breaker.allow():
                raise PeerError(f"peer {self.peer_id} is unavailable (circuit open after repeated failures)")
            try:
                reply = await self._once(method, path, params, body, max_bytes)
            except PeerError as e:
                self.breaker.failure()
                last = e
                if e.code in ("peer_redirected", "peer_bad_response"):
                    raise
            else:
                if reply.status in _RETRY_STATUS:
                    self.breaker.failure()
                    last = PeerError(f"the peer answered {reply.status}", http_status=reply.status)
                else:
                    self.breaker.success()
                    return reply
            if attempt + 1 < attempts:
                await asyncio.sleep(self.backoff_s * (4 ** attempt))
        assert last is not None
        raise last

    async def _once(self, method: str, path: str, params: Mapping[str, Any] | None, body: bytes,
                    max_bytes: int) -> PeerReply:
        req = self._build(method, path, params, body, None)
        try:
            async with asyncio.timeout(self.read_timeout * 3):
                resp = await self._http.send(req, stream=True)
                try:
                    self._check_status(resp)
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > max_bytes:
                        raise PeerError(f"the peer's answer is too large ({declared} bytes)", code="peer_bad_response")
                    buf = bytearray()
                    async for chunk in resp.aiter_bytes():
                        buf += chunk
                        if len(buf) > max_bytes:
                            raise PeerError(f"the peer's answer is larger than {max_bytes} bytes",
                                            code="peer_bad_response")
                    return PeerReply(resp.status_code, resp.headers, bytes(buf))
                finally:
                    await resp.aclose()
        except (_httpx().HTTPError, TimeoutError, OSError) as e:
            raise PeerError(f"peer {self.base_url} is unreachable: {type(e).__name__}") from None

    async def stream(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                     headers: Mapping[str, str] | None = None, max_bytes: int = 4 << 30,
                     deadline_s: float = 6 * 3600) -> PeerStream:
        """A signed request whose body is read as it comes (media); the caller closes the stream."""
        if not self.breaker.allow():
            raise PeerError(f"peer {self.peer_id} is unavailable (circuit open after repeated failures)")
        req = self._build(method, path, params, b"", headers)
        try:
            resp = await self._http.send(req, stream=True)
        except (_httpx().HTTPError, OSError) as e:
            self.breaker.failure()
            raise PeerError(f"peer {self.base_url} is unreachable: {type(e).__name__}") from None
        try:
            self._check_status(resp)
        except PeerError:
            await resp.aclose()
            self.breaker.failure()
            raise
        if resp.status_code in _RETRY_STATUS:
            await resp.aclose()
            self.breaker.failure()
            raise PeerError(f"the peer answered {resp.status_code}", http_status=resp.status_code)
        self.breaker.success()
        return PeerStream(resp, max_bytes, deadline_s)

