"""/v1/me/stream-tokens: signed `?st=` tokens for many tracks and images at once (the web player's <audio>
and <img> cannot send an Authorization header; one request signs a whole page of covers or the queue)."""

from __future__ import annotations

import re
import time
from typing import Any

import msgspec
from litestar import Controller, post
from litestar.status_codes import HTTP_200_OK

from musicd.domain.models import User
from musicd.errors import ValidationError
from musicd.services.playback import STREAM_TOKEN_TTL_S
from musicd.services.registry import Services

__all__ = ["StreamTokensController"]

MAX_IDS = 200
_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


class TokensBody(msgspec.Struct, forbid_unknown_fields=True):
    ids: list[str]


class StreamTokensController(Controller):
    path = "/v1/me/stream-tokens"
    tags = ["playback"]

    @post("/", status_code=HTTP_200_OK)
    async def tokens(self, data: TokensBody, user: User, services: Services) -> dict[str, Any]:
        """A stream token per track or image id (the `st` of /v1/tracks/{id}/stream and /v1/images/{id})."""
        if not 1 <= len(data.ids) <= MAX_IDS:
            raise ValidationError(f"give 1 to {MAX_IDS} ids", code="bad_ids")
        bad = next((i for i in data.ids if not _ID.match(i)), None)
        if bad is not None:
            raise ValidationError(f"invalid id {bad[:80]!r}", code="bad_id")
        # Signing is a keyed hash: it proves nothing exists, so it needs no lookup; the media
        # endpoints answer 404 for an id that names nothing.
        exp = int(time.time()) + STREAM_TOKEN_TTL_S
        return {"tokens": {i: services.playback.stream_token(user.id, i) for i in dict.fromkeys(data.ids)},
                "expires_at": exp}
