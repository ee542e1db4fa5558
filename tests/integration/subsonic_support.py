"""Helpers for the Subsonic tests: a tiny client over httpx, the XSD check, and response snapshots.

The schema is the vendored Subsonic 1.16.1 XSD (tests/fixtures) with OpenSubsonic's additions applied
here, each named after the OpenSubsonic response page it comes from, so a response validates only if
it is Subsonic 1.16.1 plus documented OpenSubsonic fields.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import secrets
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
import xmlschema

from tests.integration.subsonic_shapes import check_json

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "subsonic"
XS = "http://www.w3.org/2001/XMLSchema"
NS = "http://subsonic.org/restapi"

# ---- OpenSubsonic additions to the 1.16.1 schema ----

_NEW_TYPES = """
<xs:complexType name="OpenSubsonicExtension">
  <xs:sequence><xs:element name="versions" type="xs:int" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  <xs:attribute name="name" type="xs:string" use="required"/>
</xs:complexType>
<xs:complexType name="ItemGenre"><xs:attribute name="name" type="xs:string" use="required"/></xs:complexType>
<xs:complexType name="ArtistRef">
  <xs:attribute name="id" type="xs:string" use="required"/>
  <xs:attribute name="name" type="xs:string" use="required"/>
  <xs:attribute name="coverArt" type="xs:string"/>
  <xs:attribute name="albumCount" type="xs:int"/>
  <xs:attribute name="musicBrainzId" type="xs:string"/>
  <xs:attribute name="sortName" type="xs:string"/>
</xs:complexType>
<xs:complexType name="Contributor">
  <xs:sequence><xs:element name="artist" type="sub:ArtistRef"/></xs:sequence>
  <xs:attribute name="role" type="xs:string" use="required"/>
  <xs:attribute name="subRole" type="xs:string"/>
</xs:complexType>
<xs:complexType name="ReplayGain">
  <xs:attribute name="trackGain" type="xs:double"/>
  <xs:attribute name="albumGain" type="xs:double"/>
  <xs:attribute name="trackPeak" type="xs:double"/>
  <xs:attribute name="albumPeak" type="xs:double"/>
  <xs:attribute name="baseGain" type="xs:double"/>
  <xs:attribute name="fallbackGain" type="xs:double"/>
</xs:complexType>
<xs:complexType name="Work">
  <xs:attribute name="name" type="xs:string" use="required"/>
  <xs:attribute name="musicBrainzId" type="xs:string"/>
</xs:complexType>
<xs:complexType name="Movement">
  <xs:attribute name="name" type="xs:string" use="required"/>
  <xs:attribute name="number" type="xs:int"/>
  <xs:attribute name="count" type="xs:int"/>
</xs:complexType>
<xs:complexType name="RecordLabel"><xs:attribute name="name" type="xs:string" use="required"/></xs:complexType>
<xs:complexType name="ItemDate">
  <xs:attribute name="year" type="xs:int"/>
  <xs:attribute name="month" type="xs:int"/>
  <xs:attribute name="day" type="xs:int"/>
</xs:complexType>
<xs:complexType name="DiscTitle">
  <xs:attribute name="disc" type="xs:int" use="required"/>
  <xs:attribute name="title" type="xs:string" use="required"/>
</xs:complexType>
<xs:complexType name="LyricsList">
  <xs:sequence><xs:element name="structuredLyrics" type="sub:StructuredLyrics" minOccurs="0" maxOccurs="unbounded"/>
  </xs:sequence>
</xs:complexType>
<xs:complexType name="StructuredLyrics">
  <xs:sequence><xs:element name="line" type="sub:Line" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  <xs:attribute name="lang" type="xs:string" use="required"/>
  <xs:attribute name="synced" type="xs:boolean" use="required"/>
  <xs:attribute name="displayArtist" type="xs:string"/>
  <xs:attribute name="displayTitle" type="xs:string"/>
  <xs:attribute name="offset" type="xs:long"/>
  <xs:attribute name="kind" type="xs:string"/>
</xs:complexType>
<xs:complexType name="Line" mixed="true"><xs:attribute name="start" type="xs:long"/></xs:complexType>
<xs:complexType name="PlayQueueByIndex">
  <xs:sequence><xs:element name="entry" type="sub:Child" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
  <xs:attribute name="currentIndex" type="xs:int"/>
  <xs:attribute name="position" type="xs:long"/>
  <xs:attribute name="username" type="xs:string" use="required"/>
  <xs:attribute name="changed" type="xs:dateTime" use="required"/>
  <xs:attribute name="changedBy" type="xs:string" use="required"/>
</xs:complexType>
<xs:complexType name="TokenInfo"><xs:attribute name="username" type="xs:string" use="required"/></xs:complexType>
"""

# complexType -> (child elements in any order, new attributes), from the OpenSubsonic response pages.
_ADDITIONS: dict[str, tuple[str, str]] = {
    # subsonic-response
    "Response": ("", """
        <xs:attribute name="type" type="xs:string" use="required"/>
        <xs:attribute name="serverVersion" type="xs:string" use="required"/>
        <xs:attribute name="openSubsonic" type="xs:boolean" use="required"/>"""),
    # Child [OS]
    "Child": ("""
        <xs:element name="genres" type="sub:ItemGenre"/>
        <xs:element name="artists" type="sub:ArtistRef"/>
        <xs:element name="albumArtists" type="sub:ArtistRef"/>
        <xs:element name="contributors" type="sub:Contributor"/>
        <xs:element name="moods" type="xs:string"/>
        <xs:element name="isrc" type="xs:string"/>
        <xs:element name="replayGain" type="sub:ReplayGain"/>
        <xs:element name="works" type="sub:Work"/>
        <xs:element name="movements" type="sub:Movement"/>
        <xs:element name="groupings" type="xs:string"/>""", """
        <xs:attribute name="bitDepth" type="xs:int"/>
        <xs:attribute name="samplingRate" type="xs:int"/>
        <xs:attribute name="channelCount" type="xs:int"/>
        <xs:attribute name="mediaType" type="xs:string"/>
        <xs:attribute name="played" type="xs:dateTime"/>
        <xs:attribute name="bpm" type="xs:int"/>
        <xs:attribute name="comment" type="xs:string"/>
        <xs:attribute name="sortName" type="xs:string"/>
        <xs:attribute name="musicBrainzId" type="xs:string"/>
        <xs:attribute name="displayArtist" type="xs:string"/>
        <xs:attribute name="displayAlbumArtist" type="xs:string"/>
        <xs:attribute name="displayComposer" type="xs:string"/>
        <xs:attribute name="explicitStatus" type="xs:string"/>"""),
    # NowPlayingEntry [OS] (playbackReport)
    "NowPlayingEntry": ("", """
        <xs:attribute name="state" type="xs:string"/>
        <xs:attribute name="positionMs" type="xs:long"/>
        <xs:attribute name="playbackRate" type="xs:double"/>"""),
    # AlbumID3 [OS]
    "AlbumID3": ("""
        <xs:element name="recordLabels" type="sub:RecordLabel"/>
        <xs:element name="genres" type="sub:ItemGenre"/>
        <xs:element name="artists" type="sub:ArtistRef"/>
        <xs:element name="releaseTypes" type="xs:string"/>
        <xs:element name="moods" type="xs:string"/>
        <xs:element name="originalReleaseDate" type="sub:ItemDate"/>
        <xs:element name="releaseDate" type="sub:ItemDate"/>
        <xs:element name="discTitles" type="sub:DiscTitle"/>""", """
        <xs:attribute name="version" type="xs:string"/>
        <xs:attribute name="played" type="xs:dateTime"/>
        <xs:attribute name="userRating" type="sub:UserRating"/>
        <xs:attribute name="musicBrainzId" type="xs:string"/>
        <xs:attribute name="displayArtist" type="xs:string"/>
        <xs:attribute name="sortName" type="xs:string"/>
        <xs:attribute name="isCompilation" type="xs:boolean"/>
        <xs:attribute name="explicitStatus" type="xs:string"/>"""),
    # ArtistID3 [OS] (userRating: ratingID3)
    "ArtistID3": ("""
        <xs:element name="roles" type="xs:string"/>""", """
        <xs:attribute name="musicBrainzId" type="xs:string"/>
        <xs:attribute name="sortName" type="xs:string"/>
        <xs:attribute name="userRating" type="sub:UserRating"/>"""),
    # playlist [OS]
    "Playlist": ("", """
        <xs:attribute name="readonly" type="xs:boolean"/>
        <xs:attribute name="validUntil" type="xs:dateTime"/>"""),
    # error [OS]
    "Error": ("", '<xs:attribute name="helpUrl" type="xs:string"/>'),
}

_NEW_RESPONSES = """
<xs:element name="openSubsonicExtensions" type="sub:OpenSubsonicExtension" minOccurs="0" maxOccurs="unbounded"/>
<xs:element name="lyricsList" type="sub:LyricsList"/>
<xs:element name="playQueueByIndex" type="sub:PlayQueueByIndex"/>
<xs:element name="tokenInfo" type="sub:TokenInfo"/>
<xs:element name="podcastEpisode" type="sub:PodcastEpisode"/>
"""


def _frag(xml: str) -> list[ET.Element]:
    return list(ET.fromstring(f'<r xmlns:xs="{XS}" xmlns:sub="{NS}">{xml}</r>'))


@functools.cache
def schema() -> xmlschema.XMLSchema:
    """The vendored 1.16.1 XSD with the OpenSubsonic additions, compiled once."""
    ET.register_namespace("xs", XS)
    tree = ET.parse(FIXTURES / "subsonic-rest-api-1.16.1.xsd")
    root = tree.getroot()
    types = {t.get("name"): t for t in root.iter(f"{{{XS}}}complexType")}
    for name, (elements, attributes) in _ADDITIONS.items():
        ct = types[name]
        ext = ct.find(f".//{{{XS}}}extension")
        target = ext if ext is not None else ct
        if elements:
            # OpenSubsonic does not fix the order of its child elements.
            choice = ET.Element(f"{{{XS}}}choice", {"minOccurs": "0", "maxOccurs": "unbounded"})
            choice.extend(_frag(elements))
            target.insert(0, choice)
        target.extend(_frag(attributes))
    response_choice = types["Response"].find(f"{{{XS}}}choice")
    assert response_choice is not None
    response_choice.extend(_frag(_NEW_RESPONSES))
    # OpenSubsonic ids are strings, so the current track of a play queue is one too.
    for attr in types["PlayQueue"].iter(f"{{{XS}}}attribute"):
        if attr.get("name") == "current":
            attr.set("type", "xs:string")
    root.extend(_frag(_NEW_TYPES))
    text = ET.tostring(root, encoding="unicode")
    # ElementTree only declares prefixes used in names; "sub:" is used in attribute values (type="sub:...").
    text = text.replace("<xs:schema ", f'<xs:schema xmlns:sub="{NS}" ', 1)
    return xmlschema.XMLSchema(text)


# ---- a small client ----


class Sub:
    """Calls /rest as one user: token auth by default, JSON unless asked for XML."""

    def __init__(self, base: str, user: str, password: str, client: httpx.Client | None = None) -> None:
        self.base = base
        self.user = user
        self.password = password
        self.http = client or httpx.Client(timeout=30)

    def auth(self, mode: str = "token") -> dict[str, str]:
        if mode == "plain":
            return {"u": self.user, "p": self.password}
        if mode == "enc":
            return {"u": self.user, "p": "enc:" + self.password.encode().hex()}
        salt = secrets.token_hex(6)
        return {"u": self.user, "s": salt, "t": hashlib.md5((self.password + salt).encode()).hexdigest()}

    def raw(self, method: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None, *, fmt: str = "json",
            http: str = "GET", auth: str = "token", view: bool = False, headers: dict[str, str] | None = None
            ) -> httpx.Response:
        items: list[tuple[str, Any]] = [*self.auth(auth).items(), ("v", "1.16.1"), ("c", "musicd-tests"),
                                        ("f", fmt)]
        items += list(params.items()) if isinstance(params, dict) else list(params or [])
        items = [(k, v) for k, v in items if v is not None]
        url = f"{self.base}/rest/{method}{'.view' if view else ''}"
        if http == "POST":
            return self.http.post(url, data=dict(_multi(items)), headers=headers)  # type: ignore[arg-type]
        return self.http.request(http, url, params=items, headers=headers)

    def call(self, method: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None, **kw: Any
             ) -> dict[str, Any]:
        """The subsonic-response of a JSON call; asserts it is ok."""
        body = self.json(method, params, **kw)
        assert body["status"] == "ok", body
        return body

    def json(self, method: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None, **kw: Any
             ) -> dict[str, Any]:
        r = self.raw(method, params, **kw)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/json"), r.headers
        check_json(r.content)  # every JSON answer of every test has the OpenSubsonic shapes
        return r.json()["subsonic-response"]  # type: ignore[no-any-return]

    def error(self, method: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None, **kw: Any) -> int:
        """The error code of a call that must fail."""
        body = self.json(method, params, **kw)
        assert body["status"] == "failed", body
        assert body["error"]["message"], body
        return int(body["error"]["code"])

    def xml(self, method: str, params: dict[str, Any] | list[tuple[str, Any]] | None = None, **kw: Any
            ) -> ET.Element:
        """The XML response, validated against the schema."""
        r = self.raw(method, params, fmt="xml", **kw)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/xml"), r.headers
        schema().validate(r.text)
        return ET.fromstring(r.content)


def _multi(items: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    # httpx's data= takes a dict of lists for repeated keys.
    out: dict[str, list[Any]] = {}
    for k, v in items:
        out.setdefault(k, []).append(v)
    return list(out.items())


# ---- snapshots ----

_ID = re.compile(r"^[0-9A-Za-z]{22}$")
_HASH = re.compile(r"^[0-9a-f]{32,64}$")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
_VOLATILE = {"serverVersion", "lastModified", "minutesAgo", "url"}


def normalise(tree: Any) -> Any:
    """A response with what changes from run to run replaced: ids by <id1>, <id2>... in order of first
    appearance, content hashes by <hash>, times by <time>."""
    ids: dict[str, str] = {}

    def walk(x: Any, key: str = "") -> Any:
        if isinstance(x, dict):
            return {k: walk(v, k) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v, key) for v in x]
        if key in _VOLATILE:
            return f"<{key}>"
        if isinstance(x, str):
            if _ID.match(x):
                return ids.setdefault(x, f"<id{len(ids) + 1}>")
            if _HASH.match(x):
                return "<hash>"
            if _TIME.match(x):
                return "<time>"
        return x

    return walk(tree)


def check_snapshot(name: str, body: dict[str, Any]) -> None:
    """Compare with tests/integration/snapshots/subsonic/NAME.json; written when missing or when
    UPDATE_SNAPSHOTS=1 (review the diff before committing)."""
    path = SNAPSHOTS / f"{name}.json"
    got = normalise(body)
    text = json.dumps(got, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got == want, f"{name}: response differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept)"
