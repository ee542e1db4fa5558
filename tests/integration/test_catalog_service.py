"""CatalogService and UserLibraryService over a real scan of the test library."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import msgspec
import pytest

from musicd.devtools.library_builder import BuiltLibrary
from musicd.domain.catalog import AlbumView, ArtistView, TrackView, fold_name
from musicd.domain.models import User
from musicd.errors import NotFoundError, ValidationError
from musicd.services.registry import Services, open_services
from musicd.store.db import utc_now
from tests.conftest import make_config

OpenServices = Callable[..., AbstractAsyncContextManager[Services]]


@pytest.fixture(scope="module")
def scanned_dir(built_library: BuiltLibrary, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding one scan of the test library, shared by the module (tests use their own users)."""
    data_dir = tmp_path_factory.mktemp("catalog-data")

    async def go() -> None:
        s = await open_services(make_config(data_dir, built_library.root))
        try:
            await s.library.scan()
        finally:
            await s.close()

    asyncio.run(go())
    return data_dir


@pytest.fixture
async def s(services_for: OpenServices, built_library: BuiltLibrary, scanned_dir: Path) -> AsyncIterator[Services]:
    async with services_for(built_library.root, data_dir=scanned_dir) as services:
        yield services


async def _member(s: Services, name: str) -> User:
    return await s.accounts.create(f"{name}-{utc_now()[-7:-1]}".replace(".", ""), "long-enough-pw")


async def _user(s: Services, name: str) -> str:
    return (await _member(s, name)).id


async def _albums_by_name(s: Services) -> dict[tuple[str, str], AlbumView]:
    page = await s.catalog.album_list("alphabeticalByName", None, 500, 0)
    return {(a.artist.name, a.name): a for a in page.items}


async def _play(s: Services, user_id: str, track_id: str, at: str) -> None:
    await s.db.execute(
        "INSERT INTO listening_history (user_id, track_id, played_at, ms_played) VALUES (?, ?, ?, 1000)",
        (user_id, track_id, at),
    )


async def test_albums_and_their_tracks_match_the_library(s: Services, built_library: BuiltLibrary) -> None:
    albums = await _albums_by_name(s)
    expected = built_library.albums()
    assert set(albums) == set(expected)
    for key, want in expected.items():
        album = albums[key]
        assert album.track_count == len(want)
        assert album.compilation == any(t.compilation for t in want)
        assert album.artists[0] == album.artist
        got = await s.catalog.album(album.id)
        assert got == album
        tracks = await s.catalog.album_tracks(album.id)
        assert [t.title for t in tracks] == [t.title for t in want]
        assert all(t.album_id == album.id and t.album_name == album.name for t in tracks)
        assert {t.year for t in want if t.year} <= {album.year}
    summer = albums[("Various Artists", "Summer Mix 2020")]
    assert summer.compilation and summer.genres == ["Dance"]
    assert {"Marina Bay", "Nova"} <= {a.name for a in summer.artists[1:]}
    assert summer.cover_id is not None
    with pytest.raises(NotFoundError) as e:
        await s.catalog.album("nope")
    assert e.value.code == "album_not_found"
    with pytest.raises(NotFoundError):
        await s.catalog.album_tracks("nope")


async def test_tracks_by_id_keep_order_and_fields(s: Services, built_library: BuiltLibrary) -> None:
    albums = await _albums_by_name(s)
    tracks = await s.catalog.album_tracks(albums[("Röyksopp", "Melody A.M.")].id)
    feat = next(t for t in tracks if len(t.artists) > 1)
    want = built_library.track(feat.rel_path)
    assert [a.name for a in feat.artists] == list(want.artists)
    assert feat.artist_display == want.artist
    assert feat.genres == list(want.genres)
    assert feat.format == want.format and feat.duration == pytest.approx(want.duration, abs=0.1)
    got = await s.catalog.tracks([tracks[1].id, "missing", tracks[0].id])
    assert got == [tracks[1], None, tracks[0]]
    with pytest.raises(NotFoundError) as e:
        await s.catalog.track("missing")
    assert e.value.code == "track_not_found"
    f = await s.catalog.track_file(feat.id)
    assert f.path == built_library.root / feat.rel_path
    assert f.size == f.path.stat().st_size == feat.size
    assert f.format == feat.format


async def test_artists_index_albums_top_and_related(s: Services) -> None:
    artists = await s.catalog.all_artists()
    names = [a.name for a in artists]
    assert {"R.E.M.", "AC/DC", "a-ha", "Marina Bay", "Various Artists"} <= set(names)
    by_name = {a.name: a for a in artists}
    assert by_name["R.E.M."].album_count == 1 and by_name["R.E.M."].track_count == 2
    assert by_name["Marina Bay"].album_count == 0
    only = await s.catalog.all_artists(album_artists_only=True)
    assert "Marina Bay" not in {a.name for a in only} and "R.E.M." in {a.name for a in only}

    roy = await s.catalog.artist(by_name["Röyksopp"].id)
    assert roy.genres[:1] in (["Electronic"], ["Downtempo"])
    page = await s.catalog.artist_albums(roy.id)
    assert [a.name for a in page.items] == ["Melody A.M."] and page.total == 1
    marina = await s.catalog.artist_albums(by_name["Marina Bay"].id)
    assert [a.name for a in marina.items] == ["Summer Mix 2020"]
    assert marina.items[0].artist.id != by_name["Marina Bay"].id  # the "appears_on" group
    assert (await s.catalog.artist_albums(by_name["Marina Bay"].id, include_groups=["album"])).total == 0
    with pytest.raises(ValidationError):
        await s.catalog.artist_albums(roy.id, include_groups=["bogus"])

    top = await s.catalog.artist_top_tracks(roy.id)
    assert top and all(roy.id in {a.id for a in t.artists} for t in top)
    related = await s.catalog.related_artists(roy.id)
    assert "Kari Nordmann" in [a.name for a in related][:2]  # co-credited beats a shared genre
    assert roy.id not in {a.id for a in related}
    with pytest.raises(NotFoundError) as e:
        await s.catalog.artist_top_tracks("nope")
    assert e.value.code == "artist_not_found"


async def test_album_lists(s: Services) -> None:
    me = await _member(s, "lists")
    uid = me.id
    everything = await s.catalog.album_list("alphabeticalByName", uid, 500, 0)
    names = [fold_name(a.name) for a in everything.items]  # accents and case folded: "Élan" files under E
    assert names == sorted(names) and everything.total == len(names)
    page = await s.catalog.album_list("alphabeticalByName", uid, 3, 2)
    assert page.items == everything.items[2:5] and page.total == everything.total
    assert (await s.catalog.album_list("alphabeticalByName", uid, 3, 10_000)).items == []

    by_artist = await s.catalog.album_list("alphabeticalByArtist", uid, 500, 0)
    assert [fold_name(a.artist.name) for a in by_artist.items] == sorted(fold_name(a.artist.name)
                                                                          for a in by_artist.items)
    newest = await s.catalog.album_list("newest", uid, 500, 0)
    assert [a.created_at for a in newest.items] == sorted((a.created_at for a in newest.items), reverse=True)
    assert len((await s.catalog.album_list("random", uid, 4, 0)).items) == 4

    years = await s.catalog.album_list("byYear", uid, 500, 0, from_year=2000, to_year=2012)
    got = [a.year for a in years.items]
    assert got == sorted(got) and got and all(y is not None and 2000 <= y <= 2012 for y in got)
    rev = await s.catalog.album_list("byYear", uid, 500, 0, from_year=2012, to_year=2000)
    assert [a.year for a in rev.items] == sorted(got, reverse=True)

    rock = await s.catalog.album_list("byGenre", uid, 500, 0, genre="rock")
    assert {a.name for a in rock.items} == {"Звёздная ночь", "Greatest Hits"}
    assert all("Rock" in a.genres for a in rock.items)

    for kind in ("starred", "highest", "frequent", "recent"):
        assert (await s.catalog.album_list(kind, uid, 10, 0)).items == []
    a, b, c = everything.items[:3]
    await s.user_library.save("album", [b.id, a.id], me)
    starred = await s.catalog.album_list("starred", uid, 10, 0)
    assert {x.id for x in starred.items} == {a.id, b.id} and all(x.state.saved_at for x in starred.items)
    await s.user_library.set_rating("album", c.id, me, 5)
    await s.user_library.set_rating("album", a.id, me, 2)
    assert [x.id for x in (await s.catalog.album_list("highest", uid, 10, 0)).items] == [c.id, a.id]
    assert (await s.catalog.album(c.id, uid)).state.rating == 5
    assert (await s.catalog.album(c.id)).state.rating is None  # nobody asking: no state

    ta = (await s.catalog.album_tracks(a.id))[0]
    tb = (await s.catalog.album_tracks(b.id))[0]
    await _play(s, uid, ta.id, "2024-01-01T10:00:00.000Z")
    await _play(s, uid, ta.id, "2024-01-02T10:00:00.000Z")
    await _play(s, uid, tb.id, "2024-01-03T10:00:00.000Z")
    assert [x.id for x in (await s.catalog.album_list("frequent", uid, 10, 0)).items] == [a.id, b.id]
    assert [x.id for x in (await s.catalog.album_list("recent", uid, 10, 0)).items] == [b.id, a.id]
    state = (await s.catalog.track(ta.id, uid)).state
    assert state.play_count == 2 and state.last_played_at == "2024-01-02T10:00:00.000Z"
    assert (await s.catalog.album(a.id, uid)).state.play_count == 2

    with pytest.raises(ValidationError):
        await s.catalog.album_list("bogus", uid, 10, 0)
    with pytest.raises(ValidationError):
        await s.catalog.album_list("byGenre", uid, 10, 0)
    with pytest.raises(ValidationError):
        await s.catalog.album_list("newest", uid, 10, -1)


async def test_genres_random_similar_lyrics_covers(s: Services, built_library: BuiltLibrary) -> None:
    genres = {g.name: g for g in await s.catalog.genres()}
    want_rock = [t for t in built_library.tracks if "Rock" in t.genres]
    assert genres["Rock"].track_count == len(want_rock) and genres["Rock"].album_count == 2
    page = await s.catalog.tracks_by_genre("rock", 2, 0)
    assert page.total == len(want_rock) and len(page.items) == 2
    rnd = await s.catalog.random_tracks(50, genre="Rock")
    assert len(rnd) == len(want_rock) and all("Rock" in t.genres for t in rnd)
    old = await s.catalog.random_tracks(50, from_year=1980, to_year=1990)
    assert old and all(t.year is not None and 1980 <= t.year <= 1990 for t in old)
    assert await s.catalog.genre_cover("Rock") is not None

    albums = await _albums_by_name(s)
    rem = await s.catalog.album_tracks(albums[("R.E.M.", "Greatest Hits")].id)
    similar = await s.catalog.similar_tracks(rem[0].id, 20)
    assert rem[0].id not in {t.id for t in similar}
    assert similar[0].id == rem[1].id  # same artist beats a shared genre
    assert rem[0].id not in {t.id for t in await s.catalog.similar_tracks(rem[0].album_id, 20)}

    lrc = next(t for t in built_library.tracks if t.lyrics == "lrc")
    none = next(t for t in built_library.tracks if t.lyrics is None)
    by_path = {t.rel_path: t for a in albums.values() for t in await s.catalog.album_tracks(a.id)}
    lyr = await s.lyrics.pick(by_path[lrc.path].id)
    assert lyr is not None and lyr.synced and lrc.lyrics_first_line in lyr.text
    assert await s.lyrics.pick(by_path[none.path].id) is None
    with pytest.raises(NotFoundError):
        await s.lyrics.pick("nope")

    cover = await s.catalog.cover_path(albums[("Various Artists", "Summer Mix 2020")].cover_id or "")
    assert cover.path.is_file() and cover.mime == "image/jpeg"
    with pytest.raises(NotFoundError) as e:
        await s.catalog.cover_path("0" * 32)
    assert e.value.code == "cover_not_found"

    releases = await s.catalog.new_releases(5, 0)
    assert len(releases.items) == 5 and releases.total == len(albums)
    counts = await s.catalog.counts()
    assert counts["tracks"] == len(built_library.tracks) and counts["albums"] == len(albums)


async def test_saved_items_and_ratings(s: Services) -> None:
    me = await _member(s, "saver")
    uid = me.id
    other = await _user(s, "other")
    tracks: list[TrackView] = (await s.catalog.random_tracks(3))
    ids = [t.id for t in tracks]
    await s.user_library.save("track", ids[:2], me)
    await s.user_library.save("track", ids[:1], me)  # twice is fine
    assert await s.user_library.contains("track", ids, uid) == [True, True, False]
    assert await s.user_library.contains("track", ids, other) == [False, False, False]
    saved = await s.user_library.saved("track", uid, 10, 0)
    assert saved.total == 2 and {t.id for t in saved.items} == set(ids[:2])
    assert all(t.state.saved_at for t in saved.items)
    assert (await s.user_library.saved("track", uid, 1, 1)).items[0].id in ids[:2]
    await s.user_library.unsave("track", [ids[0], "never-saved"], me)
    assert await s.user_library.contains("track", ids, uid) == [False, True, False]
    with pytest.raises(NotFoundError) as e:
        await s.user_library.save("track", [ids[2], "missing"], me)
    assert e.value.code == "track_not_found"
    assert await s.user_library.contains("track", ids, uid) == [False, True, False]  # nothing half-saved

    await s.user_library.set_rating("track", ids[2], me, 4)
    assert (await s.catalog.track(ids[2], uid)).state.rating == 4
    await s.user_library.set_rating("track", ids[2], me, 0)
    assert (await s.catalog.track(ids[2], uid)).state.rating is None
    with pytest.raises(ValidationError):
        await s.user_library.set_rating("track", ids[2], me, 6)
    with pytest.raises(ValidationError):
        await s.user_library.save("playlist", ids, me)

    artist = (await s.catalog.all_artists())[0]
    await s.user_library.save("artist", [artist.id], me)
    assert (await s.catalog.artist(artist.id, uid)).state.saved_at is not None
    assert (await s.user_library.saved("artist", uid)).items[0].id == artist.id


async def test_follows(s: Services) -> None:
    me = await _member(s, "follower")
    uid = me.id
    friend = await _user(s, "friend")
    artists = await s.catalog.all_artists()
    ids = [a.id for a in artists[:5]]
    await s.user_library.follow("artist", ids, me)
    assert await s.user_library.is_following("artist", [ids[0], artists[6].id], uid) == [True, False]
    first = await s.user_library.followed_artists(uid, 2)
    assert first.total == 5 and len(first.items) == 2 and first.after == first.items[-1].id
    second = await s.user_library.followed_artists(uid, 2, first.after)
    third = await s.user_library.followed_artists(uid, 2, second.after)
    seen = [a.id for p in (first, second, third) for a in p.items]
    assert sorted(seen) == sorted(ids) and third.after is None
    await s.user_library.unfollow("artist", ids[:1], me)
    assert (await s.user_library.followed_artists(uid, 10)).total == 4

    await s.user_library.follow("user", [friend], me)
    assert await s.user_library.is_following("user", [friend], uid) == [True]
    assert await s.user_library.followed_users(uid) == [friend]
    with pytest.raises(ValidationError):
        await s.user_library.follow("user", [uid], me)
    with pytest.raises(NotFoundError) as e:
        await s.user_library.follow("user", ["nobody"], me)
    assert e.value.code == "user_not_found"
    await s.user_library.unfollow("user", [friend], me)
    assert await s.user_library.followed_users(uid) == []


async def test_recently_played_and_tops(s: Services) -> None:
    from datetime import UTC, datetime, timedelta

    uid = await _user(s, "listener")
    # Three tracks by three different single artists, so the artist ranking below is unambiguous.
    picked: list = []
    for t in sorted(await s.catalog.random_tracks(100), key=lambda t: t.id):
        if len(t.artists) == 1 and all(t.artists[0].id != p.artists[0].id for p in picked):
            picked.append(t)
    t1, t2, t3 = picked[:3]
    now = datetime.now(UTC)

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    # t3 played a lot, but a year ago; t1 most in the last weeks.
    for d in (400, 401, 402, 403):
        await _play(s, uid, t3.id, ago(d))
    for d in (1, 2, 3):
        await _play(s, uid, t1.id, ago(d))
    await _play(s, uid, t2.id, ago(0.5))
    await _play(s, uid, "removed-track", ago(0.1))  # history outlives a removed file; it is skipped

    recent = await s.user_library.recently_played(uid, 3)
    assert [p.track.id for p in recent.items] == [t2.id, t1.id, t1.id]
    assert recent.before is not None
    older = await s.user_library.recently_played(uid, 3, before_ms=int(recent.before))
    assert [p.track.id for p in older.items] == [t1.id, t3.id, t3.id]
    newer = await s.user_library.recently_played(uid, 2, after_ms=int(older.after or 0))
    assert [p.track.id for p in newer.items] == [t1.id, t1.id]

    short = await s.user_library.top_tracks(uid, "short_term")
    assert [t.id for t in short.items] == [t1.id, t2.id] and short.total == 2
    long = await s.user_library.top_tracks(uid, "long_term")
    assert [t.id for t in long.items] == [t3.id, t1.id, t2.id]
    assert (await s.user_library.top_tracks(uid, "long_term", 1, 1)).items[0].id == t1.id
    top_artists = await s.user_library.top_artists(uid, "short_term")
    assert top_artists.items[0].id == t1.artists[0].id
    with pytest.raises(ValidationError):
        await s.user_library.top_tracks(uid, "forever")


async def test_mixes_and_categories(s: Services, built_library: BuiltLibrary) -> None:
    from musicd.services.mixes import category_slug, is_mix_id, mix_id, parse_mix_id

    assert category_slug("Alternative Rock") == "alternative-rock" and category_slug("J-Pop") == "j-pop"
    assert category_slug("ロック").startswith("g") and category_slug("ロック") != category_slug("演歌")
    cats = await s.mixes.categories()
    assert len({c.id for c in cats}) == len(cats) == len(await s.catalog.genres())
    rock = await s.mixes.category("rock")
    assert rock.name == "Rock" and rock.cover_id is not None
    with pytest.raises(NotFoundError) as e:
        await s.mixes.category("nope")
    assert e.value.code == "category_not_found"

    mix = (await s.mixes.category_mixes("rock"))[0]
    assert is_mix_id(mix.id) and mix.id == mix_id("genre", "rock") and parse_mix_id(mix.id) == ("genre", "rock")
    assert len(mix.id) % 2 == 1 and mix.id.isalnum()  # base62, and never the length of a stored id
    rock_ids = {t.id for t in (await s.catalog.tracks_by_genre("Rock", 100)).items}
    assert set(mix.track_ids) == rock_ids
    assert (await s.mixes.mix(mix.id)).track_ids == mix.track_ids  # stable within a day
    assert (await s.mixes.mix("mix-genre-rock")).id == mix.id  # the older id form is still understood

    uid = await _user(s, "mixer")
    featured = await s.mixes.featured(uid)
    ids = [m.id for m in featured]
    assert mix_id("new", "all") in ids and mix_id("top", "me") not in ids  # nothing played yet: no empty mixes
    new = await s.mixes.mix(mix_id("new", "all"))
    assert len(new.track_ids) == min(50, len(built_library.tracks))
    track = (await s.catalog.random_tracks(1))[0]
    await _play(s, uid, track.id, utc_now())
    assert (await s.mixes.mix(mix_id("top", "me"), uid)).track_ids == [track.id]
    assert mix_id("top", "me") in [m.id for m in await s.mixes.featured(uid)]
    for bad in (mix_id("top", "me"), "mix-bogus-x", mix_id("genre", "nope"), "not-a-mix", "mixzz", "mix0"):
        with pytest.raises(NotFoundError):
            await s.mixes.mix(bad)  # mix-top-me needs a user


async def test_artist_index_without_play_counts_is_the_same_index(s: Services) -> None:
    """`plays=False` (the Subsonic index) lists the same artists in the same order with the same fields
    and the user's stars, only without summing play counts."""
    me = await _member(s, "indexer")
    first = (await s.catalog.all_artists(me.id, album_artists_only=True))[0]
    await s.user_library.save("artist", [first.id], me)
    full = await s.catalog.all_artists(me.id, album_artists_only=True)
    lean = await s.catalog.all_artists(me.id, album_artists_only=True, plays=False)

    def fields(a: ArtistView) -> tuple[object, ...]:
        return (a.id, a.name, a.sort_name, a.album_count, a.track_count, a.cover_id, a.mbid, a.state.saved_at,
                a.state.rating)

    assert [fields(a) for a in lean] == [fields(a) for a in full]
    assert lean[0].state.saved_at is not None and all(a.state.play_count == 0 for a in lean)


async def test_brief_albums_and_artists_leave_out_only_what_search_results_do_not_show(s: Services) -> None:
    uid = await _user(s, "brief")
    summer = (await _albums_by_name(s))[("Various Artists", "Summer Mix 2020")]
    track = next(t for t in await s.catalog.album_tracks(summer.id) if t.artists)
    await _play(s, uid, track.id, utc_now())
    [full] = await s.catalog.albums([summer.id], uid)
    [brief] = await s.catalog.albums([summer.id], uid, brief=True)
    assert len(full.artists) > 1 and full.state.play_count == 1
    # The other artists of its tracks and the plays by everyone go; the user's own plays stay (Subsonic shows them).
    assert brief == msgspec.structs.replace(full, artists=[full.artist], play_count=0)
    [full_artist] = await s.catalog.artists([track.artists[0].id], uid)
    [brief_artist] = await s.catalog.artists([track.artists[0].id], uid, brief=True)
    assert full_artist.genres and full_artist.state.play_count == 1
    assert brief_artist == msgspec.structs.replace(
        full_artist, genres=[], state=msgspec.structs.replace(full_artist.state, play_count=0, last_played_at=None))
