// The one playback state the page shows: what is playing, the queue, shuffle, repeat, the position and the
// device playing it. Two outputs sit behind it: this tab's audio (player.js, the local output) and another
// device of the user (remote-output.js, fed by the server's `player_state` through connect.js). The bar,
// the full-screen view, the lyrics and the queue read and drive `playback` only, so while a speaker plays
// they all show and control the speaker.
//
//   playback.addEventListener("track" | "state" | "time" | "queue", ...)
//   playback.track / playing / time / duration / shuffle / repeat / context / entries / index
//   playback.toggle() / next() / seek(s) / jumpTo(i) / move(from, to) / removeAt(i) ...

import { player } from "./player.js";
import { remote, remoteOutput, remoteQueue } from "./remote-output.js";
import { errorText, toast } from "./ui/dom.js";

const REMOTE_TICK_MS = 500; // the remote's position moves on between its states

/** The local output's controls, in the names both outputs share. */
const local = {
  get track() { return player.current?.track || null; },
  get playing() { return Boolean(player.isPlaying() || (player.playing && player.current)); },
  get time() { return player.currentTime; },
  get duration() { return player.duration; },
  get shuffle() { return player.shuffle; },
  get repeat() { return player.repeat; },
  toggle: () => player.toggle(),
  next: () => player.next(),
  previous: () => player.previous(),
  seek: (s) => player.seek(s),
  setShuffle: (on) => player.setShuffle(on),
  cycleRepeat: () => player.cycleRepeat(),
  jumpTo: (i) => player.jumpTo(i),
  move: (from, to) => player.move(from, to),
  removeAt: (i) => player.removeAt(i),
};

let remoteName = null; // the name of the device playing elsewhere; null while this tab is the output
let sharedQueue = null; // while this tab listens in a Jam: adds tracks to its shared queue (jam-member.js)

/** Where "Add to queue" goes while this tab is in a Jam (`add(tracks)`), or null for the usual queue. */
export function setSharedQueue(add) {
  sharedQueue = add;
}

// A refused command (another controller acted first: 409 stale_state) says so; the view follows the new state.
const failed = (e) => {
  console.warn("player command failed", e);
  toast(errorText(e), { error: true });
};

class Playback extends EventTarget {
  /** True while another device plays (this tab is its remote). */
  get remote() { return remoteName !== null; }
  get output() { return this.remote ? remote : local; }
  /** The name of the device playing, when it is not this tab. */
  get deviceName() { return remoteName; }
  get track() { return this.output.track; }
  get playing() { return this.output.playing; }
  get time() { return this.output.time; }
  get duration() { return this.output.duration; }
  get shuffle() { return this.output.shuffle; }
  get repeat() { return this.output.repeat; }
  get context() {
    if (!this.remote) return player.context;
    const uri = remote.state?.context_uri;
    return uri ? { uri } : null;
  }
  /** The queue: [{key, track, queued}] with `index` the current entry (remote: 0, then what comes next). */
  get entries() {
    return this.remote ? remoteQueue() : player.queue.map((e) => ({ key: e.uid, track: e.track, queued: e.queued }));
  }
  get index() { return this.remote ? 0 : player.index; }
  /** Only this tab's own queue can be cleared at once. */
  get clearable() { return !this.remote; }

  run(fn) {
    try {
      const r = fn();
      if (r && typeof r.catch === "function") r.catch(failed);
      return r;
    } catch (e) { failed(e); return null; }
  }

  toggle() { return this.run(() => this.output.toggle()); }
  next() { return this.run(() => this.output.next()); }
  previous() { return this.run(() => this.output.previous()); }
  seek(s) { return this.run(() => this.output.seek(s)); }
  seekBy(d) { return this.seek(Math.max(0, this.time + d)); }
  setShuffle(on) { return this.run(() => this.output.setShuffle(on)); }
  cycleRepeat() { return this.run(() => this.output.cycleRepeat()); }
  jumpTo(i) { return this.run(() => this.output.jumpTo(i)); }
  move(from, to) { return this.run(() => this.output.move(from, to)); }
  removeAt(i) { return this.run(() => this.output.removeAt(i)); }
  clearUpcoming() { if (!this.remote) player.clearUpcoming(); }
  /** Add tracks to the queue of whichever device plays (`next`: right after the current one, locally), or to
   * the shared queue of the Jam this tab listens in. */
  addToQueue(tracks, { next = false } = {}) {
    if (sharedQueue) return this.run(() => sharedQueue(tracks));
    if (this.remote) return this.run(() => remote.addToQueue(tracks));
    return next ? player.playNext(tracks) : player.addToQueue(tracks);
  }
  /** Start playing (or resume) where the state is: a lyrics line clicked, say. */
  play() { if (!this.playing) this.toggle(); }

  emit(...names) { for (const n of names) this.dispatchEvent(new CustomEvent(n)); }
}

export const playback = new Playback();

/** Which output plays (connect.js, on every server state): `name` of the other device, or null for this tab. */
export function setRemote(name) {
  const was = remoteName;
  remoteName = name;
  if ((was === null) !== (name === null)) playback.emit("output", "track", "queue", "state", "time");
  else if (name !== null) playback.emit("state");
}

// Each output's events reach the views while it is the one playing.
for (const n of ["track", "state", "time", "queue"]) {
  player.addEventListener(n, () => { if (!playback.remote) playback.emit(n); });
  remoteOutput.addEventListener(n, () => { if (playback.remote) playback.emit(n); });
}
setInterval(() => { if (playback.remote && playback.playing) playback.emit("time"); }, REMOTE_TICK_MS);
