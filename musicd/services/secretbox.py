"""Authenticated encryption of small secrets at rest with the server key (AES-256-GCM)."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ["SecretBox"]

_NONCE = 12


class SecretBox:
    def __init__(self, key: bytes, purpose: bytes) -> None:
        self._aead = AESGCM(key)
        self._aad = purpose  # binds a ciphertext to its use: a token secret can't be replayed as another

    def seal(self, plaintext: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, self._aad)

    def open(self, sealed: bytes) -> bytes | None:
        """The plaintext, or None if the box was tampered with or sealed with another key."""
        try:
            return self._aead.decrypt(sealed[:_NONCE], sealed[_NONCE:], self._aad)
        except (InvalidTag, ValueError):
            return None
