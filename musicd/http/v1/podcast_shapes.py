"""Spotify Web API show and episode objects for musicd's podcasts (plus what the web player needs:
the download state, chapters, transcripts; Spotify clients ignore fields they do not know)."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from musicd.domain.podcasts import Episode, Show
from musicd.http.v1.shapes import Links, LinksOrBase, images, release_date, uri

__all__ = ["episode_full", "episode_simple", "show_full", "show_simple"]


def _ln(where: LinksOrBase) -> Links:
    return where if isinstance(where, Links) else Links(where)


def _plain(html: str) -> str:
    # Spotify's `description` is plain text; `html_description` keeps the (sanitised) markup.
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", " ", html)).strip()


def show_simple(where: LinksOrBase, s: Show) -> dict[str, Any]:
    ln = _ln(where)
    return {
        "available_markets": [], "copyrights": [], "description": _plain(s.description),
        "html_description": s.description, "explicit": False, "external_urls": {"feed": s.feed_url},
        "href": ln.href("show", s.id), "id": s.id, "images": images(ln, s.cover_id), "is_externally_hosted": False,
        "languages": [s.language] if s.language else [], "media_type": "audio", "name": s.title,
        "publisher": s.author, "type": "show", "uri": uri("show", s.id), "total_episodes": s.episode_count,
        "feed_url": s.feed_url, "status": s.status, "error": s.error, "last_refresh_at": s.last_refresh_at,
        "saved": s.saved,
    }


def show_full(where: LinksOrBase, s: Show, episodes: dict[str, Any]) -> dict[str, Any]:
    out = show_simple(where, s)
    out["episodes"] = episodes
    return out


def episode_simple(where: LinksOrBase, e: Episode) -> dict[str, Any]:
    ln = _ln(where)
    date, precision = release_date(e.published_at[:10] if e.published_at else None, None)
    duration_ms = round((e.duration_s or 0) * 1000)
    return {
        "audio_preview_url": None, "description": _plain(e.description), "html_description": e.description,
        "duration_ms": duration_ms, "explicit": False, "external_urls": {"enclosure": e.enclosure_url},
        "href": ln.href("episode", e.id), "id": e.id, "images": images(ln, e.cover_id),
        "is_externally_hosted": False, "is_playable": e.status != "error", "language": None, "languages": [],
        "name": e.title, "release_date": date, "release_date_precision": precision,
        "resume_point": {"fully_played": e.progress.played, "resume_position_ms": e.progress.position_ms},
        "type": "episode", "uri": uri("episode", e.id), "restrictions": None,
        "show_id": e.show_id, "published_at": e.published_at, "download": {"status": e.status, "error": e.error,
                                                                            "size": e.size, "format": e.format},
        "chapters": [msgspec.structs.asdict(c) for c in e.chapters],
        "transcripts": [msgspec.structs.asdict(t) for t in e.transcripts],
        "progress_updated_at": e.progress.updated_at,
    }


def episode_full(where: LinksOrBase, e: Episode, show: Show | None) -> dict[str, Any]:
    out = episode_simple(where, e)
    if show is not None:
        out["show"] = show_simple(where, show)
    return out
