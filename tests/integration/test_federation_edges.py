"""Every bad request of issue 18 against one real server, the protocol checked against docs/federation.md,
and the `musicd peer` commands.

The peer here is this test: it holds its own Ed25519 identity, pairs with the server through the documented
`/fed/v1/pair`, signs (or forges, tampers with, replays) requests, and serves a hostile catalogue from a
loopback HTTP server (garbage, huge and endless bodies, redirects, ten million tracks, pages that never
advance). After each, the server still serves.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from http_message_signatures import HTTPMessageSigner, algorithms
from http_message_signatures.resolvers import MappingKeyResolver

from musicd.net.federation import COVERED, LABEL, TAG, Identity, b64
from tests.integration.fed_support import Song, build_library, fed_server, instance, peers, signed, sync
from tests.integration.hostile_peer import Hostile, hostile_peer
from tests.live import REPO_ROOT, LiveServer

pytestmark = pytest.mark.slow

DOC = (REPO_ROOT / "docs" / "federation.md").read_text(encoding="utf-8")
# The refusals docs/federation.md lists: (code, status).
DOCUMENTED = {(c, int(st)) for c, st in re.findall(r"^\| `(\w+)` \| (\d{3}) \|", DOC, re.M)}


def expect(r: httpx.Response, status: int, code: str) -> None:
    """The answer is the refusal expected, and docs/federation.md documents it (pairing's own codes aside)."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.json()["error"]["code"] == code, r.text
    assert code.startswith("invite_") or (code, status) in DOCUMENTED, f"{code} {status} is not in the protocol doc"


class Env:
    def __init__(self, a: LiveServer, hostile: Hostile, me: Identity, root: Path) -> None:
        self.a, self.hostile, self.me, self.root = a, hostile, me, root
        self.a_id = instance(a)["instance_id"]
        self.http = httpx.Client(timeout=30)

    def send(self, req: httpx.Request) -> httpx.Response:
        return self.http.send(req)

    def get(self, path: str, who: Identity | None = None, **params: Any) -> httpx.Response:
        return self.send(signed(who or self.me, self.a_id, "GET", self.a.base + path, params=params or None))

    def admin(self) -> httpx.Client:
        return self.a.client("admin")

    def invite(self, **body: Any) -> str:
        with self.admin() as c:
            r = c.post("/v1/admin/federation/invites", json=body)
            assert r.status_code == 201, r.text
            return str(r.json()["invite"])

    def pair_as(self, who: Identity, invite: str, url: str, scopes: list[str] | None = None) -> httpx.Response:
        token = json.loads(_unb64(invite.split(":", 1)[1]))["token"]
        body = json.dumps({"invite": token, "instance_id": who.instance_id, "name": who.name, "url": url,
                           "public_key": b64(who.public_key),
                           "scopes": scopes or ["library", "stream", "activity"]}).encode()
        return self.send(signed(who, self.a_id, "POST", self.a.base + "/fed/v1/pair", body=body))


def _unb64(s: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    root = tmp_path_factory.mktemp("fed-edges")
    lib = build_library(root / "lib", [Song("Edge Artist", "Edge Album", "Edge Song")], root / "tpl")
    me = Identity(secrets.token_bytes(32), "Test peer")
    with hostile_peer(me.instance_id) as hostile, \
            fed_server(root / "a", lib, "Edge server", MUSICD_FEDERATION_MAX_PEER_TRACKS="1200",
                       MUSICD_FEDERATION_PEER_REQUESTS_PER_SECOND="5") as a:
        e = Env(a, hostile, me, root)
        r = e.pair_as(me, e.invite(), hostile.url)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "active" and r.json()["instance_id"] == e.a_id
        yield e


def test_pairing_answers_with_the_identity_the_invite_names(env: Env) -> None:
    code = env.invite(scopes=["library"])
    payload = json.loads(_unb64(code.split(":", 1)[1]))
    assert payload["id"] == env.a_id and payload["key"] == instance(env.a)["public_key"]
    assert payload["url"] == env.a.base and payload["name"] == "Edge server"
    assert env.get("/fed/v1/hello").json() == {"instance_id": env.a_id, "name": "Edge server",
                                               "scopes": ["library", "stream", "activity"], "protocol": 1}


def test_invites_are_one_time_and_expire(env: Env) -> None:
    other = Identity(secrets.token_bytes(32), "Second")
    code = env.invite()
    assert env.pair_as(other, code, "http://127.0.0.1:9").status_code == 200
    expect(env.pair_as(other, code, "http://127.0.0.1:9"), 401, "invite_used")
    short = env.invite(hours=0.0003)  # about a second
    time.sleep(1.5)
    expect(env.pair_as(Identity(secrets.token_bytes(32), "Late"), short, "http://127.0.0.1:9"), 401,
           "invite_expired")
    fake = "musicd-invite:" + b64(json.dumps({"token": "x" * 32}).encode())
    expect(env.pair_as(Identity(secrets.token_bytes(32), "Guess"), fake, "http://127.0.0.1:9"), 401,
           "invite_unknown")
    # A pairing request signed with another key than the one it offers is refused.
    thief = Identity(secrets.token_bytes(32), "Thief")
    token = json.loads(_unb64(env.invite().split(":", 1)[1]))["token"]
    body = json.dumps({"invite": token, "instance_id": other.instance_id, "name": "x", "url": "http://127.0.0.1:9",
                       "public_key": b64(other.public_key), "scopes": []}).encode()
    expect(env.send(signed(thief, env.a_id, "POST", env.a.base + "/fed/v1/pair", body=body)), 401, "bad_signature")
    r = env.send(signed(thief, env.a_id, "POST", env.a.base + "/fed/v1/pair", body=b"{not json"))
    assert r.status_code == 400
    with env.admin() as c:
        r = c.post("/v1/admin/federation/join", json={"invite": "musicd-invite:garbage"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_invite"


def test_unsigned_forged_modified_replayed_expired_and_misdirected_requests_get_401(env: Env) -> None:
    url = env.a.base + "/fed/v1/catalog"
    expect(env.http.get(url), 401, "unsigned")
    expect(env.get("/fed/v1/catalog", who=Identity(secrets.token_bytes(32), "Stranger")), 401, "unknown_peer")
    # Forged: our keyid, another key's signature.
    forger = Identity(secrets.token_bytes(32), "Forger")
    req = signed(forger, env.a_id, "GET", url)
    req.headers["signature-input"] = req.headers["signature-input"].replace(forger.instance_id, env.me.instance_id)
    expect(env.send(req), 401, "bad_signature")
    # Modified after signing: the query, then the body.
    req = signed(env.me, env.a_id, "GET", url, params={"limit": 5})
    req.url = req.url.copy_with(query=b"limit=500")
    expect(env.send(req), 401, "bad_signature")
    req = signed(env.me, env.a_id, "POST", env.a.base + "/fed/v1/notify", body=b'{"reason": "changed"}')
    tampered = httpx.Request("POST", req.url, headers=req.headers, content=b'{"reason": "chanGed"}')
    expect(env.send(tampered), 401, "bad_digest")
    # Replayed.
    req = signed(env.me, env.a_id, "GET", url)
    assert env.send(req).status_code == 200
    expect(env.send(req), 401, "replayed")
    # Outside the ±300 s window, either way.
    expect(env.send(signed(env.me, env.a_id, "GET", url, now=time.time() - 1000)), 401, "signature_expired")
    expect(env.send(signed(env.me, env.a_id, "GET", url, now=time.time() + 1000)), 401, "signature_expired")
    # Signed for another server.
    expect(env.send(signed(env.me, "0" * 22, "GET", url)), 401, "wrong_recipient")
    # Bad parameters of a good request.
    assert env.get("/fed/v1/catalog", limit=0).status_code == 400
    assert env.get("/fed/v1/changes", since=-1).status_code == 400
    assert env.get("/fed/v1/changes", since=10**30).status_code == 400
    assert env.a.client(None).get("/health").status_code == 200


def test_scopes_pending_peers_and_rate_limits(env: Env) -> None:
    with env.admin() as c:
        r = c.put(f"/v1/admin/federation/peers/{env.me.instance_id}/scopes", json={"scopes": ["library"]})
        assert r.status_code == 200 and r.json()["scopes_granted"] == ["library"]
        expect(env.get("/fed/v1/users/alice"), 403, "scope_denied")
        assert env.get("/fed/v1/catalog").status_code == 200
        assert c.put(f"/v1/admin/federation/peers/{env.me.instance_id}/scopes",
                     json={"scopes": ["library", "stream", "activity"]}).status_code == 200
        assert c.put(f"/v1/admin/federation/peers/{env.me.instance_id}/scopes",
                     json={"scopes": ["everything"]}).status_code == 400
    waiting = Identity(secrets.token_bytes(32), "Waiting")
    r = env.pair_as(waiting, env.invite(approve=False), "http://127.0.0.1:9")
    assert r.status_code == 200 and r.json()["status"] == "pending"
    expect(env.get("/fed/v1/hello", who=waiting), 401, "peer_not_approved")
    with env.admin() as c:
        assert c.post(f"/v1/admin/federation/peers/{waiting.instance_id}/approve").json()["status"] == "active"
    assert env.get("/fed/v1/hello", who=waiting).status_code == 200
    # A burst well over the peer's budget (5 a second, 10 at once), sent at once from several threads.
    reqs = [signed(waiting, env.a_id, "GET", env.a.base + "/fed/v1/hello") for _ in range(60)]
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda r: httpx.Client(timeout=30).send(r), reqs))
    codes = [r.status_code for r in answers]
    assert 429 in codes and 200 in codes and set(codes) <= {200, 429}
    limited = next(r for r in answers if r.status_code == 429)
    expect(limited, 429, "rate_limited")
    assert int(limited.headers["retry-after"]) >= 1
    assert env.get("/fed/v1/hello").status_code == 200  # another peer's budget is its own


@pytest.mark.parametrize(("mode", "error"), [
    ("garbage", "peer_bad_response"),
    ("bad_values", "peer_bad_response"),
    ("huge", "peer_bad_response"),
    ("endless", "peer_bad_response"),
    ("redirect", "peer_redirected"),
    ("stuck", "peer_bad_response"),
])
def test_a_peer_answering_garbage_is_contained(env: Env, mode: str, error: str) -> None:
    env.hostile.mode = mode
    with env.admin() as c:
        c.put(f"/v1/admin/federation/peers/{env.me.instance_id}/scopes", json={"scopes": ["library"]})
    result = sync(env.a, env.me.instance_id)
    assert result["ok"] is False and result["error"].startswith(error), result
    assert env.a.client(None).get("/health").status_code == 200
    with env.a.client("alice") as c:
        assert c.get("/v1/search", params={"q": "edge song", "type": "track"}).json()["tracks"]["total"] == 1


def test_a_catalogue_claiming_ten_million_tracks_is_cut(env: Env) -> None:
    env.hostile.mode = "good"
    sync(env.a, env.me.instance_id)  # let the breaker close after the failures above
    env.hostile.mode = "ten_million"
    with env.admin() as c:  # start over: a full sync
        c.delete(f"/v1/admin/federation/peers/{env.me.instance_id}")
    r = env.pair_as(env.me, env.invite(), env.hostile.url)
    assert r.status_code == 200, r.text
    result = sync(env.a, env.me.instance_id)
    assert result["ok"] is True and result["total"] == 1200 and "larger than 1200" in result["error"]
    assert peers(env.a)[env.me.instance_id]["tracks"] == 1200
    with env.a.client("alice") as c:
        found = c.get("/v1/search", params={"q": "hostile song", "type": "track", "limit": 5}).json()
        assert found["tracks"]["items"][0]["source"]["name"] == "Test peer"
        assert c.get("/v1/search", params={"q": "edge song", "type": "track"}).json()["tracks"]["total"] == 1


def test_the_protocol_as_documented(env: Env) -> None:
    """An independent client built from docs/federation.md alone is understood by the server."""
    block = re.search(r"covered components, in this order:\n\n```\n(.+?)\n```", DOC)
    assert block is not None
    covered = tuple(c.strip('"') for c in block.group(1).split())
    assert covered == COVERED
    assert f"label `{LABEL}`" in DOC and f'tag="{TAG}"' in DOC
    seed = secrets.token_bytes(32)
    me = Identity(seed, "Doc reader")
    assert env.pair_as(me, env.invite(), "http://127.0.0.1:9").status_code == 200
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519, key_resolver=MappingKeyResolver(
        public_keys={}, private_keys={me.instance_id: Ed25519PrivateKey.from_private_bytes(seed)}))
    req = httpx.Client().build_request("GET", env.a.base + "/fed/v1/catalog", params={"after": "", "limit": 2})
    req.headers["musicd-to"] = env.a_id
    now = int(time.time())
    signer.sign(req, key_id=me.instance_id, label=LABEL, tag=TAG, covered_component_ids=covered,
                created=dt.datetime.fromtimestamp(now, dt.UTC), expires=dt.datetime.fromtimestamp(now + 300, dt.UTC),
                nonce=secrets.token_urlsafe(12), body=b"")
    r = env.send(req)
    assert r.status_code == 200, r.text
    page = r.json()
    assert set(page) == {"items", "cursor", "total", "next"} and page["total"] == 1
    assert set(page["items"][0]) >= {"id", "title", "artist", "artists", "album_id", "album", "album_artist_id",
                                      "album_artist", "duration", "format", "size"}
    # Every endpoint of the table exists and asks for the scope the table says.
    rows = re.findall(r"^\| (GET|POST|GET, HEAD) \| `(/[^`]+)` \| (\w+) \|", DOC, re.M)
    assert len(rows) == 10
    with env.admin() as c:
        c.put(f"/v1/admin/federation/peers/{me.instance_id}/scopes", json={"scopes": []})
    for method, path, scope in rows:
        path = path.split("?")[0].replace("{id}", "x").replace("{username}", "alice")
        verb = method.split(",")[0]
        body = b"{}" if verb == "POST" else b""
        r = env.send(signed(me, env.a_id, verb, env.a.base + "/fed/v1" + path, body=body))
        if scope in ("library", "stream", "activity"):
            assert r.status_code == 403 and r.json()["error"]["code"] == "scope_denied", (path, r.text)
        else:
            assert r.status_code != 404, (path, r.status_code)
    # Every refusal the doc lists is one the server makes (`expect` checks the other way round).
    source = "\n".join(p.read_text(encoding="utf-8") for p in (REPO_ROOT / "musicd").rglob("*.py"))
    assert len(DOCUMENTED) == 11
    for code, _ in DOCUMENTED:
        assert f'"{code}"' in source, code


def _musicd(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    e = {k: v for k, v in os.environ.items() if not k.startswith("MUSICD_")}
    e.update({"MUSICD_DATA_DIR": str(data), **env})
    return subprocess.run([sys.executable, "-m", "musicd", "peer", *args], env=e, capture_output=True, text=True,
                          cwd=REPO_ROOT, timeout=120)


def test_peer_commands_pair_list_scope_and_revoke(env: Env) -> None:
    a_env = {"MUSICD_FEDERATION_PUBLIC_URL": env.a.base}
    made = _musicd(env.a.data_dir, "invite", "--scopes", "library,stream", **a_env)
    assert made.returncode == 0, made.stderr
    code = made.stdout.strip()
    assert code.startswith("musicd-invite:")
    other = env.root / "other"
    joined = _musicd(other, "join", code, "--url", "http://127.0.0.1:9", MUSICD_FEDERATION_NAME="CLI friend")
    assert joined.returncode == 0, joined.stderr
    assert "Edge server" in joined.stdout and "library, stream" in joined.stdout
    again = _musicd(env.root / "third", "join", code, "--url", "http://127.0.0.1:9")
    assert again.returncode != 0 and "already used" in again.stderr
    listed = json.loads(_musicd(other, "list", "--json").stdout)
    assert [(p["name"], p["status"], p["scopes_received"]) for p in listed] == [
        ("Edge server", "active", ["library", "stream"])]
    friend = Identity((other / "keys" / "federation.key").read_bytes(), "CLI friend")
    assert env.get("/fed/v1/hello", who=friend).json()["scopes"] == ["library", "stream"]
    on_a = {p["name"]: p for p in json.loads(_musicd(env.a.data_dir, "list", "--json").stdout)}
    assert on_a["CLI friend"]["status"] == "active"
    assert _musicd(env.a.data_dir, "scopes", friend.instance_id, "library").returncode == 0
    expect(env.get("/fed/v1/tracks/x/stream", who=friend), 403, "scope_denied")
    # A peer looks users up by username, never by e-mail address. The module's peer may have been left with
    # fewer scopes by a test before this one (which ran before it depends on how the suite is spread).
    with env.admin() as c:
        assert c.put(f"/v1/admin/federation/peers/{env.me.instance_id}/scopes",
                     json={"scopes": ["library", "stream", "activity"]}).status_code == 200
    assert env.get("/fed/v1/users/alice").status_code == 200
    assert env.get("/fed/v1/users/alice@example.test").status_code == 404
    assert _musicd(env.a.data_dir, "scopes", friend.instance_id, "all-of-it").returncode != 0
    revoked = _musicd(env.a.data_dir, "revoke", friend.instance_id, "--yes")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    # The running server sees the CLI's revocation on the very next request.
    expect(env.get("/fed/v1/hello", who=friend), 401, "peer_revoked")
    assert msgspec.json.decode(env.get("/fed/v1/hello").content)["name"] == "Edge server"
