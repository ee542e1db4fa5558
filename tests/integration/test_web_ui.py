"""The web player's server side over real HTTP: the page shells and static files, and the /v1 additions it
uses (stream tokens, lyrics, API keys, the admin scan state, whole-library lists)."""

from __future__ import annotations

import gzip
import re

import httpx
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from tests.live import LiveServer


def _code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


def _static_base(html: str) -> str:
    m = re.search(r'href="(/static/[0-9a-f]+)/css/app\.css"', html)
    assert m, html[:500]
    return m.group(1)


@pytest.mark.parametrize("path", ["/", "/search", "/library/albums", "/album/abc", "/playlist/x", "/settings",
                                  "/login", "/setup"])
def test_pages_are_shells_without_caching(live_server: LiveServer, path: str) -> None:
    r = httpx.get(live_server.base + path)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert '<html lang="en"' in r.text and 'type="module"' in r.text


def test_static_files_are_versioned_and_cached(live_server: LiveServer) -> None:
    static = _static_base(httpx.get(live_server.base + "/").text)
    url = f"{live_server.base}{static}/js/app.js"
    r = httpx.get(url, headers={"Accept-Encoding": "identity"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/javascript")
    assert r.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = r.headers["etag"]
    assert httpx.get(url, headers={"If-None-Match": etag}).status_code == 304
    raw = httpx.get(url, headers={"Accept-Encoding": "gzip"})
    assert raw.headers.get("content-encoding") == "gzip"
    assert raw.content == r.content  # httpx decodes it: the same bytes
    assert gzip.decompress(gzip.compress(r.content)) == r.content
    # An old version still answers (a page loaded before an upgrade), but must be revalidated.
    old = httpx.get(f"{live_server.base}/static/000000000000/js/app.js")
    assert old.status_code == 200 and old.headers["cache-control"] == "no-cache"
    for bad in ("/js/nope.js", "/../../pyproject.toml", "/%2e%2e/%2e%2e/musicd/app.py"):
        assert httpx.get(f"{live_server.base}{static}{bad}").status_code == 404


def _track_id(c: httpx.Client, title: str) -> str:
    r = c.get("/v1/search", params={"q": title, "type": "track", "limit": 10})
    assert r.status_code == 200, r.text
    return next(t["id"] for t in r.json()["tracks"]["items"] if t["name"] == title)


def test_stream_tokens_open_audio_and_images(live_server: LiveServer) -> None:
    with live_server.client("alice") as c:
        tid = _track_id(c, "Home")
        cover = c.get(f"/v1/tracks/{tid}").json()["album"]["images"][0]["url"].rsplit("/", 1)[1]
        r = c.post("/v1/me/stream-tokens", json={"ids": [tid, cover, tid]})
        assert r.status_code == 200, r.text
        tokens = r.json()["tokens"]
        assert set(tokens) == {tid, cover} and r.json()["expires_at"] > 0
    audio = httpx.get(f"{live_server.base}/v1/tracks/{tid}/stream", params={"st": tokens[tid], "quality": "lossless"},
                      headers={"Range": "bytes=0-3"})
    assert audio.status_code == 206 and audio.content == b"OggS"
    image = httpx.get(f"{live_server.base}/v1/images/{cover}", params={"st": tokens[cover], "size": 64})
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/")
    # A token is bound to its item.
    assert httpx.get(f"{live_server.base}/v1/images/{cover}", params={"st": tokens[tid]}).status_code == 401
    assert httpx.post(f"{live_server.base}/v1/me/stream-tokens", json={"ids": [tid]}).status_code == 401
    with live_server.client("alice") as c:
        for body in ({"ids": []}, {"ids": ["../x"]}, {"ids": ["a"] * 201}, {"nope": 1}):
            r = c.post("/v1/me/stream-tokens", json=body)
            assert r.status_code == 400, (body, r.text)


def test_lyrics_synced_plain_none_unknown(live_server: LiveServer, built_library: BuiltLibrary) -> None:
    with live_server.client("bob") as c:
        home = c.get(f"/v1/tracks/{_track_id(c, 'Home')}/lyrics").json()
        assert home["synced"] is True and home["source"] == "lrc"
        assert "[00:00.60]Lamplight on the harbour wall" in home["text"]
        fjord = c.get(f"/v1/tracks/{_track_id(c, 'Fjord Song')}/lyrics").json()
        assert fjord["synced"] is False and fjord["text"].startswith("Cold water under a silver sky")
        none = c.get(f"/v1/tracks/{_track_id(c, 'Polar Drift')}/lyrics")
        assert none.status_code == 200 and none.json()["text"] is None
        unknown = c.get("/v1/tracks/nosuchtrack123/lyrics")
        assert unknown.status_code == 404 and _code(unknown) == "track_not_found"


def _ping(live_server: LiveServer, key: str) -> str:
    r = httpx.get(f"{live_server.base}/rest/ping", params={"apiKey": key, "f": "json", "v": "1.16.1", "c": "t"})
    return str(r.json()["subsonic-response"]["status"])


def test_api_keys_shown_once_work_and_revoke(live_server: LiveServer) -> None:
    with live_server.client("bob") as bob:
        r = bob.post("/v1/me/api-keys", json={"name": "Test phone"})
        assert r.status_code == 201, r.text
        created = r.json()
        key = created["key"]
        assert key.startswith("msd_") and created["server_url"] == live_server.base and created["username"] == "bob"
        listed = bob.get("/v1/me/api-keys").json()
        mine = [k for k in listed["items"] if k["id"] == created["id"]]
        assert mine and "key" not in mine[0] and key.startswith(mine[0]["prefix"])
        assert _ping(live_server, key) == "ok"
        with live_server.client("alice") as alice:
            assert created["id"] not in {k["id"] for k in alice.get("/v1/me/api-keys").json()["items"]}
            assert alice.delete(f"/v1/me/api-keys/{created['id']}").status_code == 404
        assert bob.delete(f"/v1/me/api-keys/{created['id']}").status_code == 204
        assert _ping(live_server, key) == "failed"
    with live_server.client("guest") as guest:
        assert guest.post("/v1/me/api-keys", json={"name": "x"}).status_code == 403
        assert guest.get("/v1/me/api-keys").status_code == 200


def test_admin_scan_state_is_for_admins(live_server: LiveServer, built_library: BuiltLibrary) -> None:
    with live_server.client("alice") as alice:
        assert alice.get("/v1/admin/scan").status_code == 403
        assert alice.post("/v1/admin/scan").status_code == 403
    with live_server.client("admin") as admin:
        state = admin.get("/v1/admin/scan").json()
        assert state["folders"] == [str(built_library.root)]
        assert {"running", "phase", "done", "total", "last", "last_error"} <= set(state)


def test_whole_library_lists(live_server: LiveServer, built_library: BuiltLibrary) -> None:
    with live_server.client("alice") as c:
        albums = c.get("/v1/library/albums", params={"limit": 100}).json()["albums"]
        assert albums["total"] == len(built_library.albums())
        assert {a["name"] for a in albums["items"]} == {t.album for t in built_library.tracks}
        page = c.get("/v1/library/albums", params={"limit": 5, "offset": 5, "sort": "newest"}).json()["albums"]
        assert len(page["items"]) == 5 and page["offset"] == 5 and page["previous"]
        artists = c.get("/v1/library/artists", params={"limit": 100}).json()["artists"]
        names = {a["name"] for a in artists["items"]}
        assert {"Ósk Harbour", "Röyksopp", "Kari Nordmann"} <= names
        assert c.get("/v1/library/albums", params={"sort": "bogus"}).status_code == 400
        cats = c.get("/v1/browse/categories", params={"limit": 50}).json()["categories"]["items"]
        pop = next(cat for cat in cats if cat["name"] == "Pop")
        want = {t.title for t in built_library.tracks if "Pop" in t.genres}
        got = c.get(f"/v1/browse/categories/{pop['id']}/tracks", params={"limit": 100}).json()["tracks"]
        assert {t["name"] for t in got["items"]} == want and got["total"] == len(want)
        genre_albums = c.get(f"/v1/browse/categories/{pop['id']}/albums").json()["albums"]["items"]
        assert {a["name"] for a in genre_albums} == {t.album for t in built_library.tracks if "Pop" in t.genres}
        assert c.get("/v1/browse/categories/no-such-genre/tracks").status_code == 404
