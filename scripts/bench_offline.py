#!/usr/bin/env python3
"""Offline listening: container encryption and decryption throughput on one core, in Python (the server's
`cryptography`) and in headless Chromium (WebCrypto, the web player's own js/offline/crypto.js), and the time
from a seek to audio for an offline track in the web player with the network cut. Prints one JSON object.

    .venv/bin/python scripts/bench_offline.py [--mib 32] [--seeks 20]

Python: one thread seals and opens a `--mib` MiB random file as a container (64 KiB segments), whole and as
random 4 KiB reads (each decrypting only its segment). Browser: the page decrypts that same container (made
by Python: an interoperability check too) with decryptAll, and encrypts the same plaintext segment by segment
with WebCrypto. Seek: a test server and library, a user whose album is marked for offline in the web player;
once downloaded the network is cut, the player plays a track from IndexedDB, and each of `--seeks` random seeks
is timed from setting currentTime to the <audio> `seeked` event and to the playhead moving past the target
(polled every frame: audio playing again). Target: p95 seek-to-audio <= 50 ms. Needs `playwright` and
Debian's `chromium`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from musicd.devtools.library_builder import build_test_library
from musicd.services.offline_container import DEFAULT_SEGMENT, Header, Opener, Sealer, decrypt, encrypt
from tests.live import start_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--autoplay-policy=no-user-gesture-required"]

# Decrypts the container at /bench.bin with the page's own crypto module, and encrypts its plaintext again.
BROWSER_CRYPTO = """async ([keyB64, moduleUrl, rounds]) => {
  const c = await import(moduleUrl);
  const data = new Uint8Array(await (await fetch('/bench.bin')).arrayBuffer());
  const key = await c.importDeviceKey(c.b64d(keyB64));
  let plain = null;
  const dec = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    plain = await c.decryptAll(key, data);
    dec.push(performance.now() - t0);
  }
  const h = c.parseHeader(data);
  const raw = await crypto.subtle.importKey('raw', c.b64d(keyB64), 'HKDF', false, ['deriveKey']);
  const fk = await crypto.subtle.deriveKey({name: 'HKDF', hash: 'SHA-256', salt: h.salt,
      info: new TextEncoder().encode('musicd offline file key v1')}, raw, {name: 'AES-GCM', length: 256}, false,
      ['encrypt']);
  const enc = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    for (let i = 0; i < plain.length; i++) {
      const iv = new Uint8Array(12); iv.set(h.prefix); new DataView(iv.buffer).setUint32(8, i);
      const aad = new Uint8Array(53); aad.set(h.header); new DataView(aad.buffer).setUint32(48, i);
      aad[52] = i === plain.length - 1 ? 1 : 0;
      await crypto.subtle.encrypt({name: 'AES-GCM', iv, additionalData: aad}, fk, plain[i]);
    }
    enc.push(performance.now() - t0);
  }
  return {dec, enc, bytes: h.size};
}"""

# One seek: from setting currentTime to `seeked`, and to the playhead moving past the target (polled every frame).
SEEK = """async (target) => {
  const a = window.musicd.player.audio;
  return await new Promise((resolve) => {
    const t0 = performance.now();
    let seeked = null;
    a.addEventListener('seeked', () => { seeked = performance.now() - t0; }, {once: true});
    const poll = () => {
      if (seeked !== null && !a.paused && a.currentTime > target + 0.001) {
        resolve({seeked, audio: performance.now() - t0});
      } else if (performance.now() - t0 > 5000) {
        resolve({seeked, audio: null});
      } else {
        requestAnimationFrame(poll);
      }
    };
    a.currentTime = target;
    requestAnimationFrame(poll);
  });
}"""


def _mbps(nbytes: int, seconds: float) -> float:
    return round(nbytes / seconds / 1e6, 1)


def python_crypto(mib: int, rounds: int = 3) -> dict[str, Any]:
    """Best of `rounds` (the box is shared: the best run is the closest to what one free core does)."""
    key = secrets.token_bytes(32)
    plain = random.Random(1).randbytes(mib * 1024 * 1024)
    enc, dec, seal, serve = [], [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        data = encrypt(key, plain)
        enc.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert decrypt(key, data) == plain
        dec.append(time.perf_counter() - t0)
        # The AES-GCM work alone: every segment sealed from a view of the plaintext, nothing assembled.
        sealer, view = Sealer(key, Header.unpack(data)), memoryview(plain)
        t0 = time.perf_counter()
        for i in range(sealer.count):
            sealer.seal(i, view[i * DEFAULT_SEGMENT : (i + 1) * DEFAULT_SEGMENT])
        seal.append(time.perf_counter() - t0)
        # What the download route does: the container produced in 1 MiB ranges (16 segments each).
        step, t0 = 16 * (DEFAULT_SEGMENT + 16), time.perf_counter()
        for first in range(0, len(data), step):
            sealer.byte_range(first, min(len(data), first + step) - 1, lambda off, n, v=view: v[off : off + n])
        serve.append(time.perf_counter() - t0)
    opener = Opener(key, Header.unpack(data))
    rng = random.Random(2)
    reads = []
    for _ in range(2000):
        off = rng.randrange(0, len(plain) - 4096)
        t0 = time.perf_counter()
        opener.read(data, off, 4096)
        reads.append((time.perf_counter() - t0) * 1e6)
    return {"container": data, "key": key, "result": {
        "mib": mib, "segment_bytes": DEFAULT_SEGMENT, "encrypt_mb_s": _mbps(len(plain), min(enc)),
        "decrypt_mb_s": _mbps(len(plain), min(dec)), "aes_gcm_segments_only_mb_s": _mbps(len(plain), min(seal)),
        "served_in_1mib_ranges_mb_s": _mbps(len(plain), min(serve)),
        "random_4k_read_us_p50": round(statistics.median(reads), 1),
        "random_4k_read_us_p95": round(statistics.quantiles(reads, n=20)[18], 1)}}


def _chromium() -> str:
    exe = os.environ.get("MUSICD_CHROMIUM", "/usr/bin/chromium")
    found = exe if Path(exe).exists() else shutil.which("chromium")
    if not found:
        raise SystemExit("chromium is not installed")
    return found


def browser_run(work: Path, container: bytes, key: bytes, seeks: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from musicd.services.offline_keys import b64e

    lib = build_test_library(work / "Music", cache_dir=work / "templates")
    cm = start_server(work / "srv", lib.root, MUSICD_TRANSCODE_PRE_TRANSCODE="false")
    server = cm.__enter__()
    try:
        name, password = "bench" + secrets.token_hex(3), "bench-password-1"
        admin = server.headers("admin")
        httpx.post(f"{server.base}/v1/admin/users", headers=admin,
                   json={"username": name, "password": password, "role": "user"}).raise_for_status()
        with httpx.Client(base_url=server.base, headers=admin, timeout=30) as http:
            albums = http.get("/v1/browse/new-releases", params={"limit": 50}).json()["albums"]["items"]
            best = max(albums, key=lambda a: (
                max(t["duration_ms"] for t in http.get(f"/v1/albums/{a['id']}/tracks").json()["items"])))
        out: dict[str, Any] = {}
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
            page = b.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(60_000)
            page.goto(server.base + "/login")
            page.get_by_label("Username or e-mail").fill(name)
            page.get_by_label("Password").fill(password)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_selector("body.ready")
            # WebCrypto throughput on the container Python made.
            page.route("**/bench.bin", lambda r: r.fulfill(body=container, content_type="application/octet-stream"))
            module = page.evaluate("document.querySelector('link[rel=modulepreload]').href"
                                   ".replace('/js/app.js', '/js/offline/crypto.js')")
            got = page.evaluate(BROWSER_CRYPTO, [b64e(key), module, 3])
            out["browser_crypto"] = {"decrypt_mb_s": _mbps(got["bytes"], min(got["dec"]) / 1000),
                                     "encrypt_mb_s": _mbps(got["bytes"], min(got["enc"]) / 1000)}
            # An album offline, the network cut, a track played from IndexedDB, seeks timed.
            page.goto(f"{server.base}/album/{best['id']}")
            toggle = page.locator("[data-offline-toggle=album]")
            toggle.click()
            page.wait_for_function("(b) => b.getAttribute('aria-pressed') === 'true'", arg=toggle.element_handle())
            page.goto(server.base + "/offline")
            page.wait_for_function("() => document.querySelectorAll('#offline-tracks li').length > 0 && "
                                   "[...document.querySelectorAll('#offline-tracks li')].every("
                                   "li => li.dataset.complete === '1')")
            page.context.set_offline(True)
            rows = page.locator("#offline-tracks li[data-complete='1']")
            lengths = page.evaluate("() => [...document.querySelectorAll('#offline-tracks .col-duration')]"
                                    ".map(e => e.textContent.split(':').reduce((m, s) => m * 60 + Number(s), 0))")
            longest = lengths.index(max(lengths))
            rows.nth(longest).locator(".offline-play").click()
            page.wait_for_function("() => { const a = window.musicd.player.audio; return a && !a.paused && "
                                   "a.currentTime > 0.05 && a.src.startsWith('blob:'); }")
            # The player's own measure: play() called -> <audio> `playing` (IndexedDB read + decryption included).
            out["offline_play_to_audio_ms"] = round(page.evaluate("window.musicd.player.lastStartMs"), 1)
            # Of which: reading the container from IndexedDB and decrypting it (a fresh object URL each time).
            out["offline_read_and_decrypt_ms"] = page.evaluate("""async () => {
              const o = window.musicdOffline, id = window.musicd.player.current.track.id, times = [];
              for (let i = 0; i < 5; i++) {
                o.urls.delete(id);
                const t0 = performance.now();
                await o.source(id);
                times.push(performance.now() - t0);
              }
              return Math.round(Math.min(...times) * 10) / 10;
            }""")
            duration = page.evaluate("window.musicd.player.audio.duration")
            rng = random.Random(3)
            seeked, audio = [], []
            for _ in range(seeks):
                r = page.evaluate(SEEK, rng.uniform(0.05, max(0.1, duration - 1.0)))
                if r["seeked"] is not None:
                    seeked.append(r["seeked"])
                if r["audio"] is not None:
                    audio.append(r["audio"])
            out["seek"] = {"track_seconds": round(duration, 1), "seeks": seeks,
                           "seeked_ms_p50": round(statistics.median(seeked), 1),
                           "seek_to_audio_ms_p50": round(statistics.median(audio), 1),
                           "seek_to_audio_ms_p95": round(statistics.quantiles(audio, n=20)[18], 1),
                           "seek_to_audio_ms_max": round(max(audio), 1), "target_ms": 50}
            b.close()
        return out
    finally:
        cm.__exit__(None, None, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mib", type=int, default=32)
    ap.add_argument("--seeks", type=int, default=20)
    args = ap.parse_args()
    py = python_crypto(args.mib)
    out: dict[str, Any] = {"cpus": os.cpu_count(), "python_crypto": py["result"]}
    with tempfile.TemporaryDirectory(prefix="bench-offline-") as tmp:
        out |= browser_run(Path(tmp), py["container"], py["key"], args.seeks)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
