"""Every write of both APIs tried as an admin, as the owner (an ordinary user acting on what is theirs), as
another user and as a guest, on a running server: the rulebook (musicd.services.rules) holds the same
through /v1 and /rest.

The cases are checked against the route tables: every /v1 route with a non-GET method and every /rest
method is here, as a write with the outcome expected for each role, or as a read (test_every_write_has_a_rule),
so a new write endpoint without a rule entry fails.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from musicd.app import create_app
from musicd.domain.ids import derived_id
from musicd.http.subsonic.context import ENDPOINTS
from musicd.http.subsonic.unsupported import NOT_IMPLEMENTED
from tests.integration.rules_support import (
    CONFLICT,
    FORBIDDEN,
    NOT_FOUND,
    OK,
    ROLES,
    Account,
    World,
    jpeg_base64,
)
from tests.live import LiveServer, make_config

# A call: (world, actor, owner of what is acted on) -> outcome. For calls on one's own things
# (`/v1/me/...`) the owner is the actor.
Call = Callable[[World, Account, Account], str]

EVERYONE = {"admin": OK, "owner": OK, "other": OK, "guest": OK}
MEMBERS = {"admin": OK, "owner": OK, "other": OK, "guest": FORBIDDEN}
ADMINS = {"admin": OK, "owner": FORBIDDEN, "other": FORBIDDEN, "guest": FORBIDDEN}
OWNER = {"admin": FORBIDDEN, "owner": OK, "other": FORBIDDEN, "guest": FORBIDDEN}


@dataclass(frozen=True)
class Case:
    route: str  # "METHOD /v1/path" as the route table spells it, or "rest <method>"
    call: Call
    expect: dict[str, str]
    variant: str = ""
    fresh: bool = False  # each role acts as a new account (the call changes or ends the account itself)

    @property
    def id(self) -> str:
        return f"{self.route} ({self.variant})" if self.variant else self.route


CASES: list[Case] = []


def case(route: str, expect: dict[str, str], variant: str = "", fresh: bool = False) -> Callable[[Call], Call]:
    def add(fn: Call) -> Call:
        CASES.append(Case(route, fn, expect, variant, fresh))
        return fn
    return add


def _uri(t: str) -> str:
    return f"musicd:track:{t}"


# ---- /v1: accounts ----

@case("POST /v1/auth/login", EVERYONE)
def _login(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/auth/login", json={"username": a.name, "password": a.password})


@case("POST /v1/auth/refresh", EVERYONE)
def _refresh(w: World, a: Account, _: Account) -> str:
    pair = w.server.login(a.name, a.password)
    return w.outcome(a, "POST", "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})


@case("POST /v1/auth/logout", EVERYONE)
def _logout(w: World, a: Account, _: Account) -> str:
    pair = w.server.login(a.name, a.password)
    return w.outcome(a, "POST", "/v1/auth/logout", json={"refresh_token": pair["refresh_token"]})


@case("POST /v1/auth/setup", {r: CONFLICT for r in ROLES})
def _setup(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/auth/setup", json={"username": "x" + secrets.token_hex(4), "password": "p" * 12})


@case("PUT /v1/me", MEMBERS)
def _profile(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", "/v1/me", json={"display_name": "Renamed"})


@case("PUT /v1/me/password", MEMBERS, fresh=True)
def _password(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", "/v1/me/password", json={"current_password": a.password,
                                                         "new_password": a.password + "-new"})


@case("PUT /v1/me/settings", MEMBERS, "a self setting")
def _settings(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", "/v1/me/settings", json={"default_quality": "high"})


@case("PUT /v1/me/settings", {"admin": OK, "owner": FORBIDDEN, "other": FORBIDDEN, "guest": FORBIDDEN},
      "downloads given back after an admin took them", fresh=True)
def _settings_admin_only(w: World, a: Account, _: Account) -> str:
    w.ok(Account("admin", "", "", "admin", w.server.token("admin")), "PATCH", f"/v1/admin/users/{a.id}",
         json={"settings": {"download_allowed": False}})
    return w.outcome(a, "PUT", "/v1/me/settings", json={"download_allowed": True})


@case("POST /v1/admin/users", ADMINS)
def _admin_create(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/admin/users", json={"username": "n" + secrets.token_hex(5),
                                                         "password": "long-enough-pw"})


@case("PATCH /v1/admin/users/{user_id:str}", ADMINS)
def _admin_change(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "PATCH", f"/v1/admin/users/{owner.id}", json={"display_name": "Changed by someone"})


@case("PATCH /v1/admin/users/{user_id:str}", {r: FORBIDDEN for r in ROLES}, "one's own role", fresh=True)
def _admin_own_role(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PATCH", f"/v1/admin/users/{a.id}", json={"role": "guest" if a.role != "guest" else "admin"})


@case("DELETE /v1/admin/users/{user_id:str}", ADMINS)
def _admin_delete(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "DELETE", f"/v1/admin/users/{w.target().id}")


@case("PUT /v1/admin/users/{user_id:str}/password", ADMINS)
def _admin_reset_password(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", f"/v1/admin/users/{w.target().id}/password", json={"password": "brand-new-pw-1"})


def _new_invite(w: World, role: str = "user") -> dict[str, str]:
    return dict(w.ok(Account("admin", "", "", "admin", w.server.token("admin")), "POST", "/v1/admin/invites",
                     json={"role": role}))


@case("POST /v1/admin/invites", ADMINS)
def _invite_create(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/admin/invites", json={"role": "guest"})


@case("DELETE /v1/admin/invites/{invite_id:str}", ADMINS)
def _invite_revoke(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "DELETE", f"/v1/admin/invites/{_new_invite(w)['id']}")


# The link is the right: whoever holds it signs up with it, logged in as anyone or not at all.
@case("POST /v1/invites/{token:str}/accept", EVERYONE)
def _invite_accept(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", f"/v1/invites/{_new_invite(w)['token']}/accept",
                     json={"username": "i" + secrets.token_hex(5), "password": "long-enough-pw"})


@case("POST /v1/admin/scan", {"admin": OK, "owner": FORBIDDEN, "other": FORBIDDEN, "guest": FORBIDDEN})
def _scan(w: World, a: Account, _: Account) -> str:
    got = w.outcome(a, "POST", "/v1/admin/scan")
    return OK if got == CONFLICT and a.role == "admin" else got  # a scan another test started is running


@case("POST /v1/me/api-keys", MEMBERS)
def _key_create(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/me/api-keys", json={"name": "rules"})


@case("DELETE /v1/me/api-keys/{key_id:str}", {"admin": NOT_FOUND, "owner": OK, "other": NOT_FOUND,
                                              "guest": NOT_FOUND})
def _key_revoke(w: World, a: Account, owner: Account) -> str:
    key = w.ok(owner, "POST", "/v1/me/api-keys", json={"name": "to revoke"})
    return w.outcome(a, "DELETE", f"/v1/me/api-keys/{key['id']}")


# ---- /v1: the user's library, plays, stream tokens ----

for _method in ("PUT", "DELETE"):
    for _route, _query in (("/v1/me/tracks", "ids={t}"), ("/v1/me/albums", "ids={album}"),
                           ("/v1/me/following", "type=artist&ids={artist}"), ("/v1/me/library", "uris={uri}")):
        def _library(w: World, a: Account, _: Account, method: str = _method, route: str = _route,
                     query: str = _query) -> str:
            q = query.format(t=w.tracks[0], album=w.album_id, artist=w.artist_id, uri=_uri(w.tracks[0]))
            return w.outcome(a, method, f"{route}?{q}")
        case(f"{_method} {_route}", MEMBERS)(_library)


@case("POST /v1/me/player/events", MEMBERS)
def _events(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/me/player/events", json={"track_id": w.tracks[0], "event": "start"})


@case("POST /v1/me/listenbrainz-token", MEMBERS)
def _lb_token(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/me/listenbrainz-token")


@case("POST /v1/me/listens/imports", MEMBERS)
def _listen_import(w: World, a: Account, _: Account) -> str:
    csv = b"Some Artist,Some Album,Some Title,01 Jan 2020 10:00\n"
    return w.outcome(a, "POST", "/v1/me/listens/imports", content=csv)


def _submit_listens(w: World, a: Account, prefix: str) -> str:
    # A guest gets no ListenBrainz token (that refusal is the outcome); the others submit with theirs.
    r = w.v1(a, "POST", "/v1/me/listenbrainz-token")
    if r.status_code == 201:
        body = {"listen_type": "single", "payload": [{"listened_at": 1_600_000_000,
                                                      "track_metadata": {"artist_name": "A", "track_name": "T"}}]}
        r = w.http.post(f"{prefix}/submit-listens", json=body, headers={"Authorization": f"Token {r.json()['token']}"})
    return OK if r.is_success else FORBIDDEN if r.status_code == 403 else f"{r.status_code} {r.text[:200]}"


@case("POST /listenbrainz/1/submit-listens", MEMBERS)
def _lb_submit(w: World, a: Account, _: Account) -> str:
    return _submit_listens(w, a, "/listenbrainz/1")


@case("POST /1/submit-listens", MEMBERS)
def _lb_submit_root(w: World, a: Account, _: Account) -> str:
    return _submit_listens(w, a, "/1")


@case("POST /v1/me/stream-tokens", EVERYONE)
def _stream_tokens(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/me/stream-tokens", json={"ids": [w.tracks[0]]})


# ---- /v1: offline devices (issue 17); the device belongs to a new user, who is the actor in the owner's role ----

def _offline_device(w: World, a: Account, owner: Account, mark: bool = False) -> tuple[Account, dict[str, str]]:
    holder = w.fresh("owner")
    dev = w.ok(holder, "POST", "/v1/me/devices", json={"name": "rules", "kind": "phone"})
    if mark:
        w.ok(holder, "PUT", f"/v1/me/devices/{dev['id']}/offline", json={"type": "liked"})
    return (holder if a is owner else a), dev


DEVICE_OWNER = {"admin": OK, "owner": OK, "other": NOT_FOUND, "guest": FORBIDDEN}


@case("POST /v1/me/devices", MEMBERS)
def _device_register(w: World, a: Account, _: Account) -> str:
    r = w.v1(a, "POST", "/v1/me/devices", json={"name": "rules", "kind": "phone"})
    if r.status_code == 201:
        w.v1(a, "DELETE", f"/v1/me/devices/{r.json()['id']}")  # frees the place (5 per user)
        return OK
    return {403: FORBIDDEN, 404: NOT_FOUND, 409: CONFLICT}.get(r.status_code, f"{r.status_code} {r.text[:200]}")


@case("PATCH /v1/me/devices/{device_id:str}", DEVICE_OWNER)
def _device_rename(w: World, a: Account, owner: Account) -> str:
    actor, dev = _offline_device(w, a, owner)
    return w.outcome(actor, "PATCH", f"/v1/me/devices/{dev['id']}", json={"name": "renamed"})


@case("DELETE /v1/me/devices/{device_id:str}", DEVICE_OWNER)
def _device_revoke(w: World, a: Account, owner: Account) -> str:
    actor, dev = _offline_device(w, a, owner)
    return w.outcome(actor, "DELETE", f"/v1/me/devices/{dev['id']}")


@case("PUT /v1/me/devices/{device_id:str}/offline", {**DEVICE_OWNER, "admin": FORBIDDEN})
def _device_mark(w: World, a: Account, owner: Account) -> str:
    actor, dev = _offline_device(w, a, owner)
    return w.outcome(actor, "PUT", f"/v1/me/devices/{dev['id']}/offline", json={"type": "album", "id": w.album_id})


@case("DELETE /v1/me/devices/{device_id:str}/offline", DEVICE_OWNER)
def _device_unmark(w: World, a: Account, owner: Account) -> str:
    actor, dev = _offline_device(w, a, owner, mark=True)
    return w.outcome(actor, "DELETE", f"/v1/me/devices/{dev['id']}/offline", params={"type": "liked"})


@case("DELETE /v1/admin/devices/{device_id:str}", ADMINS)
def _device_admin_revoke(w: World, a: Account, owner: Account) -> str:
    actor, dev = _offline_device(w, a, owner)
    return w.outcome(actor, "DELETE", f"/v1/admin/devices/{dev['id']}")


# The device's own calls authenticate the device (its token), whoever else asks: the same for every role.
@case("POST /v1/offline/heartbeat", EVERYONE)
def _device_heartbeat(w: World, a: Account, owner: Account) -> str:
    actor, dev = _offline_device(w, a, owner, mark=True)
    return w.outcome(actor, "POST", "/v1/offline/heartbeat", json={"held": []},
                     headers={"Authorization": f"Device {dev['id']}.{dev['token']}"})


@case("POST /v1/offline/plays", EVERYONE)
def _device_plays(w: World, a: Account, owner: Account) -> str:
    actor, dev = _offline_device(w, a, owner)
    play = {"track_id": w.tracks[0], "played_at": int(time.time() * 1000) - 600_000, "ms_played": 1000}
    return w.outcome(actor, "POST", "/v1/offline/plays", json={"plays": [play]},
                     headers={"Authorization": f"Device {dev['id']}.{dev['token']}"})


# ---- /v1: playlists (the owner's public playlist: others see it, so a refusal is a 403, not a 404) ----

@case("POST /v1/me/playlists", MEMBERS)
def _create(w: World, a: Account, _: Account) -> str:
    return w.created(a, "POST", "/v1/me/playlists", json={"name": "mine", "public": False})


@case("POST /v1/users/{user_id:str}/playlists", OWNER)
def _create_for(w: World, a: Account, owner: Account) -> str:
    return w.created(a, "POST", f"/v1/users/{owner.id}/playlists", json={"name": "for them", "public": False})


@case("POST /v1/me/playlists/import", MEMBERS)
def _import(w: World, a: Account, _: Account) -> str:
    return w.created(a, "POST", "/v1/me/playlists/import", params={"name": "imported"},
                     content=f"#EXTM3U\n{_uri(w.tracks[0])}\n".encode())


@case("PUT /v1/playlists/{playlist_id:str}", OWNER)
def _details(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "PUT", f"/v1/playlists/{w.playlist(owner)}", json={"description": "changed"})


@case("DELETE /v1/playlists/{playlist_id:str}", OWNER)
def _delete(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "DELETE", f"/v1/playlists/{w.playlist(owner)}")


for _items in ("tracks", "items"):
    _path = f"/v1/playlists/{{playlist_id:str}}/{_items}"

    def _add(w: World, a: Account, owner: Account, items: str = _items) -> str:
        return w.outcome(a, "POST", f"/v1/playlists/{w.playlist(owner)}/{items}", json={"uris": [_uri(w.tracks[5])]})

    def _reorder(w: World, a: Account, owner: Account, items: str = _items) -> str:
        return w.outcome(a, "PUT", f"/v1/playlists/{w.playlist(owner)}/{items}",
                         json={"range_start": 0, "insert_before": 2})

    def _remove(w: World, a: Account, owner: Account, items: str = _items) -> str:
        return w.outcome(a, "DELETE", f"/v1/playlists/{w.playlist(owner)}/{items}",
                         json={"tracks": [{"uri": _uri(w.tracks[0])}]})

    case(f"POST {_path}", OWNER)(_add)
    case(f"PUT {_path}", OWNER)(_reorder)
    case(f"DELETE {_path}", OWNER)(_remove)


@case("PUT /v1/playlists/{playlist_id:str}/images", OWNER)
def _cover(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "PUT", f"/v1/playlists/{w.playlist(owner)}/images", content=jpeg_base64(),
                     headers={"Content-Type": "image/jpeg"})


@case("PUT /v1/playlists/{playlist_id:str}/followers", MEMBERS)
def _follow(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "PUT", f"/v1/playlists/{w.playlist(owner)}/followers")


@case("DELETE /v1/playlists/{playlist_id:str}/followers", MEMBERS)
def _unfollow(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "DELETE", f"/v1/playlists/{w.playlist(owner)}/followers")


@case("POST /v1/playlists/{playlist_id:str}/collaborators", OWNER)
def _invite(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "POST", f"/v1/playlists/{w.playlist(owner)}/collaborators",
                     json={"ids": [w.accounts["other"].id]})


@case("DELETE /v1/playlists/{playlist_id:str}/collaborators", {"admin": FORBIDDEN, "owner": OK, "other": OK,
                                                                 "guest": FORBIDDEN})
def _uninvite(w: World, a: Account, owner: Account) -> str:
    """The owner removes anyone; a collaborator (here: the other user) only themselves."""
    pid = w.playlist(owner)
    other = w.accounts["other"].id
    w.ok(owner, "POST", f"/v1/playlists/{pid}/collaborators", json={"ids": [other]})
    return w.outcome(a, "DELETE", f"/v1/playlists/{pid}/collaborators", json={"ids": [other]})


@case("POST /v1/playlists/{playlist_id:str}/share", OWNER)
def _share(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "POST", f"/v1/playlists/{w.playlist(owner)}/share", json={})


@case("DELETE /v1/playlists/{playlist_id:str}/share", OWNER)
def _revoke_all(w: World, a: Account, owner: Account) -> str:
    pid = w.playlist(owner)
    w.ok(owner, "POST", f"/v1/playlists/{pid}/share", json={})
    return w.outcome(a, "DELETE", f"/v1/playlists/{pid}/share")


@case("DELETE /v1/playlists/{playlist_id:str}/share/{link_id:str}", OWNER)
def _revoke_one(w: World, a: Account, owner: Account) -> str:
    pid = w.playlist(owner)
    link = w.ok(owner, "POST", f"/v1/playlists/{pid}/share", json={})
    return w.outcome(a, "DELETE", f"/v1/playlists/{pid}/share/{link['id']}")


# ---- /v1 and /rest: podcasts and lyrics ----
# The live server fetches nothing (no podcasts.allow_hosts): its show is written into its database, with a
# feed and an enclosure on a loopback port the address guard refuses without a lookup.

_FEED = "http://127.0.0.1:9/rules-feed.xml"


def _show(w: World, fresh: bool = False) -> tuple[str, str]:
    """(show id, episode id) of a show on the server; `fresh`: a new one (for calls that delete it)."""
    import sqlite3

    from musicd.domain.ids import random_id

    feed = f"http://127.0.0.1:9/rules-{secrets.token_hex(4)}.xml" if fresh else _FEED
    sid, eid = derived_id("show", feed), random_id()
    con = sqlite3.connect(w.server.data_dir / "musicd.db", timeout=30)
    try:
        with con:
            con.execute("INSERT OR IGNORE INTO podcast_channels (id, feed_url, title, next_refresh_at, created_at,"
                        " updated_at) VALUES (?, ?, 'Rules Show', '9999-12-31T00:00:00Z', '2024', '2024')",
                        (sid, feed))
            con.execute("INSERT INTO podcast_episodes (id, channel_id, guid, title, enclosure_url, created_at,"
                        " updated_at) VALUES (?, ?, ?, 'Rules Episode', 'http://127.0.0.1:9/e.mp3', '2024', '2024')",
                        (eid, sid, eid))
    finally:
        con.close()
    return sid, eid


@case("POST /v1/podcasts", ADMINS)
def _add_feed(w: World, a: Account, _: Account) -> str:
    _show(w)
    return w.outcome(a, "POST", "/v1/podcasts", json={"feed_url": _FEED})


@case("POST /v1/podcasts/opml", ADMINS)
def _import_opml(w: World, a: Account, _: Account) -> str:
    _show(w)
    opml = f'<opml version="2.0"><body><outline text="r" xmlUrl="{_FEED}"/></body></opml>'
    return w.outcome(a, "POST", "/v1/podcasts/opml", content=opml.encode())


@case("PUT /v1/me/shows", MEMBERS)
def _save_show(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", "/v1/me/shows", params={"ids": _show(w)[0]})


@case("DELETE /v1/me/shows", MEMBERS)
def _remove_show(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "DELETE", "/v1/me/shows", params={"ids": _show(w)[0]})


@case("PUT /v1/me/episodes/{episode_id:str}/progress", MEMBERS)
def _progress(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", f"/v1/me/episodes/{_show(w)[1]}/progress", json={"position_ms": 1000})


@case("PUT /v1/me/episodes/{episode_id:str}/played", MEMBERS)
def _played(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", f"/v1/me/episodes/{_show(w)[1]}/played", json={"played": True})


@case("POST /v1/shows/{show_id:str}/refresh", ADMINS)
def _refresh_show(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", f"/v1/shows/{_show(w)[0]}/refresh")


@case("DELETE /v1/shows/{show_id:str}", ADMINS)
def _delete_show(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "DELETE", f"/v1/shows/{_show(w, fresh=True)[0]}")


@case("POST /v1/episodes/{episode_id:str}/download", ADMINS)
def _download_episode(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", f"/v1/episodes/{_show(w)[1]}/download")


@case("DELETE /v1/episodes/{episode_id:str}/download", ADMINS)
def _delete_download(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "DELETE", f"/v1/episodes/{_show(w)[1]}/download")


@case("PUT /v1/tracks/{track_id:str}/lyrics", MEMBERS)
def _lyrics(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", f"/v1/tracks/{w.tracks[2]}/lyrics", json={"text": "rules", "lang": "zu"})


@case("DELETE /v1/tracks/{track_id:str}/lyrics", MEMBERS)
def _unlyrics(w: World, a: Account, _: Account) -> str:
    w.ok(w.accounts["admin"], "PUT", f"/v1/tracks/{w.tracks[2]}/lyrics", json={"text": "rules", "lang": "zu"})
    return w.outcome(a, "DELETE", f"/v1/tracks/{w.tracks[2]}/lyrics", params={"lang": "zu"})


@case("rest createPodcastChannel", ADMINS)
def _r_channel(w: World, a: Account, _: Account) -> str:
    _show(w)
    return w.rest(a, "createPodcastChannel", {"url": _FEED})


@case("rest deletePodcastChannel", ADMINS)
def _r_delete_channel(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "deletePodcastChannel", {"id": _show(w, fresh=True)[0]})


@case("rest deletePodcastEpisode", ADMINS)
def _r_delete_episode(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "deletePodcastEpisode", {"id": _show(w)[1]})


@case("rest downloadPodcastEpisode", ADMINS)
def _r_download_episode(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "downloadPodcastEpisode", {"id": _show(w)[1]})


@case("rest refreshPodcasts", ADMINS)
def _r_refresh(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "refreshPodcasts")


@case("rest reportPlayback", MEMBERS, "an episode")
def _r_report_episode(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "reportPlayback", {"mediaId": _show(w)[1], "mediaType": "podcast", "positionMs": 1000,
                                        "state": "paused"})


@case("rest createBookmark", MEMBERS, "an episode")
def _r_bookmark_episode(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "createBookmark", {"id": _show(w)[1], "position": 1000})


# ---- /v1: friends' servers (federation). The matrix's server has no peers: an unknown peer id is refused
# with 404 to whoever the rule lets through, and with 403 to whoever it does not ----

_NO_PEER = "Fnopeer0000000000000000"
_PASSED = {"admin": NOT_FOUND, "owner": FORBIDDEN, "other": FORBIDDEN, "guest": FORBIDDEN}  # admins only


@case("POST /v1/admin/federation/invites", ADMINS)
def _fed_invite(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/admin/federation/invites", json={"scopes": ["library"], "hours": 1})


@case("POST /v1/admin/federation/join", ADMINS)
def _fed_join(w: World, a: Account, _: Account) -> str:
    r = w.v1(a, "POST", "/v1/admin/federation/join", json={"invite": "musicd-invite:not-an-invite"})
    # An admin gets past the rule to the invite's check (a 400 that says so); the others are refused before.
    return OK if r.status_code == 400 and r.json()["error"]["code"] == "invalid_invite" else w.outcome_of(r)


for _method, _path, _body in (("POST", "/peers/{peer_id:str}/approve", None),
                              ("PUT", "/peers/{peer_id:str}/scopes", {"scopes": ["library"]}),
                              ("DELETE", "/peers/{peer_id:str}", None),
                              ("POST", "/peers/{peer_id:str}/sync", None)):
    def _fed_admin(w: World, a: Account, _: Account, method: str = _method, path: str = _path,
                   body: object = _body) -> str:
        url = "/v1/admin/federation" + path.replace("{peer_id:str}", _NO_PEER)
        return w.outcome(a, method, url, **({"json": body} if body is not None else {}))
    case(f"{_method} /v1/admin/federation{_path}", _PASSED)(_fed_admin)


@case("PUT /v1/me/federation/following", {**MEMBERS, "admin": NOT_FOUND, "owner": NOT_FOUND, "other": NOT_FOUND})
def _fed_follow(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", "/v1/me/federation/following", json={"peer_id": _NO_PEER, "username": "alice"})


@case("DELETE /v1/me/federation/following", {**MEMBERS, "admin": NOT_FOUND, "owner": NOT_FOUND, "other": NOT_FOUND})
def _fed_unfollow(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "DELETE", f"/v1/me/federation/following?peer_id={_NO_PEER}&username=alice")


@case("PUT /v1/playlists/{playlist_id:str}/peers", {**OWNER, "owner": NOT_FOUND})
def _fed_share(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "PUT", f"/v1/playlists/{w.playlist(owner)}/peers", json={"peer_id": _NO_PEER})


@case("DELETE /v1/playlists/{playlist_id:str}/peers/{peer_id:str}", {**OWNER, "owner": NOT_FOUND})
def _fed_unshare(w: World, a: Account, owner: Account) -> str:
    return w.outcome(a, "DELETE", f"/v1/playlists/{w.playlist(owner)}/peers/{_NO_PEER}")


# ---- /rest ----

@case("rest createUser", ADMINS)
def _r_create_user(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "createUser", {"username": "s" + secrets.token_hex(5), "password": "long-enough-pw"})


@case("rest updateUser", ADMINS)
def _r_update_user(w: World, a: Account, owner: Account) -> str:
    return w.rest(a, "updateUser", {"username": owner.name, "email": f"{owner.name}@example.test"})


@case("rest updateUser", {r: FORBIDDEN for r in ROLES}, "one's own role", fresh=True)
def _r_own_role(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "updateUser", {"username": a.name, "adminRole": "false" if a.role == "admin" else "true"})


@case("rest deleteUser", ADMINS)
def _r_delete_user(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "deleteUser", {"username": w.target().name})


@case("rest changePassword", MEMBERS, "one's own", fresh=True)
def _r_password(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "changePassword", {"username": a.name, "password": a.password + "-new"})


@case("rest changePassword", ADMINS, "someone else's")
def _r_password_other(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "changePassword", {"username": w.target().name, "password": "a-new-password"})


@case("rest createShare", MEMBERS)
def _r_share(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "createShare", {"id": w.tracks[0]})


@case("rest updateShare", {"admin": OK, "owner": OK, "other": NOT_FOUND, "guest": FORBIDDEN})
def _r_update_share(w: World, a: Account, owner: Account) -> str:
    return w.rest(a, "updateShare", {"id": w.share_token(owner), "description": "changed"})


@case("rest deleteShare", {"admin": OK, "owner": OK, "other": NOT_FOUND, "guest": FORBIDDEN})
def _r_delete_share(w: World, a: Account, owner: Account) -> str:
    return w.rest(a, "deleteShare", {"id": w.share_token(owner)})


@case("rest createPlaylist", MEMBERS)
def _r_create_playlist(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "createPlaylist", {"name": "sub", "songId": w.tracks[0]})


@case("rest updatePlaylist", OWNER)
def _r_update_playlist(w: World, a: Account, owner: Account) -> str:
    return w.rest(a, "updatePlaylist", {"playlistId": w.playlist(owner), "name": "renamed"})


@case("rest deletePlaylist", OWNER)
def _r_delete_playlist(w: World, a: Account, owner: Account) -> str:
    return w.rest(a, "deletePlaylist", {"id": w.playlist(owner)})


@case("rest star", MEMBERS)
def _r_star(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "star", [("id", w.tracks[0]), ("id", w.album_id), ("artistId", w.artist_id)])


@case("rest unstar", MEMBERS)
def _r_unstar(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "unstar", [("id", w.tracks[0]), ("albumId", w.album_id)])


@case("rest setRating", MEMBERS)
def _r_rating(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "setRating", {"id": w.album_id, "rating": 4})


@case("rest scrobble", MEMBERS)
def _r_scrobble(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "scrobble", {"id": w.tracks[0], "submission": "true"})


@case("rest reportPlayback", MEMBERS)
def _r_report(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "reportPlayback", {"mediaId": w.tracks[0], "mediaType": "song", "positionMs": 1000,
                                        "state": "playing"})


@case("rest createBookmark", MEMBERS)
def _r_bookmark(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "createBookmark", {"id": w.tracks[0], "position": 1000})


@case("rest deleteBookmark", MEMBERS)
def _r_unbookmark(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "deleteBookmark", {"id": w.tracks[0]})


@case("rest savePlayQueue", MEMBERS)
def _r_queue(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "savePlayQueue", [("id", w.tracks[0]), ("id", w.tracks[1]), ("current", w.tracks[1])])


@case("rest savePlayQueueByIndex", MEMBERS)
def _r_queue_index(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "savePlayQueueByIndex", [("id", w.tracks[0]), ("currentIndex", 0)])


@case("rest startScan", ADMINS)
def _r_scan(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "startScan")


# ---- /v1 player, speakers, Jam (issue 14): one's own playback; without an online device a command is a 404 ----
# (fresh accounts: an earlier reportPlayback makes a Subsonic app the active device, which is not commandable)

NO_DEVICE = {r: NOT_FOUND for r in ROLES}
_PLAYER = [
    ("PUT /v1/me/player", "PUT", "/v1/me/player", {"json": {"device_ids": ["nosuchdevice0"]}}),
    ("PUT /v1/me/player/play", "PUT", "/v1/me/player/play", {}),
    ("PUT /v1/me/player/pause", "PUT", "/v1/me/player/pause", {}),
    ("POST /v1/me/player/next", "POST", "/v1/me/player/next", {}),
    ("POST /v1/me/player/previous", "POST", "/v1/me/player/previous", {}),
    ("PUT /v1/me/player/seek", "PUT", "/v1/me/player/seek", {"params": {"position_ms": 1000}}),
    ("PUT /v1/me/player/volume", "PUT", "/v1/me/player/volume", {"params": {"volume_percent": 50}}),
    ("PUT /v1/me/player/shuffle", "PUT", "/v1/me/player/shuffle", {"params": {"state": "true"}}),
    ("PUT /v1/me/player/repeat", "PUT", "/v1/me/player/repeat", {"params": {"state": "off"}}),
    ("PUT /v1/me/player/devices/{device_id:str}", "PUT", "/v1/me/player/devices/nosuchdevice0",
     {"json": {"name": "Kitchen"}}),
    ("POST /v1/me/speakers/approve", "POST", "/v1/me/speakers/approve", {"json": {"code": "WRONGONE"}}),
    ("POST /v1/me/jam", "POST", "/v1/me/jam", {"json": {"device_id": "nosuchdevice0"}}),
    ("POST /v1/jam/join", "POST", "/v1/jam/join", {"json": {"code": "NOJAM0", "device_id": "nosuchdevice0"}}),
    ("PUT /v1/jam/{jam_id:str}/{action:str}", "PUT", "/v1/jam/nosuchjam00/pause", {}),
    ("DELETE /v1/jam/{jam_id:str}", "DELETE", "/v1/jam/nosuchjam00", {}),
]


def _player_case(method: str, path: str, kw: dict) -> Call:  # type: ignore[type-arg]
    return lambda w, a, _: w.outcome(a, method, path, **kw)


for _route, _method, _path, _kw in _PLAYER:
    case(_route, NO_DEVICE, fresh=True)(_player_case(_method, _path, _kw))


@case("POST /v1/me/player/queue", NO_DEVICE, fresh=True)
def _player_queue(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/me/player/queue", params={"uri": _uri(w.tracks[0])})


@case("DELETE /v1/me/player/queue", NO_DEVICE, fresh=True)
def _player_unqueue(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "DELETE", "/v1/me/player/queue", params={"uri": _uri(w.tracks[0]), "index": 0})


@case("PUT /v1/me/player/queue/move", NO_DEVICE, fresh=True)
def _player_queue_move(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", "/v1/me/player/queue/move", params={"uri": _uri(w.tracks[0]), "index": 0, "to": 1})


@case("PUT /v1/me/player/queue/play", NO_DEVICE, fresh=True)
def _player_queue_play(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "PUT", "/v1/me/player/queue/play", params={"uri": _uri(w.tracks[0]), "index": 0})


@case("POST /v1/jam/{jam_id:str}/queue", NO_DEVICE)
def _jam_queue(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/jam/nosuchjam00/queue", params={"uri": _uri(w.tracks[0])})


@case("POST /v1/speakers/pairings", EVERYONE)
def _pairing(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/speakers/pairings", json={"name": "Kitchen"})


@case("POST /v1/speakers/pairings/{pairing_id:str}/token", {r: "401" for r in ROLES})
def _pairing_token(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/speakers/pairings/nosuchpairing/token", json={"secret": "x"})[:3]


@case("POST /v1/speakers/token", {r: "401" for r in ROLES})
def _speaker_key(w: World, a: Account, _: Account) -> str:
    return w.outcome(a, "POST", "/v1/speakers/token", json={"api_key": "not-a-key"})[:3]


@case("rest jukeboxControl", {"admin": NOT_FOUND, "owner": NOT_FOUND, "other": NOT_FOUND, "guest": FORBIDDEN})
def _r_jukebox(w: World, a: Account, _: Account) -> str:
    return w.rest(a, "jukeboxControl", {"action": "start"})


# /rest methods that change nothing (a new method must be added to CASES or here).
REST_READS = frozenset({
    "ping", "getLicense", "getOpenSubsonicExtensions", "tokenInfo", "getMusicFolders", "getIndexes", "getArtists",
    "getArtist", "getAlbum", "getSong", "getGenres", "getMusicDirectory", "getAlbumList", "getAlbumList2",
    "getRandomSongs", "getSongsByGenre", "getStarred", "getStarred2", "getPlaylists", "getPlaylist", "search",
    "search2", "search3", "getNowPlaying", "getLyrics", "getLyricsBySongId", "getBookmarks", "getPlayQueue",
    "getPlayQueueByIndex", "stream", "download", "getCoverArt", "getAvatar", "getScanStatus", "getArtistInfo",
    "getArtistInfo2", "getAlbumInfo", "getAlbumInfo2", "getSimilarSongs", "getSimilarSongs2", "getTopSongs",
    "getShares", "getUser", "getUsers", "getPodcasts", "getNewestPodcasts", "getPodcastEpisode",
})
_READ_METHODS = {"GET", "HEAD", "OPTIONS"}


def test_every_write_has_a_rule(tmp_path: Path) -> None:
    """The matrix covers every write route of /v1 and every /rest method that changes state."""
    app = create_app(make_config(tmp_path / "data"))
    v1_writes = {f"{m} {r.path}" for r in app.routes if r.path.startswith(("/v1/", "/listenbrainz/", "/1/"))
                 for m in getattr(r, "methods", ()) if m not in _READ_METHODS}
    covered = {c.route for c in CASES}
    assert v1_writes - covered == set(), "write routes without a rule entry in CASES"
    assert {c for c in covered if c.startswith(("PUT", "POST", "PATCH", "DELETE"))} - v1_writes == set()
    rest = set(ENDPOINTS) - set(NOT_IMPLEMENTED)
    rest_writes = {c.route.removeprefix("rest ") for c in CASES if c.route.startswith("rest ")}
    assert rest - REST_READS - rest_writes == set(), "/rest methods that are neither a read nor in CASES"
    assert rest_writes & REST_READS == set() and (rest_writes | REST_READS) - rest == set()
    for c in CASES:
        assert set(c.expect) == set(ROLES), c.id


@pytest.fixture(scope="module")
def world(live_server: LiveServer) -> Iterator[World]:
    w = World.make(live_server)
    yield w
    w.close()


@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_write_rule(world: World, c: Case) -> None:
    got = {}
    for role in ROLES:
        actor = world.fresh(role) if c.fresh else world.accounts[role]
        owner = actor if c.fresh or role == "owner" else world.accounts["owner"]
        got[role] = c.call(world, actor, owner)
    assert got == c.expect
