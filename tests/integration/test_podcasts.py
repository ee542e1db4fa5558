"""Podcasts end to end over HTTP against a local feed server: subscribe, refresh (ETag, paging, broken
items), download and stream (Range, also while downloading), the hostile cases of issue 16, rights."""

from __future__ import annotations

import time

import httpx

from tests.feed_server import Item, Route, rss
from tests.integration import podcast_support
from tests.integration.podcast_support import (
    PodcastWorld,
    episode_status,
    episodes_by_title,
    main_show,
    publish_main_feed,
    wait_for,
)

world = podcast_support.world  # the module's live server and feed server (a fixture)


def test_subscribe_refresh_download_and_stream(world: PodcastWorld) -> None:
    fs = world.feeds
    with world.server.client("admin") as c:
        sid = main_show(world, c)
        show = c.get(f"/v1/shows/{sid}").json()
        assert show["name"] == "Main Show" and show["publisher"] == "Test Author" and show["saved"] is True
        assert show["uri"] == f"spotify:show:{sid}" and len(sid) == 22 and sid.isalnum()
        assert "Broken, no enclosure" in show["error"] and "duplicate guid" in show["error"]
        assert show["images"] and show["images"][0]["url"].endswith(f"/v1/images/{show['images'][0]['url'][-32:]}")
        eps = episodes_by_title(c, sid)
        assert list(eps) == ["Second Episode", "First Episode"]  # newest first, broken and duplicate skipped
        first, second = eps["First Episode"], eps["Second Episode"]
        assert first["chapters"] == [{"start_s": 0.0, "title": "Hello", "url": None, "image": None},
                                     {"start_s": 4.0, "title": "News", "url": None, "image": None}]
        assert first["transcripts"] == [{"url": fs.url("/a/one.vtt"), "type": "text/vtt", "language": "en"}]
        notes = second["html_description"]
        assert "<b>bold</b>" in notes and "script" not in notes and "javascript" not in notes
        # The newest two are downloaded ahead of time (auto_download = 2); the feed's length of "one" lied.
        for e in (first, second):
            wait_for(lambda e=e: episode_status(c, e["id"]) == "completed", what="downloads")
        one = c.get(f"/v1/episodes/{first['id']}").json()
        assert one["download"]["size"] == len(world.audio["one"]) and one["download"]["format"] == "mp3"
        assert 7_500 < one["duration_ms"] < 8_500
        r = c.get(f"/v1/episodes/{first['id']}/stream", headers={"Range": "bytes=100-1099"})
        assert r.status_code == 206 and r.content == world.audio["one"][100:1100]
        assert r.headers["content-range"] == f"bytes 100-1099/{len(world.audio['one'])}"
        r = c.get(f"/v1/episodes/{second['id']}/stream", params={"quality": "low"})
        assert r.status_code == 200 and r.headers["content-type"] == "audio/ogg"  # a tier, as for music
        assert r.content[:4] == b"OggS"

        # A refresh sends the ETag: an unchanged feed is not downloaded again.
        before = fs.not_modified.get("/main.xml", 0)
        assert c.post(f"/v1/shows/{sid}/refresh").json()["status"] == "not_modified"
        assert fs.not_modified["/main.xml"] == before + 1
        # A changed feed: the new item is added, the rest kept.
        fs.routes["/a/three.mp3"] = Route(world.audio["one"], "audio/mpeg")
        publish_main_feed(fs, world.audio, etag='"v2"', extra=[
            Item("main-3", "Third Episode", fs.url("/a/three.mp3"), pub="Wed, 03 Jan 2024 10:00:00 GMT")])
        res = c.post(f"/v1/shows/{sid}/refresh").json()
        assert res["status"] == "ok" and res["new_episodes"] == 1
        assert list(episodes_by_title(c, sid)) == ["Third Episode", "Second Episode", "First Episode"]
        found = c.get("/v1/search", params={"q": "third episod", "type": "episode,show"}).json()
        assert [e["name"] for e in found["episodes"]["items"]] == ["Third Episode"]
        found = c.get("/v1/search", params={"q": "main shw", "type": "show"}).json()
        assert [s["id"] for s in found["shows"]["items"]] == [sid]


def test_streams_while_downloading(world: PodcastWorld) -> None:
    fs, audio = world.feeds, world.audio["slow"]
    fs.routes["/a/slow.mp3"] = Route(audio, "audio/mpeg", chunk=16384, delay=0.15)
    fs.routes["/slow.xml"] = Route(rss("Slow Show", [
        Item("new", "Newest", fs.url("/a/one-again.mp3"), pub="Fri, 05 Jan 2024 10:00:00 GMT"),
        Item("new2", "Newer", fs.url("/a/one-again.mp3"), pub="Thu, 04 Jan 2024 10:00:00 GMT"),
        Item("slow", "Slow One", fs.url("/a/slow.mp3"), pub="Mon, 01 Jan 2024 10:00:00 GMT")]))
    fs.routes["/a/one-again.mp3"] = Route(world.audio["one"], "audio/mpeg")
    with world.server.client("admin") as c:
        sid = world.add_feed(c, "/slow.xml").json()["id"]
        slow = episodes_by_title(c, sid)["Slow One"]
        assert slow["download"]["status"] == "new"  # older than the newest two: not fetched ahead
        t0 = time.monotonic()
        r = c.get(f"/v1/episodes/{slow['id']}/stream", headers={"Range": "bytes=1000-2999"})
        took = time.monotonic() - t0
        assert r.status_code == 206 and r.content == audio[1000:3000]
        assert r.headers["content-range"] == f"bytes 1000-2999/{len(audio)}"
        assert episode_status(c, slow["id"]) == "downloading"  # answered before the download ended
        assert took < len(audio) / 16384 * 0.15
        # Another listener joins the same download and gets every byte in order.
        r = c.get(f"/v1/tracks/{slow['id']}/stream")  # the track stream takes an episode id too
        assert r.status_code == 200 and r.content == audio
        wait_for(lambda: episode_status(c, slow["id"]) == "completed", what="the download")
        assert fs.hits["/a/slow.mp3"] == 1


def test_hostile_feeds_are_refused_and_nothing_is_kept(world: PodcastWorld) -> None:
    fs = world.feeds
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
            b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><rss><channel><title>&lol3;</title></channel></rss>')
    fs.routes["/bomb.xml"] = Route(bomb)
    fs.routes["/garbage.xml"] = Route(b"<html><body>this is not a feed</body></html>", "text/html")
    fs.routes["/huge.xml"] = Route(b"<rss>" + b" " * (50 * 1024 * 1024) + b"</rss>")
    fs.routes["/huge-unannounced.xml"] = Route(b"<rss>" + b" " * (3 * 1024 * 1024) + b"</rss>", omit_length=True)
    fs.routes["/loop1.xml"] = Route(redirect=fs.url("/loop2.xml"))
    fs.routes["/loop2.xml"] = Route(redirect=fs.url("/loop1.xml"))
    fs.routes["/to-loopback.xml"] = Route(redirect="http://127.0.0.1:1/feed.xml")
    cases = {"/bomb.xml": (422, "bad_feed"), "/garbage.xml": (422, "bad_feed"), "/huge.xml": (502, "too_large"),
             "/huge-unannounced.xml": (502, "too_large"), "/loop1.xml": (502, "redirect_loop"),
             "/to-loopback.xml": (400, "address_not_allowed"), "/no-such-feed.xml": (502, "http_status")}
    with world.server.client("admin") as c:
        before = {s["feed_url"] for s in c.get("/v1/podcasts").json()["items"]}
        for path, (status, code) in cases.items():
            r = world.add_feed(c, path)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), (path, r.text)
        for url in ("http://localhost:9/feed", "http://169.254.169.254/latest/meta-data", "file:///etc/passwd",
                    "gopher://x/"):
            r = c.post("/v1/podcasts", json={"feed_url": url})
            assert r.status_code == 400, (url, r.text)
        assert {s["feed_url"] for s in c.get("/v1/podcasts").json()["items"]} == before
        assert c.get("/health").status_code == 200
    log = world.server.log()
    assert log.count("redirect loop") == 1  # logged once, where it happened
    assert "Traceback" not in log


def test_a_feed_that_vanishes_keeps_its_episodes(world: PodcastWorld) -> None:
    fs = world.feeds
    fs.routes["/vanish.xml"] = Route(rss("Vanishing", [Item("v1", "Still Here", fs.url("/a/one.mp3"))]))
    with world.server.client("admin") as c:
        sid = world.add_feed(c, "/vanish.xml").json()["id"]
        del fs.routes["/vanish.xml"]
        res = c.post(f"/v1/shows/{sid}/refresh").json()
        assert res["status"] == "error" and "404" in res["error"]
        show = c.get(f"/v1/shows/{sid}").json()
        assert show["status"] == "error" and list(episodes_by_title(c, sid)) == ["Still Here"]
        fs.routes["/vanish.xml"] = Route(b"<rss><channel><title>Vanishing</title></channel>broken")
        assert c.post(f"/v1/shows/{sid}/refresh").json()["status"] in ("ok", "error")
        assert list(episodes_by_title(c, sid)) == ["Still Here"]  # a feed emptied by accident deletes nothing


def test_enclosures_that_lie(world: PodcastWorld) -> None:
    fs = world.feeds
    fs.routes["/lies/page.mp3"] = Route(b"<html>" + b"x" * 5000 + b"</html>", "audio/mpeg")  # not audio at all
    fs.routes["/lies/ogg.mp3"] = Route(world.audio["ogg"], "audio/mpeg")  # Ogg said to be MP3
    fs.routes["/lies/huge.mp3"] = Route(b"x" * 1000, "audio/mpeg", content_length=50_000_000)  # over the limit
    fs.routes["/lies/short.mp3"] = Route(world.audio["one"][:4000], "audio/mpeg", content_length=9000)
    fs.routes["/lies.xml"] = Route(rss("Liars", [
        Item("page", "A Web Page", fs.url("/lies/page.mp3"), 100_000),
        Item("ogg", "Really Ogg", fs.url("/lies/ogg.mp3"), 5),
        Item("huge", "Too Big", fs.url("/lies/huge.mp3"), 10),
        Item("short", "Cut Short", fs.url("/lies/short.mp3"), 10)]))
    with world.server.client("admin") as c:
        sid = world.add_feed(c, "/lies.xml").json()["id"]
        eps = episodes_by_title(c, sid)
        for e in eps.values():
            assert c.post(f"/v1/episodes/{e['id']}/download").status_code == 202
        for title, (status, fmt_or_error) in {"A Web Page": ("error", "not audio"), "Really Ogg": ("completed", "ogg"),
                                              "Too Big": ("error", "over podcasts.max_episode_bytes"),
                                              "Cut Short": ("error", "expected 9000")}.items():
            eid = eps[title]["id"]
            wait_for(lambda eid=eid: episode_status(c, eid) in ("completed", "error"), what=title)
            got = c.get(f"/v1/episodes/{eid}").json()["download"]
            assert got["status"] == status, (title, got)
            assert fmt_or_error in (got["format"] if status == "completed" else got["error"]), (title, got)
        r = c.get(f"/v1/episodes/{eps['Really Ogg']['id']}/stream")
        assert r.headers["content-type"] == "audio/ogg" and r.content == world.audio["ogg"]
        files = list((world.server.data_dir / "podcasts").rglob("*"))
        assert not [f for f in files if f.suffix == ".part"]


def test_who_may_add_feeds(world: PodcastWorld) -> None:
    fs = world.feeds
    fs.routes["/alice.xml"] = Route(rss("Alice's Pick", [Item("a1", "A1", fs.url("/a/one.mp3"))]))
    srv = world.server
    admin, alice, guest = srv.client("admin"), srv.client("alice"), srv.client("guest")
    with admin, alice, guest:
        r = world.add_feed(alice, "/alice.xml")
        assert r.status_code == 403 and r.json()["error"]["code"] == "podcast_right_required"
        # Users cannot give themselves the right; an admin can.
        r = alice.put("/v1/me/settings", json={"podcasts_allowed": True})
        assert r.status_code == 403 and r.json()["error"]["code"] == "admin_setting"
        uid = srv.user_id("alice")
        r = admin.patch(f"/v1/admin/users/{uid}", json={"settings": {"podcasts_allowed": True}})
        assert r.status_code == 200, r.text
        sid = world.add_feed(alice, "/alice.xml").json()["id"]
        # Anyone but a guest subscribes to a show the server has; a guest listens only.
        guest_show = guest.get(f"/v1/shows/{sid}")
        assert guest_show.status_code == 200 and guest_show.json()["saved"] is False
        r = guest.put("/v1/me/shows", params={"ids": sid})
        assert r.status_code == 403 and r.json()["error"]["code"] == "guest_read_only"
        assert world.add_feed(guest, "/alice.xml").status_code == 403
        assert guest.delete(f"/v1/shows/{sid}").status_code == 403
        ep = next(iter(episodes_by_title(guest, sid).values()))
        assert guest.put(f"/v1/me/episodes/{ep['id']}/progress", json={"position_ms": 5}).status_code == 403
        assert guest.get(f"/v1/episodes/{ep['id']}/stream").status_code == 200
        admin.patch(f"/v1/admin/users/{uid}", json={"settings": {"podcasts_allowed": False}})
        assert alice.delete(f"/v1/shows/{sid}").status_code == 403
        assert admin.delete(f"/v1/shows/{sid}").status_code == 204
        assert admin.get(f"/v1/shows/{sid}").status_code == 404


def test_one_position_everywhere_and_continue_listening(world: PodcastWorld) -> None:
    with world.server.client("admin") as admin:
        sid = main_show(world, admin)
    with world.server.client("bob") as bob:
        assert bob.put("/v1/me/shows", params={"ids": sid}).status_code == 200
        ep = episodes_by_title(bob, sid)["Second Episode"]
        r = bob.put(f"/v1/me/episodes/{ep['id']}/progress", json={"position_ms": 4000, "device_id": "web"})
        assert r.json()["resume_point"] == {"fully_played": False, "resume_position_ms": 4000}
        assert [e["id"] for e in bob.get("/v1/me/episodes/in-progress").json()["items"]] == [ep["id"]]
        # An older report (another device's clock says it was earlier) does not move it back.
        old = int(time.time() * 1000) - 60_000
        bob.put(f"/v1/me/episodes/{ep['id']}/progress", json={"position_ms": 1000, "timestamp": old})
        assert bob.get(f"/v1/episodes/{ep['id']}").json()["resume_point"]["resume_position_ms"] == 4000
        # Near the end counts as played, and a played episode leaves "continue listening".
        bob.put(f"/v1/me/episodes/{ep['id']}/progress", json={"position_ms": 11_900})
        assert bob.get(f"/v1/episodes/{ep['id']}").json()["resume_point"]["fully_played"] is True
        assert bob.get("/v1/me/episodes/in-progress").json()["items"] == []
        r = bob.put(f"/v1/me/episodes/{ep['id']}/played", json={"played": False})
        assert r.json()["resume_point"] == {"fully_played": False, "resume_position_ms": 0}
        # Positions are per user.
        with world.server.client("alice") as alice:
            assert alice.get(f"/v1/episodes/{ep['id']}").json()["resume_point"]["resume_position_ms"] == 0
        r = bob.put(f"/v1/me/episodes/{ep['id']}/progress", json={"position_ms": -5})
        assert r.status_code == 400


def test_opml_import_and_export(world: PodcastWorld) -> None:
    fs = world.feeds
    fs.routes["/opml-a.xml"] = Route(rss("OPML A", [Item("oa", "OA", fs.url("/a/one.mp3"))]))
    opml = (f'<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>'
            f'<outline text="A" xmlUrl="{fs.url("/opml-a.xml")}"/>'
            f'<outline text="Gone" xmlUrl="{fs.url("/opml-missing.xml")}"/>'
            f'<outline text="Main" xmlUrl="{fs.url("/main.xml")}"/></body></opml>').encode()
    with world.server.client("admin") as c:
        r = c.post("/v1/podcasts/opml", content=opml, headers={"content-type": "text/x-opml"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert sorted(s["name"] for s in body["added"]) == ["Main Show", "OPML A"]
        assert [f["feed_url"] for f in body["failed"]] == [fs.url("/opml-missing.xml")]
        exported = c.get("/v1/me/shows/opml")
        assert exported.status_code == 200 and fs.url("/opml-a.xml") in exported.text
        bad = c.post("/v1/podcasts/opml", content=b"<!DOCTYPE x [<!ENTITY a 'b'>]><opml/>")
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_opml"


def test_errors_are_json(world: PodcastWorld) -> None:
    with world.server.client("admin") as c:
        for path in ("/v1/shows/0000000000000000000000", "/v1/episodes/0000000000000000000000",
                     "/v1/shows/0000000000000000000000/episodes"):
            r = c.get(path)
            assert r.status_code == 404 and r.json()["error"]["code"] in ("show_not_found", "episode_not_found")
        assert c.get("/v1/shows/bad id!").status_code == 400
        assert c.post("/v1/podcasts", json={"feed": "x"}).status_code == 400
        assert c.put("/v1/me/shows", params={"ids": "0000000000000000000000"}).status_code == 404
    assert httpx.get(f"{world.server.base}/v1/shows", params={"ids": "x"}).status_code == 401


VTT = b"WEBVTT\n\n00:00:01.500 --> 00:00:03.000\n<v Host>Welcome to <b>the</b> show\n\n" \
      b"00:00:04.000 --> 00:00:06.000\nSecond cue\n"
JSON_TRANSCRIPT = (b'{"version": "1.0.0", "segments": [{"speaker": "Gast", "startTime": 0.5, "endTime": 2,'
                   b' "body": "Hallo"}, {"startTime": "broken"},'
                   b' {"startTime": 3, "body": "<script>x</script>Tschuess"}]}')


def test_transcripts_fetched_read_and_refused(world: PodcastWorld) -> None:
    """Podcasting 2.0 transcripts: VTT and JSON read into timed segments, the language chosen, the file
    fetched once; a vanished, hostile or unreadable one is a clear error and the show is untouched."""
    fs = world.feeds
    fs.routes["/t/en.vtt"] = Route(VTT, "text/vtt")
    fs.routes["/t/de.json"] = Route(JSON_TRANSCRIPT, "application/json")
    fs.routes["/t/junk.vtt"] = Route(b"this is not WebVTT at all", "text/vtt")
    fs.routes["/t/loop.vtt"] = Route(redirect="http://127.0.0.1:1/t.vtt")
    fs.routes["/trans.xml"] = Route(rss("Transcribed", [
        Item("t1", "Talk", fs.url("/a/one.mp3"), transcripts=[(fs.url("/t/en.vtt"), "text/vtt", "en"),
                                                             (fs.url("/t/de.json"), "application/json", "de")]),
        Item("t2", "Junk", fs.url("/a/one.mp3"), transcripts=[(fs.url("/t/junk.vtt"), "text/vtt", None)]),
        Item("t3", "Gone", fs.url("/a/one.mp3"), transcripts=[(fs.url("/t/gone.vtt"), "text/vtt", None)]),
        Item("t4", "Sneaky", fs.url("/a/one.mp3"), transcripts=[(fs.url("/t/loop.vtt"), "text/vtt", None)]),
        Item("t5", "Silent", fs.url("/a/one.mp3"))]))
    with world.server.client("admin") as c:
        sid = world.add_feed(c, "/trans.xml").json()["id"]
        eps = {t: e["id"] for t, e in episodes_by_title(c, sid).items()}
    with world.server.client("guest") as c:  # listeners read transcripts, guests too
        t = c.get(f"/v1/episodes/{eps['Talk']}/transcript", params={"language": "en"}).json()
        assert t["language"] == "en" and [s["speaker"] for s in t["segments"]] == ["Host", None]
        assert [(s["start_ms"], s["end_ms"], s["text"]) for s in t["segments"]] == [
            (1500, 3000, "Welcome to the show"), (4000, 6000, "Second cue")]
        assert {a["language"] for a in t["available"]} == {"en", "de"}
        t = c.get(f"/v1/episodes/{eps['Talk']}/transcript", params={"language": "deu"}).json()
        assert [(s["start_ms"], s["speaker"], s["text"]) for s in t["segments"]] == [(500, "Gast", "Hallo"),
                                                                                   (3000, None, "Tschuess")]
        c.get(f"/v1/episodes/{eps['Talk']}/transcript", params={"language": "en"})
        assert fs.hits["/t/en.vtt"] == 1  # kept: fetched once for every listener
        for title, params, (status, code) in [
                ("Talk", {"language": "fr"}, (404, "transcript_not_found")),
                ("Talk", {"language": "<script>"}, (400, "bad_language")),
                ("Silent", {}, (404, "transcript_not_found")),
                ("Junk", {}, (422, "bad_transcript")),
                ("Gone", {}, (502, "http_status")),
                ("Sneaky", {}, (400, "address_not_allowed"))]:
            r = c.get(f"/v1/episodes/{eps[title]}/transcript", params=params)
            assert (r.status_code, r.json()["error"]["code"]) == (status, code), (title, r.text)
        assert c.get("/v1/episodes/0000000000000000000000/transcript").status_code == 404
        assert c.get(f"/v1/shows/{sid}").json()["status"] == "ok"
    with world.server.client(None) as c:
        assert c.get(f"/v1/episodes/{eps['Talk']}/transcript").status_code == 401
    assert "Traceback" not in world.server.log()
