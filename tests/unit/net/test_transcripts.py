"""Transcript files read into timed segments: WebVTT, SubRip, the Podcasting 2.0 JSON format, HTML and
text; markup dropped, broken segments skipped, a file that is none of them refused."""

from __future__ import annotations

import pytest

from musicd.domain.podcasts import TranscriptSegment
from musicd.net.transcripts import TranscriptError, parse_transcript


def test_webvtt_with_voices_and_markup() -> None:
    body = b"\xef\xbb\xbfWEBVTT\n\nNOTE a comment\n\n00:01:05.250 --> 00:01:07.000\n" \
           b"<v Ann>Hi <i>there</i> &amp; you\n\n00:00:01.000 --> 00:00:02.000 align:start\nFirst\n"
    assert parse_transcript(body, "", "https://x/t") == [  # sniffed by its header; sorted by time
        TranscriptSegment(1000, 2000, "First"), TranscriptSegment(65250, 67000, "Hi there & you", "Ann")]


def test_subrip_by_type_or_name() -> None:
    body = b"1\n00:00:01,000 --> 00:00:02,500\nOne\nline two\n\n2\n00:00:03,000 --> 00:00:04,000\nTwo\n"
    want = [TranscriptSegment(1000, 2500, "One line two"), TranscriptSegment(3000, 4000, "Two")]
    assert parse_transcript(body, "application/x-subrip", "https://x/t") == want
    assert parse_transcript(body, "", "https://x/t.srt?sig=1") == want


def test_json_segments_broken_ones_skipped() -> None:
    body = (b'{"version": "1.0.0", "segments": [{"startTime": 2, "endTime": 3, "body": "<b>Two</b> &lt;3"},'
            b' {"startTime": -1, "body": "neg"}, {"body": "no time"}, 7, {"startTime": 1, "body": "One",'
            b' "speaker": "Bo"}]}')
    assert parse_transcript(body, "application/json", "https://x/t") == [
        TranscriptSegment(1000, None, "One", "Bo"), TranscriptSegment(2000, 3000, "Two <3")]


def test_html_and_text_are_one_untimed_segment() -> None:
    got = parse_transcript(b"<p>Hello <script>steal()</script><b>world</b></p>", "text/html", "https://x/t")
    assert got == [TranscriptSegment(None, None, "Hello world")]
    assert parse_transcript(b"  just\nwords ", "text/plain", "https://x/t")[0].text == "just words"


@pytest.mark.parametrize(("body", "ctype"), [
    (b"not a webvtt file", "text/vtt"), (b"{}", "application/json"), (b'{"segments": 5}', "application/json"),
    (b"[1, 2]", "application/json"), (b"", "text/plain"), (b"<p> </p>", "text/html"),
    (b"1\n00:00:xx,000 --> 00:00:02,000\nbad\n", "application/x-subrip"),
])
def test_unreadable_files_are_refused(body: bytes, ctype: str) -> None:
    with pytest.raises(TranscriptError) as e:
        parse_transcript(body, ctype, "https://x/t")
    assert e.value.status == 422 and e.value.code == "bad_transcript"
