"""The pure parts of listen handling: identity, matching, ListenBrainz payload checks, history files."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from musicd.domain.listens import LISTEN_MIN_TS, Listen, listen_identity, name_key
from musicd.errors import ValidationError
from musicd.services.listen_files import ListenFile, Rejected
from musicd.services.listen_matching import TrackIndex
from musicd.services.listenbrainz_payload import parse_submission

NOW = 1_700_000_000.0
MBID = "e225fb84-dc9a-419e-adcd-9890f59ec432"
TRACKS = [
    # id, title, artist_display, album, duration, isrc, mbid, main artists
    ("t1", "Northern Lights", "Aurora Band feat. Guest", "Skies", 200.0, "NOA010100001", MBID, "Aurora Band"),
    ("t2", "Été", "Röyksopp", "Melody", 180.0, None, None, "Röyksopp"),
    ("t3", "Été", "Röyksopp", "Live", 420.0, None, None, "Röyksopp"),
    ("t4", "Song (feat. X)", "Simon & Garfunkel", "Bridge", 150.0, None, None, "Simon & Garfunkel"),
]


def test_identity_ignores_case_accents_and_punctuation() -> None:
    assert name_key("  Röyksopp!! ") == "royksopp"
    assert name_key("Simon & Garfunkel") == name_key("simon and garfunkel")
    assert listen_identity("AC/DC", "T.N.T.") == listen_identity("ac dc", "t n t")
    assert listen_identity("A", "B") != listen_identity("A", "C")
    assert 0 <= listen_identity("x", "y") < 2**63


def test_matching_by_mbid_isrc_names_and_duration() -> None:
    index = TrackIndex(TRACKS)
    assert index.match(Listen(0, "Who", "Knows", recording_mbid=MBID.upper())) == ("t1", "mbid")
    assert index.match(Listen(0, "Who", "Knows", isrc="noa010100001")) == ("t1", "isrc")
    assert index.match(Listen(0, "AURORA BAND", "northern lights")) == ("t1", "name")  # main artist of a feat.
    assert index.match(Listen(0, "Aurora Band feat. Guest", "Northern Lights")) == ("t1", "name")
    # Two versions of one name: the duration picks one, and rules out a recording that fits neither.
    assert index.match(Listen(0, "royksopp", "ete", duration_ms=419_000)) == ("t3", "name")
    assert index.match(Listen(0, "royksopp", "ete", duration_ms=181_000)) == ("t2", "name")
    assert index.match(Listen(0, "royksopp", "ete", duration_ms=300_000)) is None
    assert index.match(Listen(0, "royksopp", "ete", release="Live")) == ("t3", "name")
    assert index.match(Listen(0, "Simon and Garfunkel", "Song")) == ("t4", "name")  # the "feat." tail aside
    assert index.match(Listen(0, "Nobody", "Northern Lights")) is None


def _body(listen_type: str, *items: object) -> bytes:
    return json.dumps({"listen_type": listen_type, "payload": list(items)}).encode()


def test_submission_read_like_listenbrainz() -> None:
    item = {"listened_at": "1699999000", "track_metadata": {
        "artist_name": " A ", "track_name": "T", "release_name": "",
        "additional_info": {"duration": 215, "recording_mbid": MBID, "isrc": " usrc17607839 ",
                            "submission_client": "player", "artist_mbids": ["", None, MBID]}}}
    kind, listens = parse_submission(_body("single", item), NOW)
    assert kind == "single" and listens == [Listen(1_699_999_000, "A", "T", None, 215_000, MBID, "USRC17607839",
                                                   "player")]
    kind, listens = parse_submission(_body("playing_now", {"track_metadata": {"artist_name": "A", "track_name": "T"}}),
                                     NOW)
    assert kind == "playing_now" and listens[0].listened_at == int(NOW)
    for bad, message in [
        ({"listened_at": int(NOW) + 3600, "track_metadata": {"artist_name": "A", "track_name": "T"}}, "too high"),
        ({"listened_at": LISTEN_MIN_TS - 1, "track_metadata": {"artist_name": "A", "track_name": "T"}}, "too low"),
        ({"listened_at": 1_600_000_000, "track_metadata": {"artist_name": "A", "track_name": " "}}, "is empty"),
        ({"listened_at": 1_600_000_000, "track_metadata": {"artist_name": "A\x00", "track_name": "T"}}, "unicode null"),
        ({"listened_at": 1_600_000_000, "track_metadata": {"artist_name": "A", "track_name": "T",
                                                           "additional_info": {"duration": 1, "duration_ms": 1}}},
         "both duration"),
        ({"listened_at": 1_600_000_000, "track_metadata": {"artist_name": "A", "track_name": "T",
                                                           "additional_info": {"tags": ["x" * 65]}}}, "tags longer"),
        ({"listened_at": 1_600_000_000, "extra": 1, "track_metadata": {"artist_name": "A", "track_name": "T"}},
         "may only contain"),
    ]:
        with pytest.raises(ValidationError, match=message):
            parse_submission(_body("import", bad), NOW)
    with pytest.raises(ValidationError, match="Cannot parse JSON"):
        parse_submission(b"[" * 50_000, NOW)


def _export_line(ts: int, artist: str = "A", title: str = "T") -> dict[str, object]:
    return {"listened_at": ts, "inserted_at": ts + 1, "user_name": "u", "track_metadata": {
        "artist_name": artist, "track_name": title, "additional_info": {},
        "mbid_mapping": {"recording_mbid": MBID}}}


def test_history_files_streamed_with_rejections(tmp_path: Path) -> None:
    lines = tmp_path / "1.jsonl"
    lines.write_bytes(b"".join(json.dumps(_export_line(1_600_000_000 + i)).encode() + b"\n" for i in range(3))
                      + b"{broken\n" + b"x" * (2 * 1024 * 1024) + b"\n")
    got = list(ListenFile(lines, now=NOW))
    assert [g.recording_mbid for g in got if isinstance(g, Listen)] == [MBID] * 3
    assert [type(g) for g in got[3:]] == [Rejected, Rejected]

    array = tmp_path / "old.json"
    array.write_text(json.dumps([_export_line(1_600_000_000), {"listened_at": 5}]) + " trailing junk")
    got = list(ListenFile(array, "listenbrainz", now=NOW))
    assert isinstance(got[0], Listen) and isinstance(got[1], Rejected) and isinstance(got[-1], Rejected)

    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("listens/2020/9.jsonl", json.dumps(_export_line(1_600_000_000)) + "\n")
        zf.writestr("user.json", "{}")
    assert [g.listened_at for g in ListenFile(z, now=NOW)] == [1_600_000_000]  # type: ignore[union-attr]

    csv_file = tmp_path / "lastfm.csv"
    csv_file.write_text("uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n"
                        f"1600000000,x,Artist,,Album,,Title,{MBID}\n"
                        "notatime,x,Artist,,Album,,Title,\n", encoding="utf-8")
    lf = ListenFile(csv_file, now=NOW)
    got = list(lf)
    assert lf.format == "lastfm" and lf.position == lf.total
    assert got[0] == Listen(1_600_000_000, "Artist", "Title", "Album", None, MBID, None, "lastfm")
    assert isinstance(got[1], Rejected)
    with pytest.raises(ValidationError):
        ListenFile(csv_file, "listenbrainz")
