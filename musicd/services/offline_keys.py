"""Offline keys and licences: everything derived from the server's master secret (docs/offline.md, "Keys").

No per-device secret is stored: the device key, the device token and the licence signing key are derived
with HKDF-SHA256 whenever they are needed. Licences are Ed25519-signed JSON payloads.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import msgspec
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from musicd.errors import AuthError

__all__ = [
    "LICENCE_VERSION",
    "LicenceError",
    "LicenceItem",
    "LicencePayload",
    "OfflineKeys",
    "SignedLicence",
    "b64d",
    "b64e",
    "verify_licence",
]

LICENCE_VERSION = 1
_SALT = b"musicd offline v1"


def b64e(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class LicenceItem(msgspec.Struct, frozen=True):
    track_id: str
    quality: str


class LicencePayload(msgspec.Struct, frozen=True, kw_only=True):
    """What a licence says (docs/offline.md, "Licences")."""

    v: int = LICENCE_VERSION
    device_id: str
    user_id: str
    key_version: int
    seq: int
    issued_at: int
    expires_at: int
    status: str  # "active" | "suspended" | "revoked"
    reason: str | None = None
    items: list[LicenceItem] = msgspec.field(default_factory=list)


class SignedLicence(msgspec.Struct, frozen=True):
    payload: str  # base64url of the payload's JSON bytes
    signature: str  # base64url Ed25519 signature of those bytes


class LicenceError(AuthError):
    code = "licence_invalid"


class OfflineKeys:
    """The derivations of one master secret."""

    def __init__(self, master: bytes) -> None:
        self._master = master
        seed = self._derive(b"musicd offline licence signing key")
        self._signer = Ed25519PrivateKey.from_private_bytes(seed)
        self.public_key = self._signer.public_key()

    def _derive(self, info: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, _SALT, info).derive(self._master)

    def device_key(self, user_id: str, device_id: str, version: int) -> bytes:
        """The device's content key at a key version (each revocation raises the version)."""
        return self._derive(b"musicd offline device key\0" + f"{user_id}\0{device_id}\0{version}".encode())

    def device_token(self, user_id: str, device_id: str) -> bytes:
        """The secret a device proves itself with on heartbeats and downloads."""
        return self._derive(b"musicd offline device token\0" + f"{user_id}\0{device_id}".encode())

    def check_token(self, user_id: str, device_id: str, token: str) -> bool:
        try:
            given = b64d(token)
        except (ValueError, TypeError):
            return False
        return hmac.compare_digest(given, self.device_token(user_id, device_id))

    def file_salt(self, device_key: bytes, track_id: str, quality: str, source_etag: str) -> tuple[bytes, bytes]:
        """The salt and nonce prefix of one container: fixed for the same source, new for a changed one,
        so an interrupted download resumes with the same bytes and no nonce is reused."""
        mac = hmac.new(device_key, f"salt\0{track_id}\0{quality}\0{source_etag}".encode(), hashlib.sha256).digest()
        return mac[:16], mac[16:24]

    @property
    def public_key_raw(self) -> bytes:
        return self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, payload: LicencePayload) -> SignedLicence:
        body = msgspec.json.encode(payload)
        return SignedLicence(b64e(body), b64e(self._signer.sign(body)))


def verify_licence(public_key: bytes, licence: SignedLicence, device_id: str, *, min_seq: int = 0,
                   now: float | None = None) -> LicencePayload:
    """A licence's payload if it is signed by `public_key`, for `device_id`, not older than `min_seq` (a
    replay of an earlier licence) and, when active, not expired; else LicenceError with the reason."""
    try:
        body, sig = b64d(licence.payload), b64d(licence.signature)
        Ed25519PublicKey.from_public_bytes(public_key).verify(sig, body)
    except (InvalidSignature, ValueError, TypeError):
        raise LicenceError("the licence's signature does not verify", code="licence_forged") from None
    try:
        p = msgspec.json.decode(body, type=LicencePayload)
    except msgspec.DecodeError:
        raise LicenceError("the licence's payload is unreadable", code="licence_invalid") from None
    if p.v != LICENCE_VERSION:
        raise LicenceError(f"unsupported licence version {p.v}", code="licence_invalid")
    if p.device_id != device_id:
        raise LicenceError("the licence is for another device", code="licence_other_device")
    if p.seq < min_seq:
        raise LicenceError("the licence is older than one already seen (replayed)", code="licence_replayed")
    if p.status == "active" and (time.time() if now is None else now) >= p.expires_at:
        raise LicenceError("the licence has expired; go online to renew it", code="licence_expired")
    return p
