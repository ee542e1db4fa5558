"""Feed parsing: tolerant of broken items, strict about DTDs and entities, sanitised show notes, Podcasting
2.0 chapters and transcripts, paged feeds, OPML in and out."""

from __future__ import annotations

import pytest

from musicd.errors import ValidationError
from musicd.net.feeds import FeedError, parse_chapters, parse_feed, parse_opml, sanitize_html, write_opml
from tests.feed_server import Item, rss

BASE = "http://feeds.example/show.xml"


def test_a_feed_with_broken_items_keeps_the_good_ones() -> None:
    body = rss("Show", [
        Item("g1", "One", "http://cdn.example/1.mp3", 1234, duration="1:02:03", notes="<p>notes</p>",
             chapters="http://cdn.example/1.json", transcripts=[("http://cdn.example/1.vtt", "text/vtt", "en"),
                                                                ("http://cdn.example/1.srt", "application/srt", None)]),
        Item("g2", "No audio", None),
        Item("g1", "Same guid again", "http://cdn.example/dup.mp3"),
        Item("g4", "FTP", "ftp://cdn.example/4.mp3"),
        Item(None, "No guid", "rel/5.mp3", type="audio/mp4"),
    ], next_page="page2.xml")
    feed = parse_feed(body, BASE)
    assert feed.title == "Show" and feed.author == "Test Author" and feed.language == "en"
    assert [i.title for i in feed.items] == ["One", "No guid"]
    one, five = feed.items
    assert (one.guid, one.duration_s, one.enclosure_length, one.published_at) == ("g1", 3723.0, 1234,
                                                                                   "2024-01-01T10:00:00Z")
    assert one.chapters_url == "http://cdn.example/1.json"
    assert [(t.url, t.language) for t in one.transcripts] == [("http://cdn.example/1.vtt", "en"),
                                                             ("http://cdn.example/1.srt", None)]
    assert five.guid == five.enclosure_url == "http://feeds.example/rel/5.mp3"  # relative to the feed
    assert feed.next_page == "http://feeds.example/page2.xml"
    assert len(feed.problems) == 3
    assert any("duplicate guid 'g1'" in p for p in feed.problems)
    assert any("'No audio' has no http(s) enclosure" in p for p in feed.problems)


def test_show_notes_are_sanitised() -> None:
    hostile = ('<p onclick="steal()">Hi <script>alert(1)</script><img src=x onerror=alert(2)>'
               '<a href="javascript:alert(3)">js</a> <a href="https://ok.example/">ok</a>'
               '<iframe src="https://evil.example"></iframe><style>body{}</style><b>bold</b></p>')
    feed = parse_feed(rss("S", [Item("g", "E", "http://cdn.example/e.mp3", notes=hostile)]), BASE)
    notes = feed.items[0].description
    for bad in ("script", "onclick", "onerror", "javascript:", "<img", "<iframe", "<style", "alert"):
        assert bad not in notes
    assert '<a href="https://ok.example/" rel="noopener noreferrer nofollow">ok</a>' in notes
    assert "<b>bold</b>" in notes
    assert sanitize_html("<svg onload=x><p>t</p></svg>") == "<p>t</p>"


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<rss><channel><title>&lol3;</title></channel></rss>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<rss><channel><title>&x;</title></channel></rss>"""
BROKEN_WITH_DTD = b"""<?xml version="1.0"?><rss><channel><title>x</title><!DOCTYPE y><item></rss>"""
UTF16_DTD = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r [<!ENTITY a "b">]><rss/>'.encode("utf-16")


@pytest.mark.parametrize("body", [BOMB, XXE, BROKEN_WITH_DTD, UTF16_DTD], ids=["bomb", "xxe", "broken", "utf16"])
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    with pytest.raises(FeedError, match="DTD or entities"):
        parse_feed(body, BASE)


@pytest.mark.parametrize("body", [b"", b"not xml at all", b"<html><body>a web page</body></html>", b"\x00\xff\xfe"])
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedError) as e:
        parse_feed(body, BASE)
    assert e.value.status == 422


def test_malformed_but_readable_feed_is_read() -> None:
    body = (b'<rss version="2.0"><channel><title>Loose</title><item><title>A & B</title>'
            b'<enclosure url="http://cdn.example/a.mp3" type="audio/mpeg"/><guid>a</guid></item>'
            b"<item><title>Unclosed</item></channel>")
    feed = parse_feed(body, BASE)
    assert feed.title == "Loose" and [i.guid for i in feed.items] == ["a"]


def test_chapters() -> None:
    ch = parse_chapters(b'{"version": "1.2.0", "chapters": [{"startTime": 30.5, "title": "Two", "url": '
                        b'"https://x.example/"}, {"startTime": 0, "title": "One"}, {"startTime": -1, "title": "bad"},'
                        b' {"title": "no time"}, {"startTime": 40, "title": "hidden", "toc": false}]}')
    assert [(c.start_s, c.title) for c in ch] == [(0.0, "One"), (30.5, "Two")]
    assert ch[1].url == "https://x.example/"
    for bad in (b"", b"[]", b'{"chapters": 3}', b"<xml/>"):
        with pytest.raises(ValidationError):
            parse_chapters(bad)


def test_opml_round_trip_and_hostile_opml() -> None:
    feeds = [("Show & Tell", "https://a.example/feed.xml"), ("B", "http://b.example/rss")]
    assert parse_opml(write_opml("mine", feeds)) == feeds
    body = (b'<?xml version="1.0"?><opml version="1.0"><body><outline text="group">'
            b'<outline text="A" xmlUrl="https://a.example/feed.xml"/><outline text="dup" '
            b'xmlUrl="https://a.example/feed.xml"/><outline text="js" xmlUrl="javascript:x"/>'
            b'<outline text="no url"/></outline></body></opml>')
    assert parse_opml(body) == [("A", "https://a.example/feed.xml")]
    for bad in (BOMB.replace(b"rss", b"opml"), b"<rss/>", b"garbage"):
        with pytest.raises(ValidationError):
            parse_opml(bad)
