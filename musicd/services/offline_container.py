"""The offline container: a file encrypted for one device with AES-256-GCM in fixed segments.

Written down in docs/offline.md (the text is the contract; tests/unit/services/test_offline_container.py
checks this code against it). In short: a 48-byte header, then segments of `segment_size` plaintext bytes,
each sealed on its own with a key derived from the device key and the file's salt, a nonce made of the
file's nonce prefix and the segment's index, and the header, the index and a last-segment flag as
associated data. Any segment decrypts on its own (a seek decrypts only what it needs); changing, dropping,
reordering or cutting anything fails authentication.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from musicd.errors import MusicdError

__all__ = [
    "DEFAULT_SEGMENT",
    "HEADER_LEN",
    "MAGIC",
    "TAG_LEN",
    "ContainerError",
    "Header",
    "Opener",
    "Sealer",
    "container_size",
    "decrypt",
    "encrypt",
    "file_key",
    "segment_count",
]

MAGIC = b"MDOC"
VERSION = 1
HEADER_LEN = 48
TAG_LEN = 16
DEFAULT_SEGMENT = 64 * 1024
MIN_SEGMENT, MAX_SEGMENT = 1024, 16 * 1024 * 1024
_HEADER = struct.Struct(">4sB3xIQI16s8s")  # magic, version, pad, segment size, plaintext size, key version, ...
_FILE_INFO = b"musicd offline file key v1"
assert _HEADER.size == HEADER_LEN


class ContainerError(MusicdError):
    """A container that is not one, was cut short, was changed, or is for another key."""

    code = "offline_container_invalid"
    status = 422


@dataclass(frozen=True, slots=True)
class Header:
    segment_size: int
    plaintext_size: int
    key_version: int
    salt: bytes  # 16 bytes
    nonce_prefix: bytes  # 8 bytes

    def pack(self) -> bytes:
        return _HEADER.pack(MAGIC, VERSION, self.segment_size, self.plaintext_size, self.key_version,
                            self.salt, self.nonce_prefix)

    @classmethod
    def unpack(cls, data: bytes) -> Header:
        """The header at the start of `data`; ContainerError when it is not a version-1 container header."""
        if len(data) < HEADER_LEN:
            raise ContainerError("truncated container: the header is incomplete", code="offline_truncated")
        magic, version, seg, size, kv, salt, prefix = _HEADER.unpack_from(data)
        if magic != MAGIC:
            raise ContainerError("not an offline container (bad magic)")
        if version != VERSION:
            raise ContainerError(f"unsupported container version {version}")
        if data[5:8] != b"\0\0\0":  # the associated data is the header as packed: no free bits in it
            raise ContainerError("the header's reserved bytes are not zero")
        if not MIN_SEGMENT <= seg <= MAX_SEGMENT:
            raise ContainerError(f"segment size {seg} is out of range")
        return cls(seg, size, kv, salt, prefix)

    @property
    def segments(self) -> int:
        return segment_count(self.plaintext_size, self.segment_size)

    @property
    def total_size(self) -> int:
        return container_size(self.plaintext_size, self.segment_size)


def segment_count(plaintext_size: int, segment_size: int) -> int:
    """Segments of a plaintext: at least one (an empty file is one empty, authenticated segment)."""
    return max(1, -(-plaintext_size // segment_size))


def container_size(plaintext_size: int, segment_size: int = DEFAULT_SEGMENT) -> int:
    return HEADER_LEN + plaintext_size + segment_count(plaintext_size, segment_size) * TAG_LEN


def file_key(device_key: bytes, salt: bytes) -> bytes:
    """The AES-256 key of one file: HKDF-SHA256 of the device key with the file's salt."""
    return HKDF(hashes.SHA256(), 32, salt, _FILE_INFO).derive(device_key)


class _Segments:
    def __init__(self, device_key: bytes, header: Header) -> None:
        if len(device_key) != 32:
            raise ValueError("device keys are 32 bytes")
        self.header = header
        self.header_bytes = header.pack()
        self.aead = AESGCM(file_key(device_key, header.salt))
        self.count = header.segments

    def _nonce_aad(self, index: int) -> tuple[bytes, bytes]:
        last = index == self.count - 1
        idx = struct.pack(">I", index)
        return self.header.nonce_prefix + idx, self.header_bytes + idx + (b"\x01" if last else b"\x00")

    def offset(self, index: int) -> int:
        """Where segment `index` starts in the container."""
        return HEADER_LEN + index * (self.header.segment_size + TAG_LEN)

    def sealed_len(self, index: int) -> int:
        seg = self.header.segment_size
        plain = min(seg, self.header.plaintext_size - index * seg)
        return max(plain, 0) + TAG_LEN


class Sealer(_Segments):
    """Seals the segments of one file (any of them, in any order)."""

    def seal(self, index: int, plaintext: bytes | memoryview) -> bytes:
        if not 0 <= index < self.count or len(plaintext) != self.sealed_len(index) - TAG_LEN:
            raise ValueError(f"segment {index} has the wrong index or length")
        nonce, aad = self._nonce_aad(index)
        return self.aead.encrypt(nonce, plaintext, aad)

    def byte_range(self, first: int, last: int, read_plain: Callable[[int, int], bytes]) -> bytes:
        """Container bytes `first..last` (inclusive), sealing only the segments they cover;
        `read_plain(offset, length)` reads the plaintext."""
        out = bytearray()
        if first < HEADER_LEN:
            out += self.header_bytes[first : last + 1]
        step = self.header.segment_size + TAG_LEN
        lo = max(0, (max(first, HEADER_LEN) - HEADER_LEN) // step)
        hi = min(self.count - 1, (last - HEADER_LEN) // step) if last >= HEADER_LEN else -1
        for i in range(lo, hi + 1):
            start = self.offset(i)
            sealed = self.seal(i, read_plain(i * self.header.segment_size, self.sealed_len(i) - TAG_LEN))
            a, b = max(first, start) - start, min(last, start + len(sealed) - 1) - start
            out += sealed[a : b + 1]
        return bytes(out)


class Opener(_Segments):
    """Opens the segments of one container, each on its own."""

    def open(self, index: int, sealed: bytes | memoryview) -> bytes:
        if not 0 <= index < self.count:
            raise ContainerError(f"segment {index} is past the end of the file")
        if len(sealed) != self.sealed_len(index):
            raise ContainerError(f"segment {index} is truncated", code="offline_truncated")
        nonce, aad = self._nonce_aad(index)
        try:
            return self.aead.decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise ContainerError(f"segment {index} failed authentication (changed, or another device's key)",
                                 code="offline_auth_failed") from None

    def read(self, data: bytes | memoryview, offset: int, length: int) -> bytes:
        """`length` plaintext bytes from `offset`, decrypting only the segments that hold them."""
        size = self.header.plaintext_size
        end = min(size, offset + max(0, length))
        if offset < 0 or offset > size:
            raise ValueError("offset is outside the file")
        seg = self.header.segment_size
        out = bytearray()
        for i in range(offset // seg, (end - 1) // seg + 1 if end > offset else offset // seg):
            start = self.offset(i)
            plain = self.open(i, memoryview(data)[start : start + self.sealed_len(i)])
            base = i * seg
            out += plain[max(offset, base) - base : end - base]
        return bytes(out)


def encrypt(device_key: bytes, plaintext: bytes, *, key_version: int = 1, segment_size: int = DEFAULT_SEGMENT,
            salt: bytes | None = None, nonce_prefix: bytes | None = None) -> bytes:
    """A whole container for `plaintext` (random salt and nonce prefix unless given)."""
    header = Header(segment_size, len(plaintext), key_version, salt or os.urandom(16), nonce_prefix or os.urandom(8))
    s = Sealer(device_key, header)
    # Written into one buffer of the final size from views of the plaintext: copies, not AES, were the cost.
    out = bytearray(header.total_size)
    out[:HEADER_LEN] = s.header_bytes
    view = memoryview(plaintext)
    for i in range(s.count):
        at = s.offset(i)
        sealed = s.seal(i, view[i * segment_size : (i + 1) * segment_size])
        out[at : at + len(sealed)] = sealed
    return bytes(out)


def decrypt(device_key: bytes, data: bytes) -> bytes:
    """The plaintext of a whole container; ContainerError if it is truncated, longer, changed or for another key."""
    header = Header.unpack(data)
    if len(data) < header.total_size:
        raise ContainerError(f"truncated container: {len(data)} of {header.total_size} bytes",
                             code="offline_truncated")
    if len(data) > header.total_size:
        raise ContainerError("the container has trailing bytes")
    o = Opener(device_key, header)
    view = memoryview(data)
    return b"".join(o.open(i, view[o.offset(i) : o.offset(i) + o.sealed_len(i)]) for i in range(o.count))
