"""The envelope: one payload tree rendered as XML (valid against the schema), JSON and JSONP."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from musicd.http.subsonic.envelope import render, render_error, to_xml
from tests.integration.subsonic_support import schema

NS = "{http://subsonic.org/restapi}"


def test_xml_attributes_children_text_and_escaping() -> None:
    tree = {"subsonic-response": {"status": "ok", "version": "1.16.1", "type": "musicd", "serverVersion": "1.0.0",
                                  "openSubsonic": True, "genres": {"genre": [
                                      {"value": 'Drum & Bass <"live">', "songCount": 2, "albumCount": 1},
                                      {"value": "bad\x00\x1bchars\ttab", "songCount": 0, "albumCount": 0}]}}}
    doc = to_xml(tree)
    schema().validate(doc.decode())
    root = ET.fromstring(doc)
    assert root.get("openSubsonic") == "true"
    genres = root.findall(f"{NS}genres/{NS}genre")
    assert genres[0].text == 'Drum & Bass <"live">' and genres[0].get("songCount") == "2"
    assert genres[1].text == "badchars\ttab"


def test_attribute_newlines_survive_and_none_is_left_out() -> None:
    tree = {"subsonic-response": {"status": "ok", "version": "1.16.1", "type": "musicd", "serverVersion": "1.0.0",
                                  "openSubsonic": True,
                                  "lyrics": {"artist": "A\nB", "title": None, "value": "line 1\nline 2"}}}
    root = ET.fromstring(to_xml(tree))
    lyrics = root.find(f"{NS}lyrics")
    assert lyrics is not None and lyrics.get("artist") == "A\nB" and "title" not in lyrics.attrib
    assert lyrics.text == "line 1\nline 2"


def test_info_scalars_are_elements_and_lists_of_scalars_repeat() -> None:
    tree = {"subsonic-response": {"status": "ok", "version": "1.16.1", "type": "musicd", "serverVersion": "1.0.0",
                                  "openSubsonic": True,
                                  "artistInfo2": {"biography": "Bio & more", "musicBrainzId": "mbid",
                                                  "similarArtist": [{"id": "a", "name": "A", "albumCount": 1}]}}}
    doc = to_xml(tree)
    schema().validate(doc.decode())
    info = ET.fromstring(doc).find(f"{NS}artistInfo2")
    assert info is not None
    assert info.findtext(f"{NS}biography") == "Bio & more" and info.findtext(f"{NS}musicBrainzId") == "mbid"


def test_json_jsonp_and_errors() -> None:
    r = render({"license": {"valid": True}}, "json")
    body = json.loads(r.content)["subsonic-response"]
    assert body == {"status": "ok", "version": "1.16.1", "type": "musicd", "serverVersion": body["serverVersion"],
                    "openSubsonic": True, "license": {"valid": True}}
    assert render(None, "jsonp", "my.cb").content.startswith(b"my.cb({")
    assert render(None, "jsonp", "</script>").content.startswith(b"callback({")
    err = render_error(70, "not found", "xml")
    schema().validate(err.content.decode())
    assert err.status_code == 200 and b'code="70"' in err.content
