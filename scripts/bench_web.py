"""Web player timings in real headless Chromium, measured in the page with the Performance API.

    .venv/bin/python scripts/bench_web.py --base-url http://127.0.0.1:4747 --user admin --password ...

For each of `--runs` random albums (two tracks or more): open the album page, click its play button and
time click -> the <audio> `playing` event (the click's event timestamp to the player's `musicd:playing`
mark); wait until the player has prefetched the next track, click "next" and time that too. Two passes
over the same albums: the first meets the server's tier cache as it is (cold for tracks nobody played:
an on-the-fly transcode), the second runs in a fresh browser profile once the tiers are made (as after
the background pre-transcode). Also: the main pages' load times and longest main-thread task, and frame
times while scrolling a 100,000-track virtualised list. Prints one JSON object. Needs the `playwright`
package and Debian's `chromium` (no `playwright install`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import time
from typing import Any

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--autoplay-policy=no-user-gesture-required",
]

# Times one click (its event timestamp) to the next `musicd:playing` mark the player sets on `playing`.
ARM = """() => {
  performance.clearMarks('musicd:playing');
  window.__bench = { clickAt: null };
  const seen = (e) => { if (window.__bench.clickAt === null) window.__bench.clickAt = e.timeStamp; };
  document.addEventListener('click', seen, { capture: true, once: true });
}"""
PLAYED = """() => {
  const b = window.__bench;
  const marks = performance.getEntriesByName('musicd:playing');
  const a = window.musicd.player.audio;
  if (b.clickAt === null || !marks.length || !a || a.paused) return null;
  return { ms: marks[marks.length - 1].startTime - b.clickAt, prefetched: window.musicd.player.lastStartPrefetched };
}"""
NEXT_READY = """() => {
  const p = window.musicd.player;
  const next = p.upcoming(1)[0];
  const el = next && p.elements.get(next.uid);
  return Boolean(el && el.readyState >= 3);
}"""
# Mounts a 100,000-row track list over the real modules and scrolls it one step per frame.
VLIST = """async ({ rows, steps }) => {
  const cfg = JSON.parse(document.getElementById('musicd-config').textContent);
  const { trackList } = await import(cfg.static + '/js/ui/tracks.js');
  const main = document.getElementById('main');
  const view = document.getElementById('view');
  const tracks = Array.from({ length: rows }, (_, i) => ({
    id: 't' + i, name: 'Track ' + i, uri: 'musicd:track:t' + i, duration_ms: 180000 + i,
    artists: [{ id: 'a' + (i % 500), name: 'Artist ' + (i % 500) }],
    album: { id: 'b' + (i % 9000), name: 'Album ' + (i % 9000), images: [] },
  }));
  const t0 = performance.now();
  const list = trackList({ tracks, scroller: main, play: () => {}, label: 'bench' });
  view.replaceChildren(list.el);
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const mountMs = performance.now() - t0;
  const frames = [];
  let last = performance.now();
  const stride = Math.floor((rows * 56) / steps);
  for (let i = 0; i < steps; i++) {
    main.scrollTop = i * stride;
    await new Promise((r) => requestAnimationFrame(r));
    const now = performance.now();
    frames.push(now - last);
    last = now;
  }
  const inDom = list.el.querySelectorAll('.track-row').length;
  list.destroy();
  frames.sort((a, b) => a - b);
  const q = (p) => frames[Math.min(frames.length - 1, Math.floor(p * frames.length))];
  return { rows, steps, mount_ms: mountMs, frame_ms_p50: q(0.5), frame_ms_p95: q(0.95),
           frame_ms_max: frames[frames.length - 1], long_frames_over_50ms: frames.filter((f) => f > 50).length,
           rows_in_dom: inDom };
}"""


# Opens a page through the router and waits until nothing on it is loading; reports the time and the
# longest main-thread task meanwhile (a "stall" is a long task the user would feel).
PAGE = """async (path) => {
  const tasks = [];
  const obs = new PerformanceObserver((l) => l.getEntries().forEach((e) => tasks.push(e.duration)));
  obs.observe({ type: 'longtask' });
  const t0 = performance.now();
  window.musicd.navigate(path);
  await new Promise((r) => setTimeout(r, 30));
  for (let i = 0; i < 400; i++) {
    const busy = document.querySelector('#view [aria-busy="true"], #view .search-status:not(.visually-hidden)');
    if (!busy && document.querySelector('#view .view-inner')) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const ms = performance.now() - t0;
  obs.disconnect();
  return { ms: Math.round(ms), longest_task_ms: Math.round(Math.max(0, ...tasks)), long_tasks: tasks.length };
}"""


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0}
    s = sorted(values)
    return {
        "n": len(s), "p50": round(statistics.median(s), 1), "p95": round(s[min(len(s) - 1, int(0.95 * len(s)))], 1),
        "min": round(s[0], 1), "max": round(s[-1], 1), "mean": round(statistics.fmean(s), 1),
    }


def _login(browser: Any, base: str, user: str, password: str, quality: str, errors: list[str]) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    page.set_default_timeout(20_000)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/login")
    page.fill("#login-name", user)
    page.fill("#login-password", password)
    page.click("#login-submit")
    page.wait_for_selector("body.ready")
    if quality:
        page.select_option("#player-quality", quality)
    return page


def _play_albums(page: Any, albums: list[str]) -> tuple[list[float], list[float], int]:
    """Per album: click play (time it), wait for the next track to be prefetched, click next (time it)."""
    first_ms: list[float] = []
    next_ms: list[float] = []
    not_prefetched = 0
    for album_id in albums:
        page.evaluate("(id) => window.musicd.navigate('/album/' + id)", album_id)
        play = page.locator(".action-bar .play-button")
        play.wait_for()
        page.wait_for_selector(".track-row[data-loaded='1']")
        page.evaluate(ARM)
        play.click()
        first_ms.append(page.wait_for_function(PLAYED).json_value()["ms"])
        page.wait_for_function(NEXT_READY)
        page.evaluate(ARM)
        page.click("#player-next")
        second = page.wait_for_function(PLAYED).json_value()
        next_ms.append(second["ms"])
        not_prefetched += 0 if second["prefetched"] else 1
        page.evaluate("() => window.musicd.player.pause()")
    return first_ms, next_ms, not_prefetched


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--runs", type=int, default=20, help="albums to play (default 20)")
    ap.add_argument("--quality", default="", help="low|normal|high|lossless; default: the user's default")
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    ap.add_argument("--vlist-rows", type=int, default=100_000)
    args = ap.parse_args()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("bench_web needs the playwright package (pip install playwright)", file=sys.stderr)
        return 2
    base = args.base_url.rstrip("/")
    out: dict[str, Any] = {"base_url": base, "quality": args.quality or "user default", "runs": args.runs}
    errors: list[str] = []
    started = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        out["browser"] = f"chromium {browser.version}"
        page = _login(browser, base, args.user, args.password, args.quality, errors)
        albums = page.evaluate("""async (n) => {
          const cfg = JSON.parse(document.getElementById('musicd-config').textContent);
          const { api } = await import(cfg.static + '/js/api.js');
          const res = await api.get('/v1/library/albums', { sort: 'random', limit: Math.min(100, n * 3) });
          return res.albums.items.filter((a) => a.total_tracks >= 2).map((a) => a.id);
        }""", args.runs)[: args.runs]
        out["counts"] = page.evaluate("""async () => {
          const cfg = JSON.parse(document.getElementById('musicd-config').textContent);
          const { api } = await import(cfg.static + '/js/api.js');
          const r = await api.get('/v1/library/albums', { limit: 1 });
          const t = await api.get('/v1/library/artists', { limit: 1 });
          return { albums: r.albums.total, artists: t.artists.total };
        }""")
        pages = ["/", "/library/albums", "/library/artists", "/library/tracks", "/search?q=love",
                 f"/album/{albums[0]}"]
        cats = page.evaluate("""async () => {
          const cfg = JSON.parse(document.getElementById('musicd-config').textContent);
          const { api } = await import(cfg.static + '/js/api.js');
          const c = (await api.get('/v1/browse/categories', { limit: 50 })).categories.items;
          const a = (await api.get('/v1/library/artists', { limit: 1 })).artists.items;
          return { genre: c.length ? c[0].id : null, artist: a.length ? a[0].id : null };
        }""")
        pages += [f"/genre/{cats['genre']}"] if cats["genre"] else []
        pages += [f"/artist/{cats['artist']}"] if cats["artist"] else []
        out["pages"] = {path: page.evaluate(PAGE, path) for path in pages}
        # First pass: whatever state the server's tier cache is in (cold for tracks nobody played yet).
        first, nxt, missed = _play_albums(page, albums)
        page.evaluate("() => window.musicd.navigate('/queue')")
        out["vlist"] = page.evaluate(VLIST, {"rows": args.vlist_rows, "steps": 300})
        page.context.close()
        # Second pass, in a fresh browser profile (empty HTTP cache): the same tracks, their tiers now
        # made on the server, as after the background pre-transcode.
        page = _login(browser, base, args.user, args.password, args.quality, errors)
        again, nxt2, missed2 = _play_albums(page, albums)
        browser.close()
    out["first_play_click_to_playing_ms"] = _summary(first)
    out["click_to_playing_ms"] = _summary(again)
    out["prefetched_next_to_playing_ms"] = _summary(nxt + nxt2)
    out["next_not_prefetched"] = missed + missed2
    out["page_errors"] = errors
    out["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
