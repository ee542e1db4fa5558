#!/usr/bin/env python3
"""The web player's two promises of issue 16, measured in real headless Chromium against a local server
and feed server (started here, loopback only):

- **resume loss**: while an episode plays at 1x, 2x and 3x, how far (seconds of the episode) the position
  the server holds is behind what the listener heard, sampled every 0.25 s: what a resume on another
  device would lose if this one died at that moment (the promise: at most 10 s);
- **lyric highlight lag**: while a song with an LRC `[offset:+700]` plays, when each line lights up
  against the audio clock (`audio.currentTime` at the class change minus the line's time after the
  offset; the promise: within 100 ms). The player lights a line 50 ms ahead on purpose (web/static/js/lrc.js,
  for the audio output's latency), so a lag near -50 ms is on time.

Prints one JSON object. Needs the `playwright` package and Debian's `chromium`.
    .venv/bin/python scripts/bench_podcast_player.py --seconds 30 --plays 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mutagen.oggvorbis import OggVorbis
from playwright.sync_api import sync_playwright

from musicd.devtools.library_builder import encode_tone
from tests.e2e.test_podcasts_web import play_with_lyrics
from tests.e2e.test_web_player import _login
from tests.feed_server import Item, Route, feed_server, make_episode_audio, rss
from tests.live import LiveServer, start_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--autoplay-policy=no-user-gesture-required"]
OFFSET_S = 0.7  # [offset:+700]: every line shows 0.7 s before its stamp
LINE_EVERY_S = 1.5
SONG_S = 30.0

# Records audio.currentTime each time a lyric line becomes the active one.
WATCH = """() => {
  window.__lit = [];
  const body = document.querySelector('.lyrics-body');
  new MutationObserver((changes) => {
    for (const c of changes) {
      const el = c.target;
      const lit = el.classList.contains('active') && !(c.oldValue || '').includes('active');
      if (el.classList.contains('lyric-line') && lit) {
        const lines = [...document.querySelectorAll('.lyric-line')];
        window.__lit.push([lines.indexOf(el), window.musicd.player.audio.currentTime]);
      }
    }
  }).observe(body, { subtree: true, attributes: true, attributeFilter: ['class'], attributeOldValue: true });
}"""


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def resume_loss(browser: Any, server: LiveServer, feed_url: str, seconds: float) -> dict[str, Any]:
    """Per speed: the largest and median gap between what was heard and the server's position."""
    with server.client("admin") as c:
        sid = c.post("/v1/podcasts", json={"feed_url": feed_url}).json()["id"]
        eid = c.get(f"/v1/shows/{sid}/episodes").json()["items"][0]["id"]
    out: dict[str, Any] = {}
    for speed in ("1", "2", "3"):
        with server.client("bob") as c:
            c.put(f"/v1/me/episodes/{eid}/played", json={"played": False})  # from the start each time
        context = browser.new_context()
        page = context.new_page()
        page.set_default_timeout(30_000)
        _login(page, server.base, "bob")
        page.goto(f"{server.base}/show/{sid}")
        page.get_by_role("button", name="Play Bench Episode").click()
        page.wait_for_function("() => window.musicd.player.isPlaying()")
        page.get_by_label("Playback speed").select_option(speed)
        gaps = []
        with server.client("bob") as c:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                heard = float(page.evaluate("() => window.musicd.player.currentTime"))
                saved = c.get(f"/v1/episodes/{eid}").json()["resume_point"]["resume_position_ms"] / 1000
                gaps.append(max(0.0, heard - saved))
                page.wait_for_timeout(250)
        heard_total = float(page.evaluate("() => window.musicd.player.currentTime"))
        context.close()
        out[f"{speed}x"] = {"samples": len(gaps), "max_s": round(max(gaps), 2),
                            "p50_s": round(statistics.median(gaps), 2), "episode_s_heard": round(heard_total, 1)}
    return out


def lyric_lag(browser: Any, server: LiveServer, plays: int) -> dict[str, Any]:
    """Signed lag (ms, + = late) of each line's highlight against the audio clock, over `plays` plays."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(30_000)
    _login(page, server.base, "alice")
    play_with_lyrics(page, "bench song", "Bench Song")
    page.wait_for_selector(".lyric-line")
    page.evaluate(WATCH)
    lags = []
    for _ in range(plays):
        page.evaluate("async () => { const p = window.musicd.player; p.seek(0); await p.resume(); }")
        page.wait_for_function("(t) => window.musicd.player.currentTime > t", arg=SONG_S - 2, timeout=60_000)
        for idx, at in page.evaluate("() => window.__lit.splice(0)"):
            shown = idx * LINE_EVERY_S - OFFSET_S
            if idx > 0 and shown > 0.5:  # the first lines light at the seek, not at their time
                lags.append((at - shown) * 1000)
    context.close()
    return {"lines": len(lags), "p50_ms": round(statistics.median(lags), 1), "p95_ms": round(_pct(lags, 0.95), 1),
            "max_abs_ms": round(max(abs(x) for x in lags), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=30.0, help="wall seconds of playback per speed")
    ap.add_argument("--plays", type=int, default=3, help="plays of the 30 s song with lyrics")
    args = ap.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        music = work / "Music" / "Bench" / "Lyrics"
        music.mkdir(parents=True)
        song = music / "01 Bench Song.ogg"
        encode_tone(song, "ogg", SONG_S, 523.0)
        tags = OggVorbis(song)
        tags.update({"title": "Bench Song", "artist": "Bench", "album": "Lyrics", "tracknumber": "1"})
        tags.save()
        stamps = [i * LINE_EVERY_S for i in range(int(SONG_S / LINE_EVERY_S))]
        (music / "01 Bench Song.lrc").write_text("[offset:+700]\n" + "".join(
            f"[{int(t // 60):02d}:{t % 60:05.2f}]Line {i}\n" for i, t in enumerate(stamps)))
        # Long enough for 3x over --seconds.
        audio = make_episode_audio(work / "audio", "episode", 3 * args.seconds + 30, 330, "ogg")
        with feed_server() as fs:
            fs.routes["/e.ogg"] = Route(audio, "audio/ogg")
            fs.routes["/feed.xml"] = Route(rss("Bench Show", [
                Item("b1", "Bench Episode", fs.url("/e.ogg"), len(audio), type="audio/ogg")]))
            with start_server(work, work / "Music", MUSICD_PODCASTS_ALLOW_HOSTS=f"127.0.0.1:{fs.port}") as server, \
                    sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                try:
                    loss = resume_loss(browser, server, fs.url("/feed.xml"), args.seconds)
                    lag = lyric_lag(browser, server, args.plays)
                finally:
                    browser.close()
    print(json.dumps({"resume_loss": loss, "lyric_highlight_lag": lag}))


if __name__ == "__main__":
    main()
