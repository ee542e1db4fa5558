"""The web player's podcasts and lyrics in headless Chromium: subscribe to a feed, play an episode, reload,
the position is kept (and reaches another device); speed and skip buttons; a synced lyric with an LRC
offset highlights the right line within 100 ms of the audio; a user fixes a track's lyrics."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from mutagen.oggvorbis import OggVorbis

from musicd.devtools.library_builder import encode_tone
from tests.e2e.conftest import Console, serve, sync_api
from tests.e2e.test_web_player import _login, _new_page
from tests.feed_server import FeedServer, Item, Route, feed_server, make_episode_audio, rss
from tests.live import LiveServer

Page = sync_api.Page
expect = sync_api.expect

pytestmark = pytest.mark.slow

# Raw times 0, 2, 4, 6 s; [offset:+700] shows each line 0.7 s earlier: 0, 1.3, 3.3, 5.3 s.
LRC = "[ti:Offset Song]\n[offset:+700]\n[00:00.00]Line zero\n[00:02.00]Line one\n[00:04.00]Line two\n" \
      "[00:06.00]Line three\n"
BOUNDARIES = [0.0, 1.3, 3.3, 5.3]
TRANSCRIPT = b"WEBVTT\n\n00:00:02.000 --> 00:00:20.000\n<v Host>Welcome <b>all</b>\n\n" \
             b"00:00:42.000 --> 00:00:50.000\nNear the end\n"


@pytest.fixture(scope="module")
def podcast_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, FeedServer]]:
    work = tmp_path_factory.mktemp("podcast-web")
    music = work / "Music" / "Tester" / "Offsets"
    music.mkdir(parents=True)
    song = music / "01 Offset Song.ogg"
    encode_tone(song, "ogg", 9.0, 523.0)
    tags = OggVorbis(song)
    tags.update({"title": "Offset Song", "artist": "Tester", "album": "Offsets", "tracknumber": "1"})
    tags.save()
    (music / "01 Offset Song.lrc").write_text(LRC)
    audio = make_episode_audio(work / "audio", "episode", 60, 330, "ogg")
    with feed_server() as fs:
        fs.routes["/e.ogg"] = Route(audio, "audio/ogg")
        fs.routes["/e.vtt"] = Route(TRANSCRIPT, "text/vtt")
        fs.routes["/feed.xml"] = Route(rss("Browser Show", [
            Item("b1", "Browser Episode", fs.url("/e.ogg"), len(audio), type="audio/ogg", duration="1:00",
                 notes="<p>Show notes <script>document.title='pwned'</script><b>safe</b></p>",
                 transcripts=[(fs.url("/e.vtt"), "text/vtt", "en")])]))
        with serve(work, work / "Music", MUSICD_PODCASTS_ALLOW_HOSTS=f"127.0.0.1:{fs.port}",
                   MUSICD_LIBRARY_SCAN_ON_START="never") as server:
            yield server, fs


def _page(browser: sync_api.Browser, console: Console) -> Page:
    page = _new_page(browser, console)
    page.set_default_timeout(15_000)  # an episode's first fetch and a feed refresh take a moment
    return page


def _time(page: Page) -> float:
    return float(page.evaluate("() => window.musicd.player.currentTime"))


def _logged_in(browser: sync_api.Browser, server: LiveServer, user: str) -> tuple[Page, Console]:
    console = Console()
    page = _page(browser, console)
    _login(page, server.base, user)
    return page, console


def _show_page(browser: sync_api.Browser, podcast_web: tuple[LiveServer, FeedServer], user: str
               ) -> tuple[Page, sync_api.Locator, Console]:
    """`user` on the test show's page (the feed added, whether or not an earlier test did); its episode row."""
    server, fs = podcast_web
    with server.client("admin") as c:
        sid = c.post("/v1/podcasts", json={"feed_url": fs.url("/feed.xml")}).json()["id"]
    page, console = _logged_in(browser, server, user)
    page.goto(f"{server.base}/show/{sid}")
    return page, page.locator(".episode", has_text="Browser Episode"), console


def play_with_lyrics(page: Page, query: str, title: str) -> None:
    """Find a song with the search box, play it and open its lyrics (also scripts/bench_podcast_player.py)."""
    page.keyboard.press("/")
    page.keyboard.type(query, delay=20)
    row = page.locator(".songs-section .track-row", has_text=title)
    row.hover()
    row.locator(".row-play").click()
    page.wait_for_function("() => window.musicd.player.isPlaying()")
    page.locator("#player-lyrics").click()


def test_subscribe_play_reload_resume(browser: sync_api.Browser, podcast_web: tuple[LiveServer, FeedServer],
                                      screenshots: Path) -> None:
    server, fs = podcast_web
    page, console = _logged_in(browser, server, "admin")
    page.locator(".sidebar").get_by_role("link", name="Podcasts").click()
    page.get_by_label("Add a podcast by its feed URL").fill(fs.url("/feed.xml"))
    page.get_by_role("button", name="Subscribe").click()
    page.wait_for_url(re.compile(r"/show/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Browser Show")
    row = page.locator(".episode", has_text="Browser Episode")
    expect(row).to_be_visible()
    row.locator("summary").click()
    expect(row.locator(".episode-notes b")).to_have_text("safe")
    assert row.locator(".episode-notes script").count() == 0 and page.title() != "pwned"
    page.screenshot(path=str(screenshots / "podcast-show.png"))

    row.get_by_role("button", name="Play Browser Episode").click()
    page.wait_for_function("() => window.musicd.player.isPlaying() && window.musicd.player.currentTime > 0.5")
    expect(page.locator("#player-title")).to_have_text("Browser Episode")
    # Episode controls: speed and the 15/30 s skips.
    expect(page.get_by_role("button", name="Forward 30 seconds")).to_be_visible()
    page.get_by_label("Playback speed").select_option("2")
    assert page.evaluate("() => window.musicd.player.audio.playbackRate") == 2
    before = _time(page)
    page.get_by_role("button", name="Forward 30 seconds").click()
    page.wait_for_function("(t) => window.musicd.player.currentTime > t + 25", arg=before)
    page.get_by_role("button", name="Back 15 seconds").click()
    page.wait_for_function("(t) => window.musicd.player.currentTime < t + 25", arg=before)
    # Pause: the position goes to the server at once.
    with page.expect_response(lambda r: "/progress" in r.url and r.request.method == "PUT") as saved:
        page.get_by_role("button", name="Pause").click()
    assert saved.value.status == 200
    at = _time(page)
    assert at > 10

    # Reload: the episode is back, paused where it was (the server's position).
    page.reload()
    page.wait_for_selector("body.ready")
    page.wait_for_function("(t) => Math.abs(window.musicd.player.currentTime - t) < 1.5", arg=at)
    expect(page.locator("#player-title")).to_have_text("Browser Episode")

    # Another device (a fresh browser, nothing in local storage) resumes from the same place.
    other = _page(browser, console)
    _login(other, server.base, "admin")
    expect(other.locator(".continue-listening .episode", has_text="Browser Episode")).to_be_visible()
    other.locator(".continue-listening").get_by_role("button", name="Play Browser Episode").click()
    # (paused flips at play(); the start position applies once the metadata is in)
    other.wait_for_function("() => window.musicd.player.isPlaying() && window.musicd.player.audio.readyState >= 2")
    resumed = _time(other)
    assert abs(resumed - at) < 10, (resumed, at)  # at most 10 s lost
    other.screenshot(path=str(screenshots / "podcast-continue.png"))
    console.assert_clean()


def test_transcript_shows_and_seeks(browser: sync_api.Browser, podcast_web: tuple[LiveServer, FeedServer]) -> None:
    """A Podcasting 2.0 transcript: the server reads the feed's VTT; its lines show, a time seeks there."""
    page, row, console = _show_page(browser, podcast_web, "alice")
    row.locator("summary").click()
    row.get_by_role("button", name="Transcript").click()
    lines = row.get_by_role("list", name="Transcript").locator("li")
    expect(lines).to_have_count(2)
    expect(lines.nth(0)).to_have_text(re.compile(r"0:02\s*Host:\s*Welcome\s+all"))
    assert row.locator(".transcript b").count() == 0  # cue markup is dropped by the server, never parsed as HTML
    lines.nth(1).get_by_role("button", name="0:42").click()
    page.wait_for_function("() => window.musicd.player.isPlaying() && window.musicd.player.currentTime >= 42")
    expect(page.locator("#player-title")).to_have_text("Browser Episode")
    page.get_by_role("button", name="Pause").click()
    console.assert_clean()


def test_sped_up_playback_saves_every_10_seconds_of_audio(browser: sync_api.Browser,
                                                          podcast_web: tuple[LiveServer, FeedServer]) -> None:
    """At 3x, a report every 10 s of the clock is 30 s of the episode: a device that dies mid-play would lose
    that much. The player also reports every 10 s of the audio, so the server is never further behind."""
    server, _ = podcast_web
    page, row, console = _show_page(browser, podcast_web, "bob")
    eid = row.get_attribute("data-episode-id")
    row.get_by_role("button", name="Play Browser Episode").click()
    page.wait_for_function("() => window.musicd.player.isPlaying()")
    page.get_by_label("Playback speed").select_option("3")
    start = _time(page)
    behind = []
    with server.client("bob") as c:
        for mark in (14, 24, 34):
            page.wait_for_function("(t) => window.musicd.player.currentTime > t", arg=start + mark, timeout=30_000)
            heard = _time(page)
            saved = c.get(f"/v1/episodes/{eid}").json()["resume_point"]["resume_position_ms"] / 1000
            behind.append(round(heard - saved, 2))
    # 10 s, plus one timeupdate (250 ms of the clock is 0.75 s of audio at 3x) and the request's way.
    assert max(behind) < 12, behind
    page.get_by_role("button", name="Pause").click()
    console.assert_clean()


def test_lyrics_offset_karaoke_and_edit(browser: sync_api.Browser, podcast_web: tuple[LiveServer, FeedServer],
                                        screenshots: Path) -> None:
    server, _ = podcast_web
    page, console = _logged_in(browser, server, "alice")
    play_with_lyrics(page, "offset song", "Offset Song")
    expect(page.locator(".lyric-line")).to_have_count(4)
    # Sample the highlight against the audio clock while it plays: away from a boundary by more than
    # 100 ms, the highlighted line is the one the offset says.
    samples = page.evaluate("""async () => {
      const p = window.musicd.player; p.seek(0.8); await p.resume();
      const out = [];
      const end = performance.now() + 5000;
      while (performance.now() < end) {
        await new Promise((r) => requestAnimationFrame(r));
        const lines = [...document.querySelectorAll('.lyric-line')];
        out.push([p.audio.currentTime, lines.findIndex((l) => l.classList.contains('active'))]);
      }
      return out;
    }""")
    checked = 0
    for t, idx in samples:
        if min(abs(t - b) for b in BOUNDARIES) <= 0.1:
            continue
        want = max(i for i, b in enumerate(BOUNDARIES) if b <= t)
        assert idx == want, (t, idx, want)
        checked += 1
    assert checked > 50
    page.screenshot(path=str(screenshots / "lyrics-offset.png"))

    # A listener fixes the lyrics, with word timing (karaoke); the file is left as it was.
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Edit lyrics").click()
    fixed = "[00:00.00]<00:00.00>Fixed <00:01.00>words\n[00:03.00]Second"
    page.get_by_role("textbox", name=re.compile("^Lyrics")).fill(fixed)
    page.get_by_label("Language (e.g. en)").fill("en")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".lyric-line")).to_have_count(2)
    page.evaluate("() => window.musicd.player.seek(1.5)")
    expect(page.locator(".lyric-line.active .lyric-word.sung")).to_have_count(2)
    page.evaluate("() => window.musicd.player.seek(0.5)")
    expect(page.locator(".lyric-line.active .lyric-word.sung")).to_have_count(1)
    lrc = next((server.data_dir.parent / "Music").rglob("*.lrc"))
    assert lrc.read_text() == LRC
    page.screenshot(path=str(screenshots / "lyrics-karaoke.png"))
    console.assert_clean()
