"""Offline listening over HTTP against a real server (docs/offline.md): devices and their limits, licences
(signature, expiry, replay, another device's), downloads that decrypt only with their device's key and
resume with Range, sources followed, and every revocation path seen at the next heartbeat."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from musicd.services.offline_container import ContainerError, decrypt
from musicd.services.offline_keys import LicenceError, SignedLicence, b64d, b64e, verify_licence
from tests.integration.listens_support import history, wait_for
from tests.integration.offline_support import Device, register
from tests.integration.rules_support import Account, World
from tests.live import LiveServer


@pytest.fixture(scope="module")
def w(live_server: LiveServer) -> Iterator[World]:
    world = World.make(live_server)
    yield world
    world.close()


def _err(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code, r.text


def _device(w: World, acc: Account, name: str = "phone") -> Device:
    return register(w.http, acc.headers, name)


def _mark(w: World, acc: Account, dev: Device, kind: str, item: str = "", quality: str = "low") -> None:
    w.ok(acc, "PUT", f"/v1/me/devices/{dev.id}/offline", json={"type": kind, "id": item, "quality": quality})


def _admin_patch(w: World, user_id: str, body: dict[str, object]) -> None:
    r = w.http.patch(f"/v1/admin/users/{user_id}", headers=w.server.headers("admin"), json=body)
    assert r.status_code == 200, r.text


def test_devices_register_list_rename_revoke_within_the_limit(w: World) -> None:
    alice = w.fresh("owner")
    devices = [_device(w, alice, f"d{i}") for i in range(5)]
    assert len({d.key for d in devices}) == 5 and len({d.token for d in devices}) == 5
    _err(w.v1(alice, "POST", "/v1/me/devices", json={"name": "sixth", "kind": "phone"}), 409, "offline_device_limit")
    listed = w.ok(alice, "GET", "/v1/me/devices")
    assert listed["total"] == 5 and listed["limit"] == 5
    assert all("key" not in d and "token" not in d for d in listed["items"])
    renamed = w.ok(alice, "PATCH", f"/v1/me/devices/{devices[0].id}", json={"name": "Kitchen tablet"})
    assert renamed["name"] == "Kitchen tablet"
    assert w.v1(alice, "DELETE", f"/v1/me/devices/{devices[0].id}").status_code == 204
    got = w.ok(alice, "GET", f"/v1/me/devices/{devices[0].id}")
    assert got["revoked"] and got["key_version"] == 2
    _device(w, alice, "replacement")  # a revoked device frees its place
    # Bad input: unknown kind, empty name, unknown fields; nobody else's devices.
    _err(w.v1(alice, "POST", "/v1/me/devices", json={"name": "x", "kind": "toaster"}), 400, "invalid_kind")
    _err(w.v1(alice, "POST", "/v1/me/devices", json={"name": "  ", "kind": "phone"}), 400, "invalid_name")
    assert w.v1(alice, "POST", "/v1/me/devices", json={"name": "x", "evil": 1}).status_code == 400
    bob = w.fresh("other")
    _err(w.v1(bob, "GET", f"/v1/me/devices/{devices[1].id}"), 404, "device_not_found")
    _err(w.v1(bob, "DELETE", f"/v1/me/devices/{devices[1].id}"), 404, "device_not_found")
    _err(w.v1(bob, "GET", "/v1/admin/devices"), 403, "admin_only")
    assert w.v1(bob, "GET", "/v1/me/devices").json()["total"] == 0


def test_guests_and_users_without_the_download_right_get_no_device(w: World) -> None:
    guest = w.fresh("guest")
    _err(w.v1(guest, "POST", "/v1/me/devices", json={"name": "g", "kind": "phone"}), 403, "guest_read_only")
    carol = w.fresh("owner")
    _admin_patch(w, carol.id, {"settings": {"download_allowed": False}})
    _err(w.v1(carol, "POST", "/v1/me/devices", json={"name": "c", "kind": "phone"}), 403, "download_not_allowed")


def test_a_marked_playlist_downloads_encrypted_for_its_device_and_resumes(w: World) -> None:
    alice = w.fresh("owner")
    pid = w.playlist(alice, public=False, tracks=3)
    phone, laptop = _device(w, alice, "phone"), _device(w, alice, "laptop")
    _mark(w, alice, phone, "playlist", pid, quality="low")
    lic, _ = phone.heartbeat()
    assert (lic.status, lic.key_version, lic.user_id) == ("active", 1, alice.id)
    assert [i.track_id for i in lic.items] == w.tracks[:3] and {i.quality for i in lic.items} == {"low"}
    assert lic.expires_at - lic.issued_at == 30 * 86400
    t = w.tracks[0]
    whole = phone.download(t)
    tier = w.http.get(f"/v1/tracks/{t}/stream", params={"quality": "low"}, headers=alice.headers).content
    assert phone.plain(t) == tier and tier[:4] == b"OggS" and b"OggS" not in whole
    # Resumed in two parts: the same bytes (the salt is fixed for the same source and device).
    assert len(whole) > 1000 and phone.download(t, cut_at=len(whole) // 2 + 1) == whole
    # A changed If-Range: the whole container again, not a part of another one.
    again = phone.get(t, Range="bytes=100-", **{"If-Range": '"stale"'})
    assert again.status_code == 200 and again.content == whole
    assert phone.get(t, Range=f"bytes={len(whole)}-").status_code == 416
    # Another device: not licensed for it, and its key does not open this one's container.
    _err(laptop.get(t), 404, "not_licensed")
    with pytest.raises(ContainerError):
        decrypt(laptop.key, whole)
    # No or a bad device token.
    _err(w.http.get(f"/v1/offline/tracks/{t}"), 401, "no_device_token")
    _err(w.http.get(f"/v1/offline/tracks/{t}", headers={"Authorization": f"Device {phone.id}.{laptop.token}"}),
         401, "invalid_device_token")
    _err(w.http.get(f"/v1/offline/tracks/{t}", headers=alice.headers), 401, "no_device_token")
    # Progress: what the device says it holds.
    phone.heartbeat()
    state = w.ok(alice, "GET", f"/v1/me/devices/{phone.id}/offline")
    assert state["total"] == 3 and state["held"] == 1 and state["items"][0]["held"] == 1


def test_licences_are_signed_expire_and_are_not_replayed(w: World) -> None:
    alice = w.fresh("owner")
    dev = _device(w, alice)
    _mark(w, alice, dev, "album", w.album_id)
    first, _ = dev.heartbeat()
    old = dev.last_licence
    second, _ = dev.heartbeat()
    assert second.seq > first.seq
    with pytest.raises(LicenceError) as e:
        verify_licence(dev.public_key, old, dev.id, min_seq=second.seq)
    assert e.value.code == "licence_replayed"
    with pytest.raises(LicenceError) as e:
        verify_licence(dev.public_key, old, dev.id, now=first.expires_at)
    assert e.value.code == "licence_expired"
    forged = SignedLicence(b64e(b64d(old.payload).replace(b'"active"', b'"activE"')), old.signature)
    with pytest.raises(LicenceError) as e:
        verify_licence(dev.public_key, forged, dev.id)
    assert e.value.code == "licence_forged"
    with pytest.raises(LicenceError) as e:
        verify_licence(dev.public_key, old, "another-device")
    assert e.value.code == "licence_other_device"
    # Bad heartbeats: no device token, a user's token, a malformed body.
    _err(w.http.post("/v1/offline/heartbeat", json={}), 401, "no_device_token")
    _err(w.http.post("/v1/offline/heartbeat", headers=alice.headers, json={}), 401, "no_device_token")
    _err(w.http.post("/v1/offline/heartbeat", headers=dev.auth, json={"held": "all"}), 400, "invalid_heartbeat")
    _err(w.http.post("/v1/offline/heartbeat", headers={"Authorization": "Device nope.nope"}, json={}), 401,
         "device_unknown")
    key = w.ok(alice, "GET", "/v1/offline/licence-key")
    assert key["alg"] == "Ed25519" and b64d(key["key"]) == dev.public_key


def test_the_device_follows_its_sources(w: World) -> None:
    alice = w.fresh("owner")
    pid = w.playlist(alice, public=False, tracks=2)
    dev = _device(w, alice)
    _mark(w, alice, dev, "playlist", pid)
    for t in w.tracks[:2]:
        dev.download(t)
    w.ok(alice, "POST", f"/v1/playlists/{pid}/tracks", json={"uris": [f"musicd:track:{w.tracks[5]}"]})
    lic, gone = dev.heartbeat()
    assert [i.track_id for i in lic.items] == [*w.tracks[:2], w.tracks[5]] and gone == []
    w.ok(alice, "DELETE", f"/v1/playlists/{pid}/tracks", json={"tracks": [{"uri": f"musicd:track:{w.tracks[0]}"}]})
    lic, gone = dev.heartbeat()
    assert gone == [w.tracks[0]] and set(dev.held) == {w.tracks[1]}
    _err(dev.get(w.tracks[0]), 404, "not_licensed")
    # Liked songs: saving a song brings it, unmarking the playlist takes the playlist's away.
    w.ok(alice, "PUT", "/v1/me/tracks", json={"ids": [w.tracks[7]]})
    _mark(w, alice, dev, "liked", quality="normal")
    lic, _ = dev.heartbeat()
    assert {(i.track_id, i.quality) for i in lic.items} >= {(w.tracks[7], "normal")}
    assert w.v1(alice, "DELETE", f"/v1/me/devices/{dev.id}/offline", params={"type": "playlist", "id": pid}
                ).status_code == 204
    lic, gone = dev.heartbeat()
    assert [i.track_id for i in lic.items] == [w.tracks[7]] and gone == [w.tracks[1]]
    # Bad marks: an unknown playlist or album, another user's private playlist, a bad quality.
    _err(w.v1(alice, "PUT", f"/v1/me/devices/{dev.id}/offline", json={"type": "album", "id": "nope"}), 404,
         "album_not_found")
    bob = w.fresh("other")
    private = w.playlist(bob, public=False, tracks=1)
    assert w.v1(alice, "PUT", f"/v1/me/devices/{dev.id}/offline",
                json={"type": "playlist", "id": private}).status_code in (403, 404)
    _err(w.v1(alice, "PUT", f"/v1/me/devices/{dev.id}/offline", json={"type": "liked", "quality": "ultra"}), 400,
         "invalid_quality")


def test_a_shared_playlist_made_private_leaves_the_device(w: World) -> None:
    bob, alice = w.fresh("other"), w.fresh("owner")
    pid = w.playlist(bob, public=True, tracks=2)
    dev = _device(w, alice)
    _mark(w, alice, dev, "playlist", pid)
    dev.download(w.tracks[0])
    w.ok(bob, "PUT", f"/v1/playlists/{pid}", json={"public": False})
    lic, gone = dev.heartbeat()
    assert lic.status == "active" and lic.items == [] and gone == [w.tracks[0]]


@pytest.mark.parametrize("path", ["owner", "admin", "disabled", "download_right", "deleted"])
def test_every_revocation_path_reaches_the_device_at_its_next_heartbeat(w: World, path: str) -> None:
    alice = w.fresh("owner")
    dev = _device(w, alice)
    _mark(w, alice, dev, "album", w.album_id)
    lic, _ = dev.heartbeat()
    track = lic.items[0].track_id
    dev.download(track)
    if path == "owner":
        assert w.v1(alice, "DELETE", f"/v1/me/devices/{dev.id}").status_code == 204
        expected = ("revoked", "device_revoked")
    elif path == "admin":
        listed = w.http.get("/v1/admin/devices", headers=w.server.headers("admin")).json()
        assert dev.id in [d["id"] for d in listed["items"]]
        r = w.http.delete(f"/v1/admin/devices/{dev.id}", headers=w.server.headers("admin"))
        assert r.status_code == 204
        expected = ("revoked", "revoked_by_admin")
    elif path == "disabled":
        _admin_patch(w, alice.id, {"disabled": True})
        expected = ("suspended", "account_disabled")
    elif path == "download_right":
        _admin_patch(w, alice.id, {"settings": {"download_allowed": False}})
        expected = ("suspended", "download_not_allowed")
    else:
        assert w.http.delete(f"/v1/admin/users/{alice.id}", headers=w.server.headers("admin")).status_code == 204
        _err(dev.heartbeat_raw(), 401, "device_unknown")
        _err(dev.get(track), 401, "device_unknown")
        return
    lic, gone = dev.heartbeat()
    assert (lic.status, lic.reason) == expected and lic.items == [] and gone == [track] and not dev.held
    r = dev.get(track)
    assert r.status_code == 403 and r.json()["error"]["code"] == expected[1]
    if path in ("owner", "admin"):
        assert lic.key_version == 2  # a new key: nothing made from now on opens with the old one
        _err(w.v1(alice, "PUT", f"/v1/me/devices/{dev.id}/offline", json={"type": "liked"}), 409, "device_revoked")
    else:  # the right given back: the device gets its items again
        _admin_patch(w, alice.id, {"disabled": False, "settings": {"download_allowed": True}})
        lic, _ = dev.heartbeat()
        assert lic.status == "active" and track in {i.track_id for i in lic.items}


@pytest.mark.slow
def test_offline_plays_reach_the_listening_history(w: World) -> None:
    alice = w.fresh("owner")
    dev = _device(w, alice)
    when = int(time.time()) - 2 * 86400
    t = w.tracks[2]
    r = w.http.post("/v1/offline/plays", headers=dev.auth,
                    json={"plays": [{"track_id": t, "played_at": when * 1000, "ms_played": 60_000}]})
    assert r.status_code == 200 and r.json() == {"accepted": 1}, r.text
    rows = wait_for(lambda: history(w.server, alice.id))
    assert [(tid, dev_id) for tid, _, dev_id in rows] == [(t, f"offline:{dev.id}")]
    assert rows[0][1].startswith(time.strftime("%Y-%m-%d", time.gmtime(when)))
    _err(w.http.post("/v1/offline/plays", headers=dev.auth,
                     json={"plays": [{"track_id": t, "played_at": 0, "ms_played": 1}]}), 400, "invalid_event")
    assert w.http.post("/v1/offline/plays", headers=dev.auth, json={"plays": "x"}).status_code == 400


def test_keys_are_derived_as_documented_and_never_stored(w: World) -> None:
    """docs/offline.md, "Keys": the device key, the device token and the licence key, derived from the master
    secret with HKDF-SHA256 as the table says (computed here from the text), appear nowhere in the database."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    master = (w.server.data_dir / "keys" / "server.key").read_bytes()

    def derive(info: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, b"musicd offline v1", info).derive(master)

    alice = w.fresh("owner")
    dev = _device(w, alice)
    assert dev.key == derive(f"musicd offline device key\0{alice.id}\0{dev.id}\0{1}".encode())
    assert b64d(dev.token) == derive(f"musicd offline device token\0{alice.id}\0{dev.id}".encode())
    seed = derive(b"musicd offline licence signing key")
    assert dev.public_key == Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)
    _mark(w, alice, dev, "album", w.album_id)
    dev.heartbeat()
    fields = {"v", "device_id", "user_id", "key_version", "seq", "issued_at", "expires_at", "status", "reason",
              "items"}
    payload = json.loads(b64d(dev.last_licence.payload))
    assert set(payload) == fields
    assert payload["items"] and all(set(i) == {"track_id", "quality", "type"} and i["type"] == "track"
                                    for i in payload["items"])
    assert w.v1(alice, "DELETE", f"/v1/me/devices/{dev.id}").status_code == 204
    revoked, _ = dev.heartbeat()
    assert revoked.key_version == 2
    new_key = derive(f"musicd offline device key\0{alice.id}\0{dev.id}\0{2}".encode())
    for path in w.server.data_dir.glob("musicd.db*"):
        blob = path.read_bytes()
        for secret in (dev.key, new_key, b64d(dev.token), seed, dev.info["key"].encode(), dev.token.encode()):
            assert secret not in blob, path.name
