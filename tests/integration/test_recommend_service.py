"""The recommendation service on a real scanned library with synthetic audio features and listening
(musicd/devtools/listening.py): radio runs, recommendations and their reasons, cold start, made-for-you
mixes, the stored model, the background trainer, and the errors for bad input."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from musicd.devtools import listening
from musicd.devtools.library_builder import build_bulk_library
from musicd.domain.models import User
from musicd.errors import NotFoundError, ValidationError
from musicd.services.mixes import mix_id
from musicd.services.radio import ARTIST_GAP, REPEAT_GAP
from musicd.services.registry import Services, open_services
from musicd.store.recommend import TrackFact
from tests.live import make_config


@dataclass
class Lib:
    services: Services
    users: dict[str, User]
    facts: list[TrackFact]
    listens: list[listening.Listening]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, template_cache: Path) -> Path:
    root = tmp_path_factory.mktemp("rec-lib") / "Music"
    build_bulk_library(root, albums=14, tracks_per_album=9, cache_dir=template_cache, seed="recommend")
    return root


async def _open(library: Path, data: Path, **env: str) -> Services:
    return await open_services(make_config(data, library, **env))


async def _prepare(library: Path, data: Path) -> list[listening.Listening]:
    services = await _open(library, data)
    try:
        await services.library.scan()
        users = {n: await services.accounts.create(n, "password-123", role="user") for n in ("ann", "ben", "cy")}
        await services.accounts.create("new", "password-123", role="user")
        facts = await services.recommend.repo.track_facts()
        world = listening.make_world(facts, seed=3)
        await listening.store_features(services.db, listening.features(world))
        listens = listening.sessions(world, [users[n].id for n in ("ann", "ben", "cy")], listens_per_user=250)
        await listening.store_listens(services.db, listens)
        await services.recommend.rebuild()  # stored: every test's copy starts with this model
        return listens
    finally:
        await services.close()


@pytest.fixture(scope="module")
def prepared(library: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[listening.Listening]]:
    """A data dir scanned, with users, features, listens and a model, made once and copied per test."""
    data = tmp_path_factory.mktemp("rec-data") / "data"
    return data, asyncio.run(_prepare(library, data))


@pytest.fixture
async def lib(library: Path, prepared: tuple[Path, list[listening.Listening]], tmp_path: Path) -> AsyncIterator[Lib]:
    shutil.copytree(prepared[0], tmp_path / "data")
    services = await _open(library, tmp_path / "data")
    try:
        users = {u.username: u for u in await services.accounts.list()}
        out = Lib(services, users, await services.recommend.repo.track_facts(), prepared[1])
        yield out
        services = out.services  # a test may have reopened them
    finally:
        await services.close()


def _artists(lib: Lib, ids: list[str]) -> list[str]:
    by_id = {f.id: f.artist_id for f in lib.facts}
    return [by_id[i] for i in ids]


def _check_radio(lib: Lib, ids: list[str]) -> None:
    assert len(ids) == 100
    for k in range(len(ids)):
        window = ids[max(0, k - REPEAT_GAP + 1): k + 1]
        assert len(window) == len(set(window)), f"a track repeats within {REPEAT_GAP} at position {k}"
    artists = _artists(lib, ids)
    for k in range(len(artists)):
        near = artists[max(0, k - ARTIST_GAP): k + 1]
        assert len(near) == len(set(near)), f"an artist repeats within {ARTIST_GAP + 1} tracks at position {k}"
    assert max(Counter(artists).values()) <= 100 // (ARTIST_GAP + 1)


async def test_radio_runs_of_100_tracks_never_repeat_within_50_and_spread_artists(lib: Lib) -> None:
    s, ann = lib.services, lib.users["ann"]
    f = lib.facts[5]
    playlist = await s.playlists.create(ann, "Road trip", "", public=False)
    await s.playlists.add(ann, playlist.id, [x.id for x in lib.facts[:12]])
    genre = (await s.recommend.genre_seeds())[0]
    for uri in (f"spotify:station:track:{f.id}", f"spotify:station:artist:{f.artist_id}",
                f"musicd:station:album:{f.album_id}", f"spotify:station:genre:{genre}",
                f"spotify:station:playlist:{playlist.id}", f"spotify:station:playlist:{mix_id('top', 'all')}"):
        first = await s.recommend.station_tracks(uri, ann, 0, 40)
        rest = await s.recommend.station_tracks(uri, ann, 40, 60)
        ids = [r.track_id for r in first.items + rest.items]
        _check_radio(lib, ids)
        assert rest.offset == 40 and rest.next_offset == 100 and first.name.endswith("Radio")
        again = await s.recommend.station_tracks(uri, ann, 20, 30)  # positions are stable
        assert [r.track_id for r in again.items] == ids[20:50]
        assert all(r.reason.text for r in first.items + rest.items)
    track_station = await s.recommend.station_tracks(f"spotify:station:track:{f.id}", ann, 0, 5)
    assert track_station.items[0].track_id == f.id and track_station.items[0].reason.kind == "seed"
    # Another user's private playlist is no station for bob.
    with pytest.raises(NotFoundError):
        await s.recommend.station_tracks(f"spotify:station:playlist:{playlist.id}", lib.users["ben"], 0, 5)


async def test_a_library_smaller_than_the_gap_repeats_as_late_as_it_can(tmp_path: Path, template_cache: Path
                                                                          ) -> None:
    root = tmp_path / "Small"
    build_bulk_library(root, albums=2, tracks_per_album=9, cache_dir=template_cache, seed="small")
    s = await _open(root, tmp_path / "data")
    try:
        await s.library.scan()
        user = await s.accounts.create("solo", "password-123", role="user")
        facts = await s.recommend.repo.track_facts()
        assert len(facts) == 18
        page = await s.recommend.station_tracks(f"spotify:station:track:{facts[0].id}", user, 0, 100)
        ids = [r.track_id for r in page.items]
        assert ids[0] == facts[0].id and len(ids) == 100
        for k in range(17, 100):  # every other track between two plays of one track
            assert len(set(ids[k - 17: k + 1])) == 18
    finally:
        await s.close()


async def test_recommendations_for_a_user_are_unplayed_and_say_why(lib: Lib) -> None:
    s, ann = lib.services, lib.users["ann"]
    played = {x.track_id for x in lib.listens if x.user == ann.id}
    recs = await s.recommend.for_me(ann, 30)
    assert len(recs) == 30
    assert not {t.id for t, _ in recs} & played
    titles = {f.id: f.title for f in lib.facts}
    kinds = Counter(r.kind for _, r in recs)
    assert set(kinds) <= {"played_with", "taste", "sounds_like", "artist", "popular"}
    for _, r in recs:
        if r.kind in ("played_with", "taste"):
            assert r.track_id in played and r.text == f"Because you played {titles[r.track_id]}"
        if r.kind == "sounds_like":
            assert r.text == f"Similar tempo and timbre to {titles[r.track_id]}"
    # A user with no history: the library's popularity and what sounds like it.
    cold = await s.recommend.for_me(lib.users["new"], 10)
    assert len(cold) == 10 and {r.kind for _, r in cold} <= {"popular", "sounds_like"}
    most = Counter(x.track_id for x in lib.listens).most_common(30)
    assert {t.id for t, _ in cold} & {t for t, _ in most}


async def test_seeded_recommendations_filters_targets_and_errors(lib: Lib) -> None:
    s, ann = lib.services, lib.users["ann"]
    f = lib.facts[3]
    tracks, seeds = await s.recommend.recommendations(ann, [f.artist_id], [f.id], [], 10,
                                                      {"min_tempo": "90", "max_tempo": "160", "target_energy": "0.8"})
    assert [x.kind for x in seeds] == ["artist", "track"]
    assert all(x.initial_pool_size >= x.after_filtering_size > 0 for x in seeds)
    assert tracks and f.id not in {t.id for t, _ in tracks}
    found = await s.analysis.audio_features([t.id for t, _ in tracks])
    assert all(x is not None and 90 <= x.analysis.tempo <= 160 for x in found)
    per_artist = Counter(t.artists[0].id for t, _ in tracks)
    assert max(per_artist.values()) <= 4
    for bad, code in (({"min_energy": "0.9", "max_energy": "0.1"}, "contradictory_attributes"),
                      ({"min_tempo": "100", "target_tempo": "80"}, "contradictory_attributes"),
                      ({"target_liveness": "0.5"}, "unsupported_attribute"),
                      ({"min_shininess": "1"}, "bad_attribute"), ({"max_energy": "2"}, "bad_attribute"),
                      ({"target_tempo": "fast"}, "bad_attribute")):
        with pytest.raises(ValidationError) as e:
            await s.recommend.recommendations(ann, [], [f.id], [], 10, bad)
        assert e.value.code == code, bad
    with pytest.raises(ValidationError):
        await s.recommend.recommendations(ann, [], [], [], 10, {})
    with pytest.raises(ValidationError):
        await s.recommend.recommendations(ann, [], [f.id] * 6, [], 10, {})
    for args, code in ((([], ["0" * 22], []), "track_not_found"), ((["0" * 22], [], []), "artist_not_found"),
                       (([], [], ["no-such-genre"]), "genre_not_found")):
        with pytest.raises(NotFoundError) as nf:
            await s.recommend.recommendations(ann, *args, 10, {})
        assert nf.value.code == code
    genre = (await s.recommend.genre_seeds())[0]
    tracks, seeds = await s.recommend.recommendations(ann, [], [], [genre], 5, {})
    assert len(tracks) == 5 and seeds[0].kind == "genre"
    for uri in ("spotify:track:x", "spotify:station:song:abc", "spotify:station:track:bad id"):
        with pytest.raises(ValidationError):
            await s.recommend.station_tracks(uri, ann, 0, 5)
    with pytest.raises(ValidationError):
        await s.recommend.station_tracks(f"spotify:station:track:{f.id}", ann, 10_001, 5)


async def test_subsonic_helpers(lib: Lib) -> None:
    s, ann = lib.services, lib.users["ann"]
    f = lib.facts[7]
    similar = await s.recommend.similar_tracks(f.id, 10, ann)
    assert len(similar) == 10 and f.id not in {t.id for t in similar}
    by_artist = await s.recommend.similar_tracks(f.artist_id, 10, ann)
    assert by_artist and all(t.artists[0].id != f.artist_id for t in by_artist)
    artists = await s.recommend.similar_artists(f.artist_id, 5, ann)
    assert len(artists) == 5 and f.artist_id not in {a.id for a in artists}
    top = await s.recommend.top_tracks(f.artist_id, 3, ann)
    listened = Counter(x.track_id for x in lib.listens)
    own = [x.id for x in lib.facts if x.artist_id == f.artist_id]
    assert len(top) == 3 and listened[top[0].id] == max(listened[t] for t in own)


async def test_made_for_you_mixes(lib: Lib) -> None:
    s, ann = lib.services, lib.users["ann"]
    played = {x.track_id for x in lib.listens if x.user == ann.id}
    mixes = await s.recommend.personal_mixes(ann.id)
    kinds = [m.kind for m in mixes]
    assert "daily" in kinds and "discover" in kinds
    discover = next(m for m in mixes if m.kind == "discover")
    assert discover.track_ids and not set(discover.track_ids) & played
    for m in mixes:
        assert m.description and len(set(m.track_ids)) == len(m.track_ids)
        if m.kind == "daily":
            assert m.description.startswith("Because you play ") and set(m.track_ids) & played
    # The listens are in 2025: all of ann's favourites are to rediscover, none is on repeat.
    assert "rediscover" in kinds and "repeat" not in kinds
    featured = await s.mixes.featured(ann.id)
    assert [m.id for m in featured[: len(mixes)]] == [m.id for m in mixes]
    assert (await s.mixes.mix(discover.id, ann.id)).track_ids == discover.track_ids
    with pytest.raises(NotFoundError):
        await s.mixes.mix(mix_id("daily", "9"), ann.id)
    assert [m.kind for m in await s.recommend.personal_mixes(lib.users["new"].id)] == ["discover"]


async def test_the_model_is_stored_and_the_trainer_rebuilds_after_new_plays(lib: Lib, library: Path,
                                                                            tmp_path: Path) -> None:
    await lib.services.close()
    s = await _open(library, tmp_path / "data", MUSICD_RECOMMEND_REBUILD_AFTER_PLAYS="5",
                    MUSICD_RECOMMEND_CHECK_SECONDS="0.2")
    lib.services = s
    await s.recommend.snapshot()
    assert s.recommend.status().listens == len(lib.listens)  # loaded, not rebuilt
    task = asyncio.create_task(s.recommend.loop())
    try:
        await asyncio.sleep(0.5)
        assert s.recommend.status().listens == len(lib.listens)
        ann = lib.users["ann"].id
        now = time.time()
        await listening.store_listens(s.db, [listening.Listening(ann, lib.facts[i].id, now + i) for i in range(5)])
        deadline = time.monotonic() + 60
        while s.recommend.status().listens != len(lib.listens) + 5:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        on_repeat = [m for m in await s.recommend.personal_mixes(ann) if m.kind == "repeat"]
        assert on_repeat == []  # one play each in the last 30 days: nothing on repeat yet
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_imported_listens_are_history_for_the_models(lib: Lib) -> None:
    """Listens imported from another service (ListenBrainz, Last.fm) train the models like any play."""
    from musicd.domain.listens import Listen

    s, new = lib.services, lib.users["new"]
    before = (await s.recommend.rebuild()).listens
    picked = [f for f in lib.facts if f.title][:3]
    at = int(time.time()) - 7 * 86400
    listens = [Listen(at + k * 240, f.artist_name, f.title) for k, f in enumerate(picked)]
    summary = await s.listens.record(new, listens, "import")
    assert summary.matched == 3, summary
    status = await s.recommend.rebuild()
    assert status.listens == before + 3
    recs = [v.id for v, _ in await s.recommend.for_me(new, 30)]
    assert recs and not {f.id for f in picked} & set(recs)  # they count as played now
