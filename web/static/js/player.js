// The local playback: this tab's own queue (local-queue.js) played through this tab's audio (audio-output.js),
// with play events for the server and the Media Session API for lock screens and media keys. It is one of
// the two outputs behind the page's playback state (playback.js); the other is a remote device.

import { AudioOutput } from "./audio-output.js";
import { LocalQueue, QUEUE_FIELDS } from "./local-queue.js";
import { warm } from "./media.js";
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
// What the audio output holds, shown as the player's own (player-session.js, episodes.js and tools read them).
const OUTPUT_FIELDS = ["audio", "elements", "volume", "muted", "quality", "playing", "pendingSeek", "offlineSource"];

export { slimTrack };

export class Player extends EventTarget {
  constructor(pool) {
    super();
    this.q = new LocalQueue();
    this.out = new AudioOutput(pool, {
      playing: () => this.onPlaying(),
      state: () => this.emit("state"),
      timeupdate: () => { this.countPlayed(); this.emit("time"); this.updatePosition(); },
      time: () => this.emit("time"),
      seeked: (el) => { if (this.play_) this.play_.lastPos = el.currentTime; },
      ended: () => this.onEnded(),
      fail: (el, err) => this.fail(el, err),
      offline: (on) => { if (this.play_) this.play_.offline = on; },
    });
    this.play_ = null; // play-event bookkeeping of the current entry
    this.restore();
    window.addEventListener("pagehide", () => { this.reportEnd(true); this.save(); });
    this.setupMediaSession();
  }

  // ---- state ----

  get current() {
    return this.q.current;
  }

  get currentTime() {
    return this.out.currentTime;
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
    return this.q.upcoming(n);
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
    this.index = i;
    if (!autoplay && !this.elements.has(entry.uid)) {
      // Shown, not loaded: nothing is fetched until the user presses play (a restored queue, say).
      this.out.unload(at);
      this.play_ = null;
      this.emit("track", entry);
      this.emit("state");
      this.emit("time");
      this.updateMediaSession();
      this.save();
      return;
    }
    const prefetched = this.out.select(entry, { autoplay, at });
    this.play_ = { entry, msPlayed: 0, lastPos: at, started: false, lastReport: 0, prefetched,
      offline: this.audio.dataset.offline === "1" };
    if (autoplay) this.resume();
    this.emit("track", entry);
    this.emit("state");
    this.updateMediaSession();
    this.prefetch();
    this.save();
  }

  /** The audio output started playing the current entry. */
  onPlaying() {
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
    if (!this.audio) {
      if (this.queue.length) {
        performance.mark("musicd:play-click");
        this.startAt(Math.max(0, this.index), { at: this.pendingSeek || 0 });
      }
      return;
    }
    await this.out.resume();
  }

  pause() {
    this.out.pause();
    this.sendEvent("progress");
    this.emit("state");
    this.save();
  }

  toggle() {
    if (this.audio && !this.audio.paused) this.pause();
    else this.resume();
  }

  isPlaying() {
    return this.out.isPlaying();
  }

  // ---- moving through the queue ----

  next({ auto = false } = {}) {
    if (!this.queue.length) return;
    const i = this.q.nextIndex(auto);
    this.reportEnd();
    if (i < 0) {
      this.out.pause();
      this.emit("state");
      return;
    }
    if (!auto || this.repeat !== "track") performance.mark("musicd:play-click");
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
    const t = this.out.seek(seconds, this.duration);
    if (el && this.play_) this.play_.lastPos = t;
    this.emit("time");
    if (el) this.updatePosition();
  }

  seekBy(delta) {
    this.seek(this.currentTime + delta);
  }

  setVolume(v) {
    this.out.setVolume(v);
    this.emit("volume");
    this.save();
  }

  toggleMute() {
    this.out.toggleMute();
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
    this.out.setQuality(q, this.current);
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
    const next = this.upcoming(PREFETCH);
    this.out.keep(this.current ? [this.current, ...next] : next, next);
    warm(this.queue.slice(this.index + 1, this.index + 30).map((e) => e.track.id));
  }

  dropElement(uid) {
    this.out.drop(uid);
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
    this.out.reset();
    this.queue = [];
    this.index = -1;
    forgetSavedPlayer();
  }
}

// The queue's fields and the output's read and written as the player's own.
for (const [part, names] of [["q", QUEUE_FIELDS], ["out", OUTPUT_FIELDS]]) {
  for (const name of names) {
    Object.defineProperty(Player.prototype, name, {
      get() { return this[part][name]; },
      set(v) { this[part][name] = v; },
    });
  }
}

/** The page's one player (module scripts run after the document is parsed, so the pool exists). */
export const player = new Player(document.getElementById("audio-pool") || document.body);
