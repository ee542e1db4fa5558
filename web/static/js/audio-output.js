// The local output: this tab's audio. One <audio> element per queue entry, the next ones already loading
// ("prefetch") so a track change only swaps elements (gapless as far as the browser allows); a download
// kept offline plays from this browser's storage, decrypted in memory (js/offline). It knows nothing of
// the queue: the local playback (player.js) tells it which entry plays and which come next, and hears
// from it through `hooks` (playing, time, ended, failed, ...).

import { streamUrl, token, tokenNow } from "./media.js";

export class AudioOutput {
  /** `pool`: a hidden element holding the <audio> elements (so tests and tools can find them). */
  constructor(pool, hooks) {
    this.pool = pool;
    this.hooks = hooks; // {playing(el), state(), timeupdate(), time(), seeked(el), ended(), fail(el, err), offline(on)}
    this.elements = new Map(); // uid -> <audio>
    this.audio = null; // the element of the entry playing
    this.pendingSeek = null; // where to start once the element (or its URL) exists
    this.playing = false; // meant to play (the element may still be loading)
    this.volume = 1;
    this.muted = false;
    this.quality = ""; // "" = the user's default
    this.offlineSource = null; // set by js/offline: a track id -> a blob URL of its download, or null
  }

  get currentTime() {
    return this.audio ? this.audio.currentTime : this.pendingSeek || 0;
  }

  isPlaying() {
    return Boolean(this.audio && !this.audio.paused && !this.audio.ended);
  }

  /** Make `entry` the one playing (its element, prefetched or new) from `at` s; `resume()` starts it.
   * Returns whether it was loaded already. */
  select(entry, { autoplay, at }) {
    const previous = this.audio;
    let el = this.elements.get(entry.uid);
    const prefetched = Boolean(el && el.readyState >= 2);
    if (!el) el = this.element(entry);
    if (previous && previous !== el) previous.pause();
    this.audio = el;
    el.volume = this.volume;
    el.muted = this.muted;
    if (el.dataset.src) {
      this.pendingSeek = null;
      if (el.currentTime !== at) {
        try { el.currentTime = at; } catch { /* not seekable yet; applied on loadedmetadata */ }
      }
    } else {
      this.pendingSeek = at; // applied when its URL is known
    }
    this.playing = autoplay;
    return prefetched;
  }

  /** Show `entry` without loading it (a restored queue): nothing is fetched until play. */
  unload(at) {
    this.audio?.pause();
    this.audio = null;
    this.pendingSeek = at;
    this.playing = false;
  }

  /** One <audio> per queue entry; its URL needs the track's stream token (usually known already). */
  element(entry) {
    const el = document.createElement("audio");
    el.preload = "auto";
    el.dataset.uid = entry.uid;
    el.dataset.trackId = entry.track.id;
    const attach = (url, offline = false) => {
      if (!el.isConnected && !this.elements.has(entry.uid)) return;
      el.src = url;
      el.dataset.src = "1";
      el.dataset.offline = offline ? "1" : "";
      if (el === this.audio) this.hooks.offline?.(offline);
      if (this.pendingSeek && el === this.audio) {
        const at = this.pendingSeek;
        this.pendingSeek = null;
        el.addEventListener("loadedmetadata", () => { el.currentTime = at; }, { once: true });
      }
      if (el === this.audio && this.playing) this.resume();
    };
    const mine = () => el === this.audio;
    const on = {
      playing: () => mine() && this.hooks.playing(el),
      pause: () => mine() && this.hooks.state(),
      waiting: () => mine() && this.hooks.state(),
      timeupdate: () => mine() && this.hooks.timeupdate(),
      durationchange: () => mine() && this.hooks.time(),
      seeked: () => { if (mine()) this.hooks.seeked(el); this.hooks.time(); },
      ended: () => mine() && this.hooks.ended(),
      error: () => this.hooks.fail(el, el.error),
    };
    for (const [name, fn] of Object.entries(on)) el.addEventListener(name, fn);
    this.elements.set(entry.uid, el);
    this.pool.append(el);
    const stream = () => {
      const st = tokenNow(entry.track.id);
      const url = (t) => streamUrl(entry.track.id, t, this.quality);
      if (st) attach(url(st));
      else token(entry.track.id).then((t) => attach(url(t)), (e) => this.hooks.fail(el, e));
    };
    if (this.offlineSource) this.offlineSource(entry.track.id).then((u) => (u ? attach(u, true) : stream()), (e) => this.hooks.fail(el, e));
    else stream();
    return el;
  }

  /** Start (or go on with) the element playing; false when the browser wants a click first. */
  async resume() {
    const el = this.audio;
    this.playing = true;
    if (!el || !el.dataset.src) return true; // plays as soon as its URL is known
    try {
      await el.play();
    } catch (e) {
      if (e.name === "AbortError") return true; // replaced by another play() or a new source
      if (e.name === "NotAllowedError") {
        this.playing = false; // the browser wants a click first
        this.hooks.state();
        return false;
      }
      console.warn("play() failed", e);
    }
    return true;
  }

  pause() {
    this.playing = false;
    this.audio?.pause();
  }

  /** Seek the element playing to `t` s (clamped to `duration`), now or once its metadata is known. */
  seek(t, duration) {
    const el = this.audio;
    if (!el) {
      this.pendingSeek = Math.max(0, t);
      return this.pendingSeek;
    }
    const to = Math.max(0, Math.min(duration || t, t));
    if (el.readyState >= 1) el.currentTime = to;
    else el.addEventListener("loadedmetadata", () => { el.currentTime = to; }, { once: true });
    return to;
  }

  setVolume(v) {
    this.volume = Math.max(0, Math.min(1, v));
    if (this.volume > 0) this.muted = false;
    for (const el of this.elements.values()) { el.volume = this.volume; el.muted = this.muted; }
  }

  toggleMute() {
    this.muted = !this.muted;
    for (const el of this.elements.values()) el.muted = this.muted;
  }

  /** Another quality: prefetched elements are dropped; the one playing reloads where it was. */
  setQuality(q, current) {
    this.quality = q;
    for (const uid of [...this.elements.keys()]) if (uid !== current?.uid) this.drop(uid);
    const el = this.audio;
    if (el && el.dataset.src && !el.dataset.offline && current) {
      const at = el.currentTime;
      const wasPlaying = !el.paused;
      const st = tokenNow(current.track.id);
      if (st) {
        el.src = streamUrl(current.track.id, st, q);
        el.addEventListener("loadedmetadata", () => { el.currentTime = at; }, { once: true });
        if (wasPlaying) this.resume();
      }
    }
  }

  /** Keep the elements of `kept` (the current entry and the next few), drop the rest, load `load`'s. */
  keep(kept, load) {
    const want = new Set(kept.map((e) => e.uid));
    for (const uid of [...this.elements.keys()]) if (!want.has(uid)) this.drop(uid);
    for (const e of load) if (!this.elements.has(e.uid)) this.element(e);
  }

  drop(uid) {
    const el = this.elements.get(uid);
    if (!el) return;
    this.elements.delete(uid);
    if (el === this.audio) return;
    el.pause();
    el.removeAttribute("src");
    el.load(); // frees the media resource and its connection
    el.remove();
  }

  /** Silence and free everything (logout). */
  reset() {
    for (const uid of [...this.elements.keys()]) this.drop(uid);
    if (this.audio) { this.audio.pause(); this.audio.removeAttribute("src"); this.audio.load(); this.audio.remove(); }
    this.audio = null;
  }
}
