"""Secrets generated into the data dir on first start (never committed, never in config)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ServerKeys", "load_or_create_keys"]

_KEY_BYTES = 32


@dataclass(frozen=True)
class ServerKeys:
    server_key: bytes  # encrypts secrets at rest (Subsonic token-auth passwords)
    token_key: bytes  # signs access tokens
    federation_key: bytes = b""  # Ed25519 private key seed: this server's identity to its peers


def _load_or_create(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        data = secrets.token_bytes(_KEY_BYTES)
        # O_EXCL: two processes starting at once must not both write (and disagree on) the key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return _load_or_create(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        return data
    if len(data) != _KEY_BYTES:
        raise RuntimeError(f"key file {path} is damaged ({len(data)} bytes, expected {_KEY_BYTES})")
    return data


def load_or_create_keys(data_dir: Path) -> ServerKeys:
    """Read the keys from `data_dir/keys/`, generating any that are missing."""
    folder = data_dir / "keys"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return ServerKeys(
        server_key=_load_or_create(folder / "server.key"),
        token_key=_load_or_create(folder / "token.key"),
        federation_key=_load_or_create(folder / "federation.key"),  # an Ed25519 seed is 32 random bytes
    )
