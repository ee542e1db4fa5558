"""The ListenBrainz API driven by liblistenbrainz, unchanged, against a running server: tokens, single
listens, playing now, imports; listens matched by MusicBrainz id, ISRC and names; bad input answered in
ListenBrainz's error shape."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from liblistenbrainz import Listen, ListenBrainz
from liblistenbrainz.errors import InvalidAuthTokenException, ListenBrainzAPIException

from tests.integration.listens_support import (
    Account,
    history,
    iso,
    library_tracks,
    listen_counts,
    new_account,
    wait_for,
)
from tests.integration.subsonic_support import Sub
from tests.live import LiveServer


def _client(server: LiveServer, acc: Account) -> ListenBrainz:
    # As a scrobbler is configured: the URL the web player's settings show, and the token.
    lb = ListenBrainz(api_base_url=f"{server.base}/listenbrainz")
    lb.set_auth_token(acc.lb_token)  # checks it with validate-token
    return lb


def test_token_shown_regenerated_and_validated(live_server: LiveServer) -> None:
    acc = new_account(live_server, token=False)
    with httpx.Client(base_url=live_server.base, headers=acc.headers, timeout=10) as c:
        none = c.get("/v1/me/listenbrainz-token").json()
        assert none["token"] is None and none["api_url"] == f"{live_server.base}/listenbrainz"
        first = c.post("/v1/me/listenbrainz-token").json()["token"]
        assert c.get("/v1/me/listenbrainz-token").json()["token"] == first  # shown again, as ListenBrainz does
        lb = ListenBrainz(api_base_url=f"{live_server.base}/listenbrainz")
        lb.set_auth_token(first)  # validates it (GET validate-token)
        second = c.post("/v1/me/listenbrainz-token").json()["token"]
        assert second != first
        with pytest.raises(InvalidAuthTokenException):
            lb.set_auth_token(first)
        lb.set_auth_token(second)
    for prefix in ("/listenbrainz/1", "/1"):
        r = httpx.get(f"{live_server.base}{prefix}/validate-token", headers={"Authorization": f"Token {second}"})
        assert r.json() == {"code": 200, "message": "Token valid.", "valid": True, "user_name": acc.name}
        r = httpx.get(f"{live_server.base}{prefix}/validate-token", params={"token": "nope"})
        assert r.json() == {"code": 200, "message": "Token invalid.", "valid": False}
        r = httpx.get(f"{live_server.base}{prefix}/validate-token")
        assert r.status_code == 400
        assert r.json() == {"code": 400, "error": "You need to provide an Authorization token."}


@pytest.mark.slow
def test_single_playing_now_and_import_become_plays(live_server: LiveServer) -> None:
    acc = new_account(live_server)
    lb = _client(live_server, acc)
    tracks = library_tracks(live_server)
    by_mbid = next(t for t in tracks if t.mbid)
    by_isrc = next(t for t in tracks if t.isrc and t.id != by_mbid.id)
    by_name = next(t for t in tracks if t.id not in (by_mbid.id, by_isrc.id) and t.artist and t.title.isascii())

    # playing_now: now playing (Subsonic getNowPlaying shows it), no listen stored.
    lb.submit_playing_now(Listen(track_name=by_name.title.upper(), artist_name=by_name.artist,
                                 additional_info={"submission_client": "test-scrobbler"}))
    playing = Sub(live_server.base, acc.name, acc.password).call("getNowPlaying")["nowPlaying"].get("entry", [])
    assert [e["id"] for e in playing if e["username"] == acc.name] == [by_name.id]
    assert listen_counts(live_server, acc)["total"] == 0

    # single: a play through the play-event path, dated when the listen started.
    started = int(time.time()) - 300
    assert lb.submit_single_listen(Listen(
        track_name=by_name.title, artist_name=by_name.artist, listened_at=started,
        additional_info={"duration_ms": int(by_name.duration * 1000), "submission_client": "test-scrobbler"},
    )) == {"status": "ok"}
    assert wait_for(lambda: history(live_server, acc.id)) == [(by_name.id, iso(started), "listenbrainz:test-scrobbler")]
    played = httpx.get(f"{live_server.base}/v1/me/player/recently-played", headers=acc.headers).json()
    assert [(i["track"]["id"], i["played_at"]) for i in played["items"]] == [(by_name.id, iso(started))]

    # import: years-old listens matched by MusicBrainz id and by ISRC (names that match nothing), one unknown.
    old = int(time.time()) - 3 * 365 * 86400
    listens = [
        Listen(track_name="Whatever the scrobbler called it", artist_name="Someone", listened_at=old,
               recording_mbid=by_mbid.mbid),
        Listen(track_name="Another name", artist_name="Another artist", listened_at=old + 400, isrc=by_isrc.isrc),
        Listen(track_name="Not In This Library", artist_name="Nobody Here", listened_at=old + 800),
    ]
    assert lb.submit_multiple_listens(listens) == {"status": "ok"}
    counts = listen_counts(live_server, acc)
    assert (counts["total"], counts["matched"], counts["unmatched"]) == (4, 3, 1)
    assert history(live_server, acc.id)[:2] == [(by_mbid.id, iso(old), "listenbrainz:import"),
                                                (by_isrc.id, iso(old + 400), "listenbrainz:import")]
    # A scrobbler that retries (or a second import of the same listens) adds nothing.
    lb.submit_multiple_listens(listens)
    lb.submit_single_listen(Listen(track_name=by_name.title, artist_name=by_name.artist, listened_at=started))
    time.sleep(0.5)
    assert listen_counts(live_server, acc)["total"] == 4 and len(history(live_server, acc.id)) == 3



@pytest.mark.slow
def test_listens_ahead_of_the_clock_or_a_day_long_still_count(live_server: LiveServer) -> None:
    """ListenBrainz takes a listen up to an hour ahead of the server and any duration up to 24 days; a play
    event takes neither. Such a listen is still taken and counted, dated when it began (or, ahead of the
    clock, a few minutes ahead at most), never refused after its listen was stored."""
    acc = new_account(live_server)
    lb = _client(live_server, acc)
    a, b = [t for t in library_tracks(live_server) if t.mbid][:2]
    now = int(time.time())
    for t, at, ms in ((a, now + 1800, int(a.duration * 1000)), (b, now - 600, 2 * 86_400_000)):
        listen = Listen(track_name=t.title, artist_name=t.artist, listened_at=at,
                        additional_info={"duration_ms": ms, "recording_mbid": t.mbid})
        assert lb.submit_single_listen(listen) == {"status": "ok"}
    assert wait_for(lambda: len(history(live_server, acc.id)) == 2), history(live_server, acc.id)
    plays = history(live_server, acc.id)
    assert sorted(tid for tid, _, _ in plays) == sorted([a.id, b.id])
    assert (b.id, iso(now - 600)) in [(tid, at) for tid, at, _ in plays]
    assert listen_counts(live_server, acc)["total"] == 2


def _post(server: LiveServer, body: object, token: str | None, raw: bytes | None = None) -> httpx.Response:
    headers = {"Authorization": f"Token {token}"} if token else {}
    data = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(f"{server.base}/listenbrainz/1/submit-listens", content=data, headers=headers, timeout=30)


def _listen(ts: int | None, **meta: object) -> dict[str, object]:
    item: dict[str, object] = {"track_metadata": {"artist_name": "A", "track_name": "T", **meta}}
    if ts is not None:
        item["listened_at"] = ts
    return item


@pytest.mark.parametrize(("body", "message"), [
    ({"listen_type": "import", "payload": [_listen(int(time.time()) + 7200) for _ in range(500)]},
     "Value for key listened_at is too high."),
    ({"listen_type": "import", "payload": [_listen(86400 * i) for i in range(1, 500)]},
     "Value for key listened_at is too low."),
    ({"listen_type": "import", "payload": [_listen(1_600_000_000 + i) for i in range(1001)]},
     "Too many listens. You may not submit more than 1000 listens at once."),
    ({"listen_type": "single", "payload": [_listen(1_600_000_000), _listen(1_600_000_001)]},
     "JSON document contains more than listen for a single/playing_now."),
    ({"listen_type": "playing_now", "payload": [_listen(1_600_000_000)]},
     "JSON document must not contain listened_at while submitting playing_now."),
    ({"listen_type": "everything", "payload": [_listen(1_600_000_000)]}, "JSON document requires a valid listen_type"),
    ({"listen_type": "single", "payload": []}, "JSON document does not contain any listens"),
    ({"listen_type": "single", "payload": [_listen(1_600_000_000, track_name="x" * 20_000)]},
     "JSON document is too large. Each listens may not be larger than 10240 bytes."),
    ({"listen_type": "single", "payload": [_listen(1_600_000_000, artist_name=["A", "B"])]},
     "track_metadata.artist_name must be a single string."),
    ({"listen_type": "single", "payload": [_listen(1_600_000_000, additional_info={"recording_mbid": "nope"})]},
     "recording_mbid MBID format invalid."),
    ({"listen_type": "single", "payload": [_listen("yesterday")]},  # type: ignore[arg-type]
     "JSON document must contain an int value for listened_at."),
    (["not", "an", "object"], "Invalid JSON document submitted. Top level of JSON document should be a json object."),
])
def test_bad_submissions_refused_in_listenbrainz_shape(live_server: LiveServer, body: object, message: str) -> None:
    acc = new_account(live_server)
    r = _post(live_server, body, acc.lb_token)
    assert r.status_code == 400, r.text
    got = r.json()
    assert set(got) == {"code", "error"} and got["code"] == 400 and got["error"].startswith(message), got
    assert listen_counts(live_server, acc)["total"] == 0  # all or nothing, as ListenBrainz


def test_malformed_oversized_unauthorised_and_guest(live_server: LiveServer) -> None:
    acc = new_account(live_server)
    good = {"listen_type": "single", "payload": [_listen(1_600_000_000)]}
    r = _post(live_server, None, acc.lb_token, raw=b'{"listen_type": "single", "payload": [')
    assert r.status_code == 400 and r.json()["error"].startswith("Cannot parse JSON document")
    r = _post(live_server, None, acc.lb_token, raw=b"[" * 100_000 + b"]" * 100_000)
    assert r.status_code == 400 and r.json()["code"] == 400
    huge = b'{"listen_type": "import", "payload": [' + b" " * 10_300_000 + b"]}"
    r = _post(live_server, None, acc.lb_token, raw=huge)
    assert r.status_code == 400 and r.json() == {
        "code": 400, "error": "Payload too large. Payload cannot exceed 10240000 bytes"}
    r = _post(live_server, good, None)
    assert r.status_code == 401 and r.json() == {"code": 401, "error": "You need to provide an Authorization header."}
    r = _post(live_server, good, "0b5e7a1c-0000-4000-8000-000000000000")
    assert r.status_code == 401 and r.json() == {"code": 401, "error": "Invalid authorization token."}
    # liblistenbrainz reports ListenBrainz's message for a wrong token.
    lb = ListenBrainz(api_base_url=f"{live_server.base}/listenbrainz")
    lb.set_auth_token("0b5e7a1c-0000-4000-8000-000000000000", check_validity=False)
    with pytest.raises(ListenBrainzAPIException) as err:
        lb.submit_single_listen(Listen(track_name="T", artist_name="A", listened_at=1_600_000_000))
    assert err.value.status_code == 401 and err.value.message == "Invalid authorization token."

    # Guests record no plays (the rulebook): no token for them, and a token made before a demotion stops working.
    guest = new_account(live_server, role="guest", token=False)
    r = httpx.post(f"{live_server.base}/v1/me/listenbrainz-token", headers=guest.headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "guest_read_only"
    demoted = new_account(live_server)
    r = httpx.patch(f"{live_server.base}/v1/admin/users/{demoted.id}", headers=live_server.headers("admin"),
                    json={"role": "guest"})
    assert r.status_code == 200, r.text
    r = _post(live_server, good, demoted.lb_token)
    assert r.status_code == 403 and r.json() == {"code": 403, "error": "guest accounts cannot change anything"}

    # Nothing of this was stored, and the server still serves.
    assert listen_counts(live_server, acc)["total"] == 0
    assert _post(live_server, good, acc.lb_token).json() == {"status": "ok"}
    assert listen_counts(live_server, acc)["total"] == 1
