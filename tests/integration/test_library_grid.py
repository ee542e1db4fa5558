"""The web player's library grids over HTTP: every album sorted (name, artist, year, recently added) and
filtered (genre, years), every song a page at a time; names sort folded (accents and case)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from musicd.domain.catalog import fold_name
from tests.integration.playlist_helpers import track_ids
from tests.live import LiveServer


@pytest.fixture(scope="module")
def alice(live_server: LiveServer) -> Iterator[httpx.Client]:
    with live_server.client("alice") as c:
        yield c


def _all(c: httpx.Client, path: str, key: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    url: str | None = path
    query: dict[str, Any] | None = {"limit": 7, **params}  # small pages: the paging is exercised too
    while url:
        r = c.get(url, params=query)
        assert r.status_code == 200, r.text
        page = r.json()[key]
        out += page["items"]
        url, query = page["next"], None
    assert len(out) == page["total"]
    return out


def test_albums_sorted_and_filtered(alice: httpx.Client) -> None:
    by_name = _all(alice, "/v1/library/album-grid", "albums", sort="name")
    names = [fold_name(a["name"]) for a in by_name]
    assert names == sorted(names) and len(by_name) > 10
    every = {a["id"] for a in by_name}

    by_artist = _all(alice, "/v1/library/album-grid", "albums", sort="artist")
    assert {a["id"] for a in by_artist} == every
    by_year = _all(alice, "/v1/library/album-grid", "albums", sort="year")
    years = [int(a["release_date"][:4]) for a in by_year if a.get("release_date")]
    assert years == sorted(years, reverse=True) and {a["id"] for a in by_year} == every
    added = alice.get("/v1/library/album-grid", params={"sort": "added", "limit": 3}).json()["albums"]["items"]
    newest = alice.get("/v1/library/albums", params={"sort": "newest", "limit": 3}).json()["albums"]["items"]
    assert [a["id"] for a in added] == [a["id"] for a in newest]

    # A genre: the same albums as its browse category; years: only albums of those years.
    cat = alice.get("/v1/browse/categories", params={"limit": 50}).json()["categories"]["items"][0]
    want = {a["id"] for a in alice.get(f"/v1/browse/categories/{cat['id']}/albums", params={"limit": 100}
                                       ).json()["albums"]["items"]}
    got = _all(alice, "/v1/library/album-grid", "albums", genre=cat["name"], sort="artist")
    assert {a["id"] for a in got} == want and want
    all_years = alice.get("/v1/library/years").json()["years"]
    assert all_years == sorted(set(all_years), reverse=True) and len(all_years) >= 2
    lo, hi = all_years[-1], all_years[len(all_years) // 2]
    span = _all(alice, "/v1/library/album-grid", "albums", year_from=hi, year_to=lo)  # reversed: still a span
    assert span and all(lo <= int(a["release_date"][:4]) <= hi for a in span)
    assert len(span) < len(by_name)

    for bad in ({"sort": "popularity"}, {"limit": 0}, {"year_from": -1}):
        r = alice.get("/v1/library/album-grid", params=bad)
        assert r.status_code == 400 and "error" in r.json()


def test_every_song_a_page_at_a_time(alice: httpx.Client, live_server: LiveServer) -> None:
    songs = _all(alice, "/v1/library/tracks", "tracks", sort="title")
    assert sorted(t["id"] for t in songs) == sorted(track_ids(live_server))
    titles = [fold_name(t["name"]) for t in songs]
    assert titles == sorted(titles)
    by_album = _all(alice, "/v1/library/tracks", "tracks", sort="album")
    albums = [fold_name(t["album"]["name"]) for t in by_album]
    assert albums == sorted(albums)
    assert alice.get("/v1/library/tracks", params={"sort": "bpm"}).status_code == 400
    assert httpx.get(f"{live_server.base}/v1/library/tracks").status_code == 401
