// This tab's own queue: the entries, which one is current, the context they came from, shuffle (with the
// order before it, to go back to) and repeat. Plain state: editing it is queue-edit.js, playing it is the
// local playback (player.js) through the audio output; playback.js shows it while this tab plays.

export class LocalQueue {
  constructor() {
    this.queue = []; // {uid, track, queued}
    this.index = -1;
    this.context = null; // {uri, name, href}
    this.shuffle = false;
    this.unshuffled = null;
    this.repeat = "off"; // off | context | track
  }

  get current() {
    return this.queue[this.index] || null;
  }

  /** What comes after the current entry, in play order (repeat context wraps around). */
  upcoming(n) {
    if (this.index < 0 || this.repeat === "track") return [];
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

  /** The entry to play after the current one: its index, or -1 when playback stops (the end, no repeat). */
  nextIndex(auto) {
    if (auto && this.repeat === "track") return this.index;
    const i = this.index + 1;
    if (i < this.queue.length) return i;
    return this.repeat !== "context" && auto ? -1 : 0;
  }
}

/** Names of the queue's fields, which the local playback (player.js) shows as its own. */
export const QUEUE_FIELDS = ["queue", "index", "context", "shuffle", "unshuffled", "repeat"];
