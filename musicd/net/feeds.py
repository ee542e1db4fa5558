"""Feed parsing: RSS/Atom pages into FeedInfo, Podcasting 2.0 chapters and transcripts, OPML in and out.

Untrusted XML is checked with defusedxml first: a document with a DTD or an entity declaration (the XML
bomb, external entities) is refused before any parser expands it. feedparser then reads the feed
tolerantly (a malformed document still gives the items that can be read) and each item is checked on
its own: an item without a usable enclosure is skipped and named in `problems`, never the whole feed.
Show notes are sanitised here with nh3 (Ammonia), so what is stored is already safe to display.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from typing import Any
from urllib.parse import urljoin, urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

import nh3
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from musicd.domain.podcasts import Chapter, FeedInfo, FeedItem, Transcript, parse_duration
from musicd.errors import ValidationError

__all__ = ["FeedError", "parse_chapters", "parse_feed", "parse_opml", "plain_text", "sanitize_html", "write_opml"]

_PODCAST_NS = ("https://podcastindex.org/namespace/1.0",
               "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md")
_ATOM_NS = "http://www.w3.org/2005/Atom"
_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li",
         "ol", "p", "pre", "s", "small", "strong", "sub", "sup", "u", "ul"}
_MAX_TEXT = 100_000  # characters of show notes kept per item
_MAX_CHAPTERS = 1000
_MAX_ITEMS = 5000
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class FeedError(ValidationError):
    """The document is not a feed musicd accepts (a DTD, not XML at all, no channel)."""

    code = "bad_feed"
    status = 422


def sanitize_html(html: str) -> str:
    """Show notes reduced to harmless formatting and http(s)/mailto links (no scripts, styles, images, events)."""
    return nh3.clean(html[:_MAX_TEXT], tags=_TAGS, attributes={"a": {"href", "title"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow").strip()


def plain_text(html: str) -> str:
    """The words of some HTML (for search)."""
    return re.sub(r"\s+", " ", nh3.clean(html, tags=set())).strip()


def _refuse_dtd(body: bytes) -> Element | None:
    """The parsed tree when the document is well-formed; FeedError for a DTD or entity declaration."""
    try:
        return SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise FeedError("the feed declares a DTD or entities; such XML is refused") from None
    except (SafeET.ParseError, ValueError):
        # Not well-formed: feedparser may still read it, but never let a declaration through.
        # (NUL bytes dropped: a UTF-16 document spells "<!DOCTYPE" with a NUL after each letter.)
        if _DOCTYPE.search(body) or _DOCTYPE.search(body.replace(b"\x00", b"")):
            raise FeedError("the feed declares a DTD or entities; such XML is refused") from None
        return None


def _iso(parsed: Any) -> str | None:
    if not parsed:
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(calendar.timegm(parsed)))
    except (TypeError, ValueError, OverflowError):
        return None


def _http_url(value: Any, base: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    url = urljoin(base, value.strip())
    return url if urlsplit(url).scheme in ("http", "https") and len(url) <= 2000 else None


def _absolute(value: Any) -> str | None:
    """An absolute http(s) URL as it is (an item's link; feedparser copies a non-URL guid into it)."""
    return _http_url(value, "") if isinstance(value, str) and value.startswith(("http://", "https://")) else None


def _text(value: Any, limit: int = 1000) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()[:limit]


def _extras(tree: Element | None) -> list[dict[str, Any]]:
    """Per item (document order): every podcast:transcript and the podcast:chapters URL (feedparser keeps
    only the last element of a repeated unknown tag)."""
    if tree is None:
        return []
    items = [e for e in tree.iter() if e.tag in ("item", f"{{{_ATOM_NS}}}entry")]
    out = []
    for item in items:
        found: dict[str, Any] = {"transcripts": [], "chapters": None}
        for child in item:
            ns, _, local = child.tag.rpartition("}")
            if ns.lstrip("{") not in _PODCAST_NS:
                continue
            if local == "transcript" and child.get("url"):
                found["transcripts"].append({"url": child.get("url"), "type": child.get("type") or "",
                                             "language": child.get("language")})
            elif local == "chapters" and child.get("url"):
                found["chapters"] = child.get("url")
        out.append(found)
    return out


def _enclosure(entry: Any, base: str) -> tuple[str, str | None, int | None] | None:
    links = [lk for lk in entry.get("links", []) if lk.get("rel") == "enclosure"]
    links.sort(key=lambda lk: 0 if str(lk.get("type", "")).startswith("audio/") else 1)
    for lk in links:
        url = _http_url(lk.get("href"), base)
        if url:
            length = str(lk.get("length", "")).strip()
            return url, (str(lk.get("type") or "") or None), (int(length) if length.isdigit() else None)
    return None


def _psc_chapters(entry: Any) -> list[Chapter]:
    psc = entry.get("psc_chapters") or {}
    out = []
    for c in psc.get("chapters", [])[:_MAX_CHAPTERS]:
        start = c.get("start_parsed")
        if start is not None:
            out.append(Chapter(start.total_seconds(), _text(c.get("title"), 300), c.get("href") or None))
    return out


def _item(entry: Any, extra: dict[str, Any], base: str) -> FeedItem:
    enclosure = _enclosure(entry, base)
    title = _text(entry.get("title"), 500)
    if enclosure is None:
        raise ValueError(f"item {title or '(untitled)'!r} has no http(s) enclosure")
    url, ctype, length = enclosure
    guid = _text(entry.get("id"), 500) or url
    notes = entry.get("content", [{}])[0].get("value") if entry.get("content") else entry.get("summary")
    transcripts = extra.get("transcripts") or ([entry["podcast_transcript"]] if entry.get("podcast_transcript") else [])
    chapters_url = extra.get("chapters") or (entry.get("podcast_chapters") or {}).get("url")
    image = entry.get("image", {}).get("href") if isinstance(entry.get("image"), dict) else None
    return FeedItem(
        guid=guid, title=title or "(untitled)", enclosure_url=url, description=sanitize_html(str(notes or "")),
        published_at=_iso(entry.get("published_parsed") or entry.get("updated_parsed")),
        duration_s=parse_duration(entry.get("itunes_duration")), link=_absolute(entry.get("link")),
        enclosure_type=ctype, enclosure_length=length, image_url=_http_url(image, base),
        chapters_url=_http_url(chapters_url, base), chapters=_psc_chapters(entry),
        transcripts=[Transcript(u, _text(t.get("type"), 100), t.get("language") or None) for t in transcripts
                     if (u := _http_url(t.get("url"), base))],
    )


def parse_feed(body: bytes, url: str) -> FeedInfo:
    """One feed page; FeedError when it is refused or holds no feed at all. Broken items are skipped."""
    # Imported here: feedparser costs the server ~3 MiB, and only a household with podcasts parses feeds.
    import feedparser

    tree = _refuse_dtd(body)
    parsed = feedparser.parse(body, resolve_relative_uris=False, sanitize_html=False)
    feed = parsed.get("feed", {})
    entries = parsed.get("entries", [])
    if not feed.get("title") and not entries:
        why = parsed.get("bozo_exception")
        raise FeedError(f"not a podcast feed{f': {why}' if why else ''}")
    extras = _extras(tree)
    if len(extras) != len(entries):
        extras = [{} for _ in entries]
    items: list[FeedItem] = []
    problems: list[str] = []
    seen: set[str] = set()
    for entry, extra in zip(entries[:_MAX_ITEMS], extras, strict=False):
        try:
            item = _item(entry, extra, url)
        except (ValueError, TypeError, AttributeError, KeyError) as e:
            problems.append(str(e))
            continue
        if item.guid in seen:
            problems.append(f"duplicate guid {item.guid[:200]!r}: the first item with it is kept")
            continue
        seen.add(item.guid)
        items.append(item)
    nxt = next((lk.get("href") for lk in feed.get("links", []) if lk.get("rel") == "next"), None)
    image = (feed.get("image") or {}).get("href") or (feed.get("image") or {}).get("url")
    return FeedInfo(
        title=_text(feed.get("title"), 500) or urlsplit(url).hostname or url, items=items,
        author=_text(feed.get("author") or feed.get("itunes_author"), 300),
        description=sanitize_html(str(feed.get("subtitle") or feed.get("summary") or "")),
        link=_http_url(feed.get("link"), url), image_url=_http_url(image, url),
        language=_text(feed.get("language"), 20) or None,
        categories=[_text(t.get("term"), 100) for t in feed.get("tags", []) if t.get("term")][:20],
        next_page=_http_url(nxt, url), problems=problems,
    )


def parse_chapters(body: bytes) -> list[Chapter]:
    """A Podcasting 2.0 JSON chapters file; ValidationError when it is not one."""
    try:
        doc = json.loads(body)
        raw = doc["chapters"]
        if not isinstance(raw, list):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise ValidationError("not a JSON chapters file", code="bad_chapters") from None
    out = []
    for c in raw[:_MAX_CHAPTERS]:
        if not isinstance(c, dict) or not isinstance(c.get("startTime"), int | float) or c["startTime"] < 0:
            continue
        if c.get("toc") is False:
            continue
        out.append(Chapter(float(c["startTime"]), _text(c.get("title"), 300),
                           _http_url(c.get("url"), "http://x/"), _http_url(c.get("img"), "http://x/")))
    return sorted(out, key=lambda c: c.start_s)


def parse_opml(body: bytes) -> list[tuple[str, str]]:
    """(title, feed URL) of every outline with an http(s) xmlUrl; ValidationError for a bad document."""
    try:
        root = SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ValidationError("the OPML declares a DTD or entities; such XML is refused", code="bad_opml") from None
    except (SafeET.ParseError, ValueError) as e:
        raise ValidationError(f"not an OPML document: {e}", code="bad_opml") from None
    if root.tag.lower() != "opml":
        raise ValidationError("not an OPML document (no <opml> root)", code="bad_opml")
    out: dict[str, str] = {}
    for outline in root.iter("outline"):
        url = _http_url(outline.get("xmlUrl") or outline.get("xmlurl"), "http://x/")
        if url and url not in out and (outline.get("xmlUrl") or "").strip().startswith(("http://", "https://")):
            out[url] = _text(outline.get("text") or outline.get("title"), 300)
    return [(title, url) for url, title in out.items()]


def write_opml(title: str, feeds: list[tuple[str, str]]) -> bytes:
    """An OPML 2.0 subscription list of (title, feed URL)."""
    root = Element("opml", version="2.0")
    SubElement(SubElement(root, "head"), "title").text = title
    body = SubElement(root, "body")
    for name, url in feeds:
        SubElement(body, "outline", type="rss", text=name, title=name, xmlUrl=url)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="unicode").encode()
