"""The offline container against docs/offline.md: round trip, random seeks, tampering with any byte, wrong key,
truncation; and a reader written from the document's text alone opens what musicd writes."""

from __future__ import annotations

import os
import random
import struct

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from musicd.services.offline_container import (
    HEADER_LEN,
    ContainerError,
    Header,
    Opener,
    Sealer,
    container_size,
    decrypt,
    encrypt,
)

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
SEG = 1024


def _plain(n: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(n)


def _doc_reader(key: bytes, data: bytes) -> bytes:
    """The container read exactly as docs/offline.md describes it (no musicd code)."""
    magic, version, seg, size, _kv, salt, prefix = struct.unpack(">4sB3xIQI16s8s", data[:48])
    assert magic == b"MDOC" and version == 1
    n = max(1, -(-size // seg))
    assert len(data) == 48 + size + 16 * n
    fkey = HKDF(hashes.SHA256(), 32, salt, b"musicd offline file key v1").derive(key)
    out = b""
    for i in range(n):
        start = 48 + i * (seg + 16)
        length = min(seg, size - i * seg) + 16
        aad = data[:48] + struct.pack(">I", i) + (b"\x01" if i == n - 1 else b"\x00")
        out += AESGCM(fkey).decrypt(prefix + struct.pack(">I", i), data[start : start + length], aad)
    return out


@pytest.mark.parametrize("size", [0, 1, SEG - 1, SEG, SEG + 1, 5 * SEG, 5 * SEG + 17])
def test_round_trip(size: int) -> None:
    plain = _plain(size)
    data = encrypt(KEY, plain, segment_size=SEG)
    assert len(data) == container_size(size, SEG)
    assert decrypt(KEY, data) == plain
    assert _doc_reader(KEY, data) == plain
    assert plain[:64] not in data or size < 64  # nothing of the plaintext shows


def test_header_fields_are_where_the_document_says() -> None:
    data = encrypt(KEY, b"x" * 3000, key_version=7, segment_size=SEG, salt=b"s" * 16, nonce_prefix=b"n" * 8)
    h = Header.unpack(data)
    assert (h.segment_size, h.plaintext_size, h.key_version, h.salt, h.nonce_prefix) == (SEG, 3000, 7, b"s" * 16,
                                                                                          b"n" * 8)
    assert data[:4] == b"MDOC" and data[4] == 1 and data[24:40] == b"s" * 16 and data[40:48] == b"n" * 8


def test_random_seeks_decrypt_only_their_segments() -> None:
    plain = _plain(20 * SEG + 333, seed=2)
    data = encrypt(KEY, plain, segment_size=SEG)
    o = Opener(KEY, Header.unpack(data))
    rng = random.Random(3)
    for _ in range(300):
        off = rng.randrange(0, len(plain) + 1)
        n = rng.randrange(0, 3 * SEG)
        assert o.read(data, off, n) == plain[off : off + n]
    # A seek works with only its own segment present: every other byte of the body is zeroed.
    i = 7
    lonely = bytearray(len(data))
    lonely[:HEADER_LEN] = data[:HEADER_LEN]
    lonely[o.offset(i) : o.offset(i) + o.sealed_len(i)] = data[o.offset(i) : o.offset(i) + o.sealed_len(i)]
    assert o.read(bytes(lonely), i * SEG + 10, 100) == plain[i * SEG + 10 : i * SEG + 110]
    with pytest.raises(ContainerError):
        o.read(bytes(lonely), (i + 1) * SEG, 1)


def test_tampering_with_any_byte_fails() -> None:
    plain = _plain(3 * SEG + 100, seed=4)
    data = encrypt(KEY, plain, segment_size=SEG)
    for pos in range(len(data)):
        bad = bytearray(data)
        bad[pos] ^= 0x01
        with pytest.raises(ContainerError):
            decrypt(KEY, bytes(bad))


def test_reordered_or_dropped_segments_fail() -> None:
    plain = _plain(4 * SEG, seed=5)
    data = encrypt(KEY, plain, segment_size=SEG)
    step = SEG + 16
    body = [data[HEADER_LEN + i * step : HEADER_LEN + (i + 1) * step] for i in range(4)]
    with pytest.raises(ContainerError):
        decrypt(KEY, data[:HEADER_LEN] + body[1] + body[0] + body[2] + body[3])
    # Dropping the last segment and shrinking the size to match: the new last one lacks its "last" flag.
    h = Header.unpack(data)
    shorter = Header(h.segment_size, 3 * SEG, h.key_version, h.salt, h.nonce_prefix).pack()
    with pytest.raises(ContainerError):
        decrypt(KEY, shorter + b"".join(body[:3]))


def test_wrong_key_fails() -> None:
    data = encrypt(KEY, _plain(2 * SEG), segment_size=SEG)
    with pytest.raises(ContainerError) as e:
        decrypt(OTHER, data)
    assert e.value.code == "offline_auth_failed"


@pytest.mark.parametrize("cut", [0, 10, HEADER_LEN - 1, HEADER_LEN, HEADER_LEN + 5, -1, -16, -17])
def test_truncation_fails(cut: int) -> None:
    data = encrypt(KEY, _plain(3 * SEG + 5), segment_size=SEG)
    short = data[:cut]
    with pytest.raises(ContainerError) as e:
        decrypt(KEY, short)
    assert e.value.code == "offline_truncated"


def test_extra_bytes_and_garbage_fail() -> None:
    data = encrypt(KEY, _plain(100), segment_size=SEG)
    with pytest.raises(ContainerError):
        decrypt(KEY, data + b"\x00")
    with pytest.raises(ContainerError):
        decrypt(KEY, b"OggS" + os.urandom(200))
    with pytest.raises(ContainerError):
        decrypt(KEY, b"MDOC\x02" + data[5:])


def test_sealing_byte_ranges_gives_the_same_bytes_as_the_whole_file() -> None:
    plain = _plain(6 * SEG + 99, seed=6)
    salt, prefix = b"a" * 16, b"b" * 8
    whole = encrypt(KEY, plain, segment_size=SEG, salt=salt, nonce_prefix=prefix)
    s = Sealer(KEY, Header(SEG, len(plain), 1, salt, prefix))

    def read(off: int, n: int) -> bytes:
        return plain[off : off + n]

    rng = random.Random(7)
    spans = [(0, len(whole) - 1), (0, 0), (0, HEADER_LEN), (HEADER_LEN, HEADER_LEN + SEG + 16),
             (len(whole) - 1, len(whole) - 1)]
    spans += [tuple(sorted((rng.randrange(len(whole)), rng.randrange(len(whole))))) for _ in range(100)]
    for a, b in spans:
        assert s.byte_range(a, b, read) == whole[a : b + 1], (a, b)
