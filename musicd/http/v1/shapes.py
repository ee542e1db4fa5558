"""Spotify Web API object shapes for the catalogue read models: tracks, albums, artists, paging, mixes.

Ids are musicd's own (22 base62 characters, like Spotify's). URIs go out as `spotify:<type>:<id>` (see
`uri`), so that Spotify client libraries, which accept only `spotify:` URIs and base62 ids, can hand
them back unchanged; `musicd:<type>:<id>` is accepted as well wherever ids or URIs come in
(see `parse_id`, `parse_ids`, `parse_uri`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request
from litestar.openapi import ResponseSpec

from musicd.domain.catalog import AlbumView, ArtistRef, ArtistView, Category, Mix, Page, TrackView
from musicd.domain.federation import Origin
from musicd.errors import ValidationError
from musicd.http.urls import base_url

__all__ = [
    "ERRORS",
    "MAX_IDS",
    "WRITE_ERRORS",
    "ErrorBody",
    "Links",
    "album_full",
    "album_simple",
    "artist_full",
    "artist_simple",
    "category_object",
    "image_objects",
    "images",
    "links",
    "mix_playlist",
    "page_of",
    "paging",
    "parse_id",
    "parse_ids",
    "parse_uri",
    "parse_uris",
    "release_date",
    "source_object",
    "track_full",
    "track_object",
    "track_simple",
    "uri",
]

MAX_IDS = 50
_ID = re.compile(r"^[0-9A-Za-z_-]{1,128}$")
_URI = re.compile(r"^(?:musicd|spotify):(?P<type>[a-z]+):(?P<id>[^:]+)$")

T = TypeVar("T")


class ErrorDetail(msgspec.Struct):
    status: int
    code: str
    message: str


class ErrorBody(msgspec.Struct):
    """The JSON body of every /v1 error."""

    error: ErrorDetail


def _error_specs(*codes: int) -> dict[int, ResponseSpec]:
    what = {400: "Bad parameters", 401: "No valid access token", 403: "Not allowed for this account",
            404: "No such item", 429: "Too many requests (see Retry-After)"}
    return {c: ResponseSpec(data_container=ErrorBody, description=what[c]) for c in codes}


# The error responses of /v1 handlers, for the OpenAPI schema (`responses=ERRORS`).
ERRORS = _error_specs(400, 401, 404, 429)
WRITE_ERRORS = _error_specs(400, 401, 403, 404, 429)


class Links:
    """Absolute links: `base` is scheme://host[:port] (or the configured public URL); with the request,
    `here` rebuilds its URL with other query parameters (for paging `next`/`previous`)."""

    def __init__(self, base: str, request: Request[Any, Any, Any] | None = None) -> None:
        self.base = base.rstrip("/")
        self.request = request

    def href(self, kind: str, item_id: str) -> str:
        return f"{self.base}/v1/{kind}s/{item_id}"

    def image(self, cover_id: str) -> str:
        return f"{self.base}/v1/images/{cover_id}"

    def here(self, **override: Any) -> str:
        """This request's URL with some query parameters replaced."""
        if self.request is None:
            raise RuntimeError("Links without a request cannot name the current URL")
        params = dict(self.request.query_params)
        params.update({k: str(v) for k, v in override.items()})
        query = urlencode(params)
        return f"{self.base}{self.request.url.path}" + (f"?{query}" if query else "")


def links(request: Request[Any, Any, Any]) -> Links:
    """The links of one request."""
    return Links(base_url(request), request)


LinksOrBase = Links | str


def _ln(where: LinksOrBase) -> Links:
    return where if isinstance(where, Links) else Links(where)


# ---- ids and uris ----

def uri(kind: str, item_id: str) -> str:
    """The URI musicd emits for an item: `spotify:<kind>:<id>` (see the module docstring)."""
    return f"spotify:{kind}:{item_id}"


def parse_id(value: str, kind: str) -> str:
    """A bare id or a `musicd:`/`spotify:` URI of `kind`; a 400 for anything else."""
    value = value.strip()
    m = _URI.match(value)
    if m:
        if m["type"] != kind:
            raise ValidationError(f"{value!r} is not a {kind} URI", code="bad_id")
        value = m["id"]
    if not _ID.match(value):
        raise ValidationError(f"invalid {kind} id {value!r}", code="bad_id")
    return value


def parse_ids(csv: str | None, kind: str, required: bool = True, most: int = MAX_IDS) -> list[str]:
    """A comma-separated list of ids or URIs (1 to `most` of them)."""
    parts = [p for p in (csv or "").split(",") if p.strip()]
    if not parts:
        if required:
            raise ValidationError("ids is required", code="missing_ids")
        return []
    if len(parts) > most:
        raise ValidationError(f"at most {most} ids at once", code="too_many_ids")
    return [parse_id(p, kind) for p in parts]


def parse_uri(value: str, kinds: Sequence[str]) -> tuple[str, str]:
    """(type, id) of a `musicd:`/`spotify:` URI whose type is one of `kinds`."""
    m = _URI.match(value.strip())
    if not m or m["type"] not in kinds or not _ID.match(m["id"]):
        raise ValidationError(f"invalid URI {value!r} (expected one of: {', '.join(kinds)})", code="bad_uri")
    return m["type"], m["id"]


def parse_uris(csv: str | None, kinds: Sequence[str], most: int = MAX_IDS) -> list[tuple[str, str]]:
    parts = [p for p in (csv or "").split(",") if p.strip()]
    if not parts:
        raise ValidationError("uris is required", code="missing_uris")
    if len(parts) > most:
        raise ValidationError(f"at most {most} uris at once", code="too_many_uris")
    return [parse_uri(p, kinds) for p in parts]


# ---- objects ----

def images(where: LinksOrBase, cover_id: str | None) -> list[dict[str, Any]]:
    ln = _ln(where)
    return [] if cover_id is None else [{"url": ln.image(cover_id), "height": None, "width": None}]


def _popularity(play_count: int) -> int:
    return min(100, play_count)


def release_date(release: str | None, year: int | None) -> tuple[str, str]:
    """Spotify's (release_date, release_date_precision) from a tagged date or a year."""
    if release and re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", release):
        return release, {4: "year", 7: "month"}.get(len(release), "day")
    return (f"{year:04d}" if year else "0000"), "year"


def source_object(origin: Origin | None) -> dict[str, Any] | None:
    """Where an item comes from: None for this server's own, else the friend's server (`available`: it answers)."""
    if origin is None:
        return None
    return {"type": "peer", "id": origin.peer_id, "name": origin.name, "available": origin.available}


def _with_source(out: dict[str, Any], origin: Origin | None) -> dict[str, Any]:
    if origin is not None:
        out["source"] = source_object(origin)
    return out


def artist_simple(where: LinksOrBase, a: ArtistRef | ArtistView) -> dict[str, Any]:
    ln = _ln(where)
    return _with_source({"external_urls": {}, "href": ln.href("artist", a.id), "id": a.id, "name": a.name,
                         "type": "artist", "uri": uri("artist", a.id)}, getattr(a, "origin", None))


def artist_full(where: LinksOrBase, a: ArtistView) -> dict[str, Any]:
    ln = _ln(where)
    out = artist_simple(ln, a)
    out.update({
        "followers": {"href": None, "total": 0}, "genres": a.genres, "images": images(ln, a.cover_id),
        "popularity": _popularity(a.state.play_count), "album_count": a.album_count, "track_count": a.track_count,
    })
    return out


def album_simple(where: LinksOrBase, a: AlbumView, group_of: str | None = None) -> dict[str, Any]:
    """A simplified album; `group_of` (an artist id) adds the `album_group` of the artist albums list."""
    ln = _ln(where)
    date, precision = release_date(a.release_date, a.year)
    out = {
        "album_type": "compilation" if a.compilation else "album", "total_tracks": a.track_count,
        "available_markets": [], "external_urls": {}, "href": ln.href("album", a.id), "id": a.id,
        "images": images(ln, a.cover_id), "name": a.name, "release_date": date,
        "release_date_precision": precision, "restrictions": None, "type": "album", "uri": uri("album", a.id),
        "artists": [artist_simple(ln, a.artist)],
    }
    if group_of is not None:
        out["album_group"] = "album" if a.artist.id == group_of else "appears_on"
    return _with_source(out, a.origin)


def album_full(where: LinksOrBase, a: AlbumView, tracks: Page[TrackView] | None = None) -> dict[str, Any]:
    """A full album; without `tracks` its `tracks` paging object is empty and `next` points at them."""
    ln = _ln(where)
    out = album_simple(ln, a)
    href = f"{ln.href('album', a.id)}/tracks"
    if tracks is not None:
        track_page = paging(ln, [track_simple(ln, t) for t in tracks.items], tracks.total, tracks.limit,
                            tracks.offset, href=href)
    else:
        track_page = {"href": href, "items": [], "limit": 0, "offset": 0, "previous": None, "total": a.track_count,
                      "next": f"{href}?offset=0&limit=50" if a.track_count else None}
    out.update({
        "tracks": track_page, "copyrights": [], "external_ids": {}, "genres": a.genres, "label": "",
        "popularity": _popularity(a.play_count), "duration_ms": round(a.duration * 1000),
    })
    return out


def track_simple(where: LinksOrBase, t: TrackView) -> dict[str, Any]:
    ln = _ln(where)
    return {
        "artists": [artist_simple(ln, a) for a in t.artists] or [artist_simple(ln, t.album_artist)],
        "available_markets": [], "disc_number": t.disc_number or 1, "duration_ms": round(t.duration * 1000),
        "explicit": False, "external_urls": {}, "href": ln.href("track", t.id), "id": t.id,
        "is_playable": t.origin is None or t.origin.available, "name": t.title, "preview_url": None,
        "track_number": t.track_number or 0, "type": "track", "uri": uri("track", t.id), "is_local": False,
        **({"source": source_object(t.origin)} if t.origin is not None else {}),
    }


def track_full(where: LinksOrBase, t: TrackView) -> dict[str, Any]:
    ln = _ln(where)
    out = track_simple(ln, t)
    date, precision = release_date(None, t.year)
    out.update({
        "album": {
            "album_type": "compilation" if t.compilation else "album", "total_tracks": t.track_total,
            "available_markets": [], "external_urls": {}, "href": ln.href("album", t.album_id), "id": t.album_id,
            "images": images(ln, t.cover_id), "name": t.album_name, "release_date": date,
            "release_date_precision": precision, "type": "album", "uri": uri("album", t.album_id),
            "artists": [artist_simple(ln, t.album_artist)],
        },
        "external_ids": {"isrc": t.isrc} if t.isrc else {}, "popularity": _popularity(t.play_count),
    })
    return out


def paging(where: LinksOrBase, items: list[Any], total: int, limit: int, offset: int, href: str | None = None
           ) -> dict[str, Any]:
    """A Spotify paging object. With `Links` of a request, `next`/`previous` repeat its query with another
    offset; with a string (or `href`), they are that URL (without query) plus offset and limit."""
    if isinstance(where, str):
        href, ln = href or where, None
    else:
        ln = where

    def at(o: int) -> str:
        if href is None and ln is not None:
            return ln.here(offset=o, limit=limit)
        return f"{href}?{urlencode({'offset': o, 'limit': limit})}"

    nxt = at(offset + limit) if limit and offset + limit < total else None
    prev = at(max(0, offset - limit)) if offset > 0 and limit else None
    return {"href": at(offset), "items": items, "limit": limit, "next": nxt, "offset": offset, "previous": prev,
            "total": total}


def page_of(ln: Links, page: Page[T], mapper: Callable[[Links, T], dict[str, Any]]) -> dict[str, Any]:
    """A paging object of a service page, each item mapped."""
    return paging(ln, [mapper(ln, x) for x in page.items], page.total, page.limit, page.offset)


def image_objects(base: str, cover_id: str | None) -> list[dict[str, Any]]:
    """`images` for a cover id, from a base URL (for mappers that have no request at hand)."""
    return images(base, cover_id)


def track_object(base: str, t: TrackView) -> dict[str, Any]:
    """A full track object from a base URL."""
    return track_full(base, t)


def category_object(where: LinksOrBase, c: Category) -> dict[str, Any]:
    ln = _ln(where)
    return {"href": f"{ln.base}/v1/browse/categories/{c.id}", "icons": images(ln, c.cover_id), "id": c.id,
            "name": c.name}


def mix_playlist(where: LinksOrBase, m: Mix) -> dict[str, Any]:
    """A generated mix as a simplified playlist owned by the server."""
    ln = _ln(where)
    href = f"{ln.base}/v1/playlists/{m.id}"
    return {
        "collaborative": False, "description": m.description, "external_urls": {}, "href": href, "id": m.id,
        "images": images(ln, m.cover_id), "name": m.name, "primary_color": None, "public": True,
        "snapshot_id": m.snapshot, "type": "playlist", "uri": uri("playlist", m.id),
        "owner": {"external_urls": {}, "href": f"{ln.base}/v1/users/musicd", "id": "musicd", "type": "user",
                  "uri": uri("user", "musicd"), "display_name": "musicd"},
        "tracks": {"href": f"{href}/tracks", "total": len(m.track_ids)},
    }
