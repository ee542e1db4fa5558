// The audio engine: a queue with shuffle and repeat, one <audio> element per track, the next two
// already loading ("prefetch") so a track change only swaps elements, play events for the server,
// and the Media Session API for lock screens and media keys.

import { streamUrl, token, tokenNow, warm } from "./media.js";
import { slimTrack } from "./track-shape.js";
import {
  addToQueue, appendContext, clearUpcoming, move, newUid, playNext, removeAt, setShuffle, shuffled,
} from "./queue-edit.js";
import {
  countPlayed, forgetSavedPlayer, reportEnd, restorePlayer, savePlayer, sendPlayEvent, setupMediaSession,
  updateMediaSession, updatePosition,
} from "./player-session.js";

const PREFETCH = 2;
const PROGRESS_EVERY_MS = 30000;
const RESTART_AFTER_S = 3;
const MAX_SKIPS = 3;

export { slimTrack };

export class Player extends EventTarget {
  constructor(pool) {
    super();
    this.pool = pool; // a hidden element holding the <audio> elements (so tests and tools can find them)
    this.queue = []; // {uid, track, queued}
    this.index = -1;
    this.context = null; // {uri, name, href}
    this.shuffle = false;
    this.unshuffled = null;
    this.repeat = "off"; // off | context | track
    this.volume = 1;
    this.muted = false;
    this.quality = ""; // "" = the user's default
    this.elements = new Map(); // uid -> <audio>
    this.audio = null;
    this.playing = false;
    this.play_ = null; // play-event bookkeeping of the current entry
    this.pendingSeek = null;
    this.restore();
    window.addEventListener("pagehide", () => { this.reportEnd(true); this.save(); });
    this.setupMediaSession();
  }

  // ---- state ----

  get current() {
    return this.queue[this.index] || null;
  }

  get currentTime() {
    return this.audio ? this.audio.currentTime : this.pendingSeek || 0;
  }

  get duration() {
    const d = this.audio?.duration;
    if (Number.isFinite(d) && d > 0) return d;
    return (this.current?.track.duration_ms || 0) / 1000;
  }

  emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  /** What comes after the current entry, in play order (repeat context wraps around). */
  upcoming(n = PREFETCH) {
    if (this.index < 0) return [];
    if (this.repeat === "track") return [];
    const out = [];
    for (let k = 1; k <= n && k < this.queue.length + 1; k++) {
      let i = this.index + k;
      if (i >= this.queue.length) {
        if (this.repeat !== "context") break;
        i %= this.queue.length;
      }
      if (i === this.index) break;
      out.push(this.queue[i]);
    }
    return out;
  }

  // ---- starting playback ----

  /**
   * Play `tracks` (a context: an album, a playlist, search results) from `index`. `more` is an
   * optional async function returning the tracks that follow the given ones (big lists load lazily).
   */
  playTracks(tracks, index = 0, { context = null, more = null, at = 0 } = {}) {
    performance.mark("musicd:play-click");
    this.reportEnd();
    let entries = tracks.map((t) => ({ uid: newUid(), track: t, queued: false }));
    this.context = context;
    this.unshuffled = null;
    if (this.shuffle && entries.length > 1) {
      const first = entries[index];
      this.unshuffled = entries.slice();
      entries = [first, ...shuffled(entries.filter((e) => e !== first))];
      index = 0;
    }
    this.queue = entries;
    this.startAt(index, { at });
    this.emit("queue");
    if (more) {
      more().then((extra) => {
        if (this.queue !== entries && !this.queue.includes(entries[0])) return;
        const add = extra.map((t) => ({ uid: newUid(), track: t, queued: false }));
        if (this.unshuffled) this.unshuffled.push(...add);
        this.queue.push(...(this.shuffle ? shuffled(add) : add));
        this.emit("queue");
        this.prefetch();
      }, (e) => console.warn("could not load the rest of the list", e));
    }
  }

  /** Start the entry at `i` from the beginning (`autoplay` false: load it paused, as after a reload). */
  startAt(i, { autoplay = true, at = 0 } = {}) {
    if (i < 0 || i >= this.queue.length) return;
    const entry = this.queue[i];
    const previous = this.audio;
    this.index = i;
    if (!autoplay && !this.elements.has(entry.uid)) {
      // Shown, not loaded: nothing is fetched until the user presses play (a restored queue, say).
      previous?.pause();
      this.audio = null;
      this.pendingSeek = at;
      this.playing = false;
      this.play_ = null;
      this.emit("track", entry);
      this.emit("state");
      this.emit("time");
      this.updateMediaSession();
      this.save();
      return;
    }
    let el = this.elements.get(entry.uid);
    const prefetched = Boolean(el && el.readyState >= 2);
    if (!el) el = this.makeElement(entry);
    if (previous && previous !== el) previous.pause();
    this.audio = el;
    el.volume = this.volume;
    el.muted = this.muted;
    this.play_ = { entry, msPlayed: 0, lastPos: at, started: false, lastReport: 0, prefetched,
      offline: el.dataset.offline === "1" };
    if (el.dataset.src) {
      this.pendingSeek = null;
      if (el.currentTime !== at) {
        try { el.currentTime = at; } catch { /* not seekable yet; applied on loadedmetadata */ }
      }
    } else {
      this.pendingSeek = at; // applied when its URL is known (makeElement)
    }
    this.playing = autoplay;
    if (autoplay) this.resume();
    this.emit("track", entry);
    this.emit("state");
    this.updateMediaSession();
    this.prefetch();
    this.save();
  }

  /** One <audio> per queue entry; its URL needs the track's stream token (usually known already). */
  makeElement(entry) {
    const el = document.createElement("audio");
    el.preload = "auto";
    el.dataset.uid = entry.uid;
    el.dataset.trackId = entry.track.id;
    const attach = (url, offline = false) => {
      if (!el.isConnected && !this.elements.has(entry.uid)) return;
      el.src = url;
      el.dataset.src = "1";
      el.dataset.offline = offline ? "1" : "";
      if (el === this.audio && this.play_) this.play_.offline = offline;
      if (this.pendingSeek && el === this.audio) {
        const at = this.pendingSeek;
        this.pendingSeek = null;
        el.addEventListener("loadedmetadata", () => { el.currentTime = at; }, { once: true });
      }
      if (el === this.audio && this.playing) this.resume();
    };
    for (const [name, fn] of Object.entries(this.listeners(el))) el.addEventListener(name, fn);
    this.elements.set(entry.uid, el);
    this.pool.append(el);
    const stream = () => {
      const st = tokenNow(entry.track.id);
      const url = (t) => streamUrl(entry.track.id, t, this.quality);
      if (st) attach(url(st));
      else token(entry.track.id).then((t) => attach(url(t)), (e) => this.fail(el, e));
    };
    // A track downloaded for offline plays from this browser's storage (js/offline), decrypted in memory.
    if (this.offlineSource) this.offlineSource(entry.track.id).then((u) => (u ? attach(u, true) : stream()), (e) => this.fail(el, e));
    else stream();
    return el;
  }

  listeners(el) {
    const mine = () => el === this.audio;
    return {
      playing: () => {
        if (!mine()) return;
        performance.mark("musicd:playing");
        try {
          const m = performance.measure("musicd:click-to-playing", "musicd:play-click", "musicd:playing");
          this.lastStartMs = m.duration;
          this.lastStartPrefetched = this.play_?.prefetched ?? false;
        } catch { /* no click mark (media keys, restored queue) */ }
        performance.clearMarks("musicd:play-click");
        this.failures = 0;
        if (this.play_ && !this.play_.started) {
          this.play_.started = true;
          this.sendEvent("start");
        }
        this.emit("state");
      },
      pause: () => mine() && this.emit("state"),
      timeupdate: () => {
        if (!mine()) return;
        this.countPlayed();
        this.emit("time");
        this.updatePosition();
      },
      durationchange: () => mine() && this.emit("time"),
      seeked: () => { if (mine() && this.play_) this.play_.lastPos = el.currentTime; this.emit("time"); },
      ended: () => mine() && this.onEnded(),
      error: () => this.fail(el, el.error),
      waiting: () => mine() && this.emit("state"),
    };
  }

  fail(el, err) {
    if (el !== this.audio) {
      // A prefetch failed: drop it, it is retried when its turn comes.
      this.dropElement(el.dataset.uid);
      return;
    }
    console.warn("playback failed", err);
    this.emit("error", { track: this.current?.track, error: err });
    // Skip what cannot be played, as long as something else still can (a few failures in a row stop it).
    this.failures = (this.failures || 0) + 1;
    if (this.failures < MAX_SKIPS && this.upcoming(1).length) {
      this.next({ auto: true });
      return;
    }
    this.playing = false;
    this.emit("state");
  }

  async resume() {
    const el = this.audio;
    if (!el) {
      if (this.queue.length) {
        performance.mark("musicd:play-click");
        this.startAt(Math.max(0, this.index), { at: this.pendingSeek || 0 });
      }
      return;
    }
    this.playing = true;
    if (!el.dataset.src) return; // plays as soon as its URL is known
    try {
      await el.play();
    } catch (e) {
      if (e.name === "AbortError") return; // replaced by another play() or a new source
      if (e.name === "NotAllowedError") {
        this.playing = false; // the browser wants a click first
        this.emit("state");
        return;
      }
      console.warn("play() failed", e);
    }
  }

  pause() {
    this.playing = false;
    this.audio?.pause();
    this.sendEvent("progress");
    this.emit("state");
    this.save();
  }

  toggle() {
    if (this.audio && !this.audio.paused) this.pause();
    else this.resume();
  }

  isPlaying() {
    return Boolean(this.audio && !this.audio.paused && !this.audio.ended);
  }

  // ---- moving through the queue ----

  next({ auto = false } = {}) {
    if (!this.queue.length) return;
    if (auto && this.repeat === "track") {
      this.reportEnd();
      this.startAt(this.index);
      return;
    }
    let i = this.index + 1;
    if (i >= this.queue.length) {
      if (this.repeat !== "context" && auto) {
        this.reportEnd();
        this.playing = false;
        this.audio?.pause();
        this.emit("state");
        return;
      }
      i = 0;
    }
    this.reportEnd();
    performance.mark("musicd:play-click");
    this.startAt(i);
  }

  previous() {
    if (!this.queue.length) return;
    if (this.currentTime > RESTART_AFTER_S || this.index === 0) {
      this.seek(0);
      if (!this.isPlaying()) this.resume();
      return;
    }
    this.reportEnd();
    performance.mark("musicd:play-click");
    this.startAt(this.index - 1);
  }

  onEnded() {
    const t = this.current?.track;
    if (t?.kind === "episode") this.emit("ended-episode", t);
    this.next({ auto: true });
  }

  seek(seconds) {
    const el = this.audio;
    if (!el) {
      this.pendingSeek = Math.max(0, seconds);
      this.emit("time");
      return;
    }
    const d = this.duration;
    const t = Math.max(0, Math.min(d || seconds, seconds));
    if (this.play_) this.play_.lastPos = t;
    if (el.readyState >= 1) el.currentTime = t;
    else el.addEventListener("loadedmetadata", () => { el.currentTime = t; }, { once: true });
    this.emit("time");
    this.updatePosition();
  }

  seekBy(delta) {
    this.seek(this.currentTime + delta);
  }

  setVolume(v) {
    this.volume = Math.max(0, Math.min(1, v));
    if (this.volume > 0) this.muted = false;
    for (const el of this.elements.values()) { el.volume = this.volume; el.muted = this.muted; }
    this.emit("volume");
    this.save();
  }

  toggleMute() {
    this.muted = !this.muted;
    for (const el of this.elements.values()) el.muted = this.muted;
    this.emit("volume");
    this.save();
  }

  setShuffle(on) { setShuffle(this, on); }

  cycleRepeat() {
    this.repeat = { off: "context", context: "track", track: "off" }[this.repeat];
    this.emit("state");
    this.prefetch();
    this.save();
  }

  setQuality(q) {
    this.quality = q;
    // Prefetched elements carry the old quality: drop them; the current track reloads where it was.
    const keep = this.current?.uid;
    for (const uid of [...this.elements.keys()]) if (uid !== keep) this.dropElement(uid);
    const el = this.audio;
    if (el && el.dataset.src && !el.dataset.offline && this.current) {
      const at = el.currentTime;
      const wasPlaying = !el.paused;
      const st = tokenNow(this.current.track.id);
      if (st) {
        el.src = streamUrl(this.current.track.id, st, q);
        el.addEventListener("loadedmetadata", () => { el.currentTime = at; }, { once: true });
        if (wasPlaying) this.resume();
      }
    }
    this.prefetch();
    this.save();
  }

  // ---- the queue (queue-edit.js) ----

  /** Insert tracks right after the current one. */
  playNext(tracks) { playNext(this, tracks); }

  /** Append tracks after what was queued by hand, before the rest of the context. */
  addToQueue(tracks) { addToQueue(this, tracks); }

  /** Append tracks at the end of the context (a radio station's next tracks, from the server). */
  appendContext(tracks) { appendContext(this, tracks); }

  /** Move the queue entry at `from` to `to` (indexes in the queue). */
  move(from, to) { move(this, from, to); }

  removeAt(i) { removeAt(this, i); }

  /** Remove everything after the current track. */
  clearUpcoming() { clearUpcoming(this); }

  jumpTo(i) {
    this.reportEnd();
    performance.mark("musicd:play-click");
    this.startAt(i);
  }

  // ---- prefetch ----

  /** Keep elements for the current entry and the next PREFETCH ones loading; drop the rest. */
  prefetch() {
    const want = new Set();
    if (this.current) want.add(this.current.uid);
    const next = this.upcoming(PREFETCH);
    for (const e of next) want.add(e.uid);
    for (const uid of [...this.elements.keys()]) if (!want.has(uid)) this.dropElement(uid);
    warm(this.queue.slice(this.index + 1, this.index + 30).map((e) => e.track.id));
    for (const e of next) {
      if (!this.elements.has(e.uid)) this.makeElement(e);
    }
  }

  dropElement(uid) {
    const el = this.elements.get(uid);
    if (!el) return;
    this.elements.delete(uid);
    if (el === this.audio) return;
    el.pause();
    el.removeAttribute("src");
    el.load(); // frees the media resource and its connection
    el.remove();
  }

  // ---- play events (player-session.js) ----

  countPlayed() { countPlayed(this, PROGRESS_EVERY_MS); }

  sendEvent(kind, opts = {}) { sendPlayEvent(this, kind, opts); }

  /** The current play is over (skipped, ended, replaced, or the page is closing). */
  reportEnd(beacon = false) { reportEnd(this, beacon); }


  // ---- Media Session and saved state (player-session.js) ----

  setupMediaSession() { setupMediaSession(this); }

  updateMediaSession() { updateMediaSession(this); }

  updatePosition() { updatePosition(this); }


  save() { savePlayer(this); }

  restore() { restorePlayer(this, newUid); }


  /** After start-up: load the saved current track, paused where it was. */
  loadRestored() {
    if (this.queue.length && this.index < 0) this.startAt(this.restoredIndex, { autoplay: false, at: this.restoredTime });
  }

  /** Forget everything (logout). */
  reset() {
    this.reportEnd();
    for (const uid of [...this.elements.keys()]) this.dropElement(uid);
    if (this.audio) { this.audio.pause(); this.audio.removeAttribute("src"); this.audio.load(); this.audio.remove(); }
    this.audio = null;
    this.queue = [];
    this.index = -1;
    forgetSavedPlayer();
  }
}

/** The page's one player (module scripts run after the document is parsed, so the pool exists). */
export const player = new Player(document.getElementById("audio-pool") || document.body);
