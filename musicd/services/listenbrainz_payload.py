"""ListenBrainz submissions read the way ListenBrainz reads them: the same limits, the same checks and the
same messages (listenbrainz-server, webserver/views/api.py `submit_listen` and api_tools.py
`validate_listen`), so a scrobbler that works against ListenBrainz gets the answers it knows.

Every problem raises ValidationError with ListenBrainz's message; the /listenbrainz routes send it in
ListenBrainz's error shape, `{"code": 400, "error": "..."}`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import msgspec

from musicd.domain.listens import LISTEN_MIN_TS, Listen
from musicd.errors import ValidationError

__all__ = [
    "FUTURE_SKEW_S",
    "LISTEN_TYPES",
    "MAX_LISTENS_PER_REQUEST",
    "MAX_LISTEN_PAYLOAD_SIZE",
    "MAX_LISTEN_SIZE",
    "listen_from_json",
    "parse_submission",
]

MAX_LISTEN_SIZE = 10240  # bytes, one listen
MAX_LISTENS_PER_REQUEST = 1000
MAX_LISTEN_PAYLOAD_SIZE = MAX_LISTEN_SIZE * MAX_LISTENS_PER_REQUEST
MAX_TAGS_PER_LISTEN = 50
MAX_TAG_SIZE = 64
MAX_DURATION_S = 24 * 24 * 60 * 60  # 24 days
FUTURE_SKEW_S = 60 * 60  # clocks run fast: a listen up to an hour ahead of the server is taken
LISTEN_TYPES = ("single", "playing_now", "import")

_JSON = msgspec.json.Decoder()


def _bad(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_listen")


def parse_submission(raw: bytes, now: float | None = None) -> tuple[str, list[Listen]]:
    """The listen type and the listens of a submit-listens body, checked like ListenBrainz checks them."""
    if len(raw) > MAX_LISTEN_PAYLOAD_SIZE:
        raise _bad(f"Payload too large. Payload cannot exceed {MAX_LISTEN_PAYLOAD_SIZE} bytes")
    try:
        data = _JSON.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError) as e:
        raise _bad(f"Cannot parse JSON document: {e}") from None
    except RecursionError:
        raise _bad("Cannot parse JSON document: it is nested too deeply") from None
    if not isinstance(data, dict):
        raise _bad("Invalid JSON document submitted. Top level of JSON document should be a json object.")
    if "payload" not in data:
        raise _bad("Invalid JSON document submitted.")
    payload = data["payload"]
    if not isinstance(payload, list):
        raise _bad("The payload in the JSON document should be a list of listens.")
    if not payload:
        raise _bad("JSON document does not contain any listens")
    if len(payload) > MAX_LISTENS_PER_REQUEST:
        raise _bad(f"Too many listens. You may not submit more than {MAX_LISTENS_PER_REQUEST} listens at once.")
    if len(raw) > len(payload) * MAX_LISTEN_SIZE:
        raise _bad(f"JSON document is too large. Each listens may not be larger than {MAX_LISTEN_SIZE} bytes.")
    listen_type = data.get("listen_type")
    if listen_type not in LISTEN_TYPES:
        raise _bad("JSON document requires a valid listen_type key.")
    if listen_type != "import" and len(payload) > 1:
        raise _bad("JSON document contains more than listen for a single/playing_now. It should contain only one.")
    now = time.time() if now is None else now
    return listen_type, [listen_from_json(item, listen_type, now) for item in payload]


def listen_from_json(item: Any, listen_type: str, now: float, *, exported: bool = False) -> Listen:
    """One listen object as a Listen. `exported`: a line of a ListenBrainz export, which carries more keys
    (inserted_at, user_name, recording_msid) and its MusicBrainz ids under track_metadata.mbid_mapping."""
    if not isinstance(item, dict) or not item:
        raise _bad("Listen is empty and cannot be validated.")
    if listen_type == "playing_now":
        if "listened_at" in item:
            raise _bad("JSON document must not contain listened_at while submitting playing_now.")
        if "track_metadata" not in item:
            raise _bad("JSON document must contain the key track_metadata at the top level.")
        if len(item) > 1:
            raise _bad("JSON document may only contain track_metadata as top level key when submitting playing_now.")
        at = int(now)
    else:
        at = _listened_at(item, now)
        if "track_metadata" not in item:
            raise _bad("JSON document must contain the key track_metadata at the top level.")
        if len(item) > 2 and not exported:
            raise _bad("JSON document may only contain listened_at and track_metadata top level keys")
    meta = item["track_metadata"]
    if not isinstance(meta, dict):
        raise _bad("JSON document may not have track_metadata with null value.")
    title = _text(meta, "track_name", required=True)
    artist = _text(meta, "artist_name", required=True)
    release = _text(meta, "release_name", required=False)
    info = meta.get("additional_info") or {}
    if not isinstance(info, dict):
        raise _bad("track_metadata.additional_info must be a json object.")
    _check_tags(info)
    duration_ms = _duration_ms(info)
    mbid = _mbid(info, "recording_mbid")
    for key in ("release_mbid", "release_group_mbid", "track_mbid"):
        _mbid(info, key)
    for key in ("artist_mbids", "work_mbids"):
        for v in info.get(key) or []:
            if v and not _is_uuid(v):
                raise _bad(f"{key} MBID format invalid.")
    mapping = meta.get("mbid_mapping")
    if exported and mbid is None and isinstance(mapping, dict) and _is_uuid(mapping.get("recording_mbid")):
        mbid = str(mapping["recording_mbid"])
    try:
        _no_nulls(item)
    except RecursionError:
        raise _bad("JSON document is nested too deeply.") from None
    isrc = info.get("isrc")
    client = info.get("submission_client") or info.get("media_player") or info.get("listening_from")
    return Listen(
        listened_at=at, artist=artist, title=title, release=release, duration_ms=duration_ms,
        recording_mbid=mbid.lower() if mbid else None,
        isrc=isrc.strip().upper()[:32] if isinstance(isrc, str) and isrc.strip() else None,
        client=client[:64] if isinstance(client, str) and client.strip() else None,
    )


def _listened_at(item: dict[str, Any], now: float) -> int:
    if "listened_at" not in item:
        raise _bad("JSON document must contain the key listened_at at the top level.")
    v = item["listened_at"]
    try:
        if isinstance(v, bool) or not isinstance(v, int | float | str):
            raise TypeError
        at = int(float(v)) if isinstance(v, str | float) else v
    except (TypeError, ValueError, OverflowError):
        raise _bad("JSON document must contain an int value for listened_at.") from None
    if at >= int(now) + FUTURE_SKEW_S:
        raise _bad("Value for key listened_at is too high.")
    if at < LISTEN_MIN_TS:
        raise _bad(f"Value for key listened_at is too low. listened_at timestamp should be greater than"
                   f" {LISTEN_MIN_TS} (2002-10-01 00:00:00 UTC).")
    return at


def _text(meta: dict[str, Any], key: str, *, required: bool) -> str | None:
    if key not in meta:
        if required:
            raise _bad(f"JSON document does not contain required field track_metadata.{key}.")
        return None
    if meta[key] is None and not required:
        return None
    v = meta[key]
    if not isinstance(v, str):
        raise _bad(f"track_metadata.{key} must be a single string.")
    v = v.strip()
    if not v:
        if required:
            raise _bad(f"field track_metadata.{key} is empty.")
        return None
    return v


def _check_tags(info: dict[str, Any]) -> None:
    tags = info.get("tags")
    if tags is None:
        return
    if not isinstance(tags, list) or len(tags) > MAX_TAGS_PER_LISTEN:
        raise _bad(f"JSON document may not contain more than {MAX_TAGS_PER_LISTEN} items in"
                   " track_metadata.additional_info.tags.")
    for tag in tags:
        if not isinstance(tag, str) or len(tag) > MAX_TAG_SIZE:
            raise _bad(f"JSON document may not contain track_metadata.additional_info.tags longer than"
                       f" {MAX_TAG_SIZE} characters.")


def _duration_ms(info: dict[str, Any]) -> int | None:
    if "duration" in info and "duration_ms" in info:
        raise _bad("JSON document should not contain both duration and duration_ms.")
    for key, scale, limit in (("duration", 1000, MAX_DURATION_S), ("duration_ms", 1, MAX_DURATION_S * 1000)):
        if key not in info:
            continue
        v = info[key]
        try:
            if isinstance(v, bool):
                raise TypeError
            n = int(float(v))
        except (TypeError, ValueError, OverflowError):
            raise _bad(f"Value for {key} is invalid, should be a positive integer.") from None
        if n <= 0:
            raise _bad(f"Value for {key} is invalid, should be a positive integer.")
        if n > limit:
            raise _bad(f"Value for {key} is too large, max permitted value is {limit}")
        return n * scale
    return None


def _is_uuid(v: object) -> bool:
    if not isinstance(v, str):
        return False
    try:
        uuid.UUID(v)
    except ValueError:
        return False
    return True


def _mbid(info: dict[str, Any], key: str) -> str | None:
    v = info.get(key)
    if not v:
        return None
    if not _is_uuid(v):
        raise _bad(f"{key} MBID format invalid.")
    return str(v)


def _no_nulls(value: object) -> None:
    # ListenBrainz refuses U+0000 anywhere in a listen (PostgreSQL cannot store it); so does musicd.
    if isinstance(value, str):
        if "\x00" in value:
            raise _bad(f"{value[:100]!r} contains a unicode null")
    elif isinstance(value, dict):
        for v in value.values():
            _no_nulls(v)
    elif isinstance(value, list):
        for v in value:
            _no_nulls(v)
