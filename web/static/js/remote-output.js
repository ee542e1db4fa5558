// The remote output: another device of the user (a tab, a speaker) playing the server-held state. What it
// plays comes from the server's `player_state` (connect.js hands each one over); what it is told goes to
// /v1/me/player with the state version it was made on, so a command made on an outdated view is refused
// (409 stale_state) rather than acting on another item. Queue items are named by their index in
// GET /v1/me/player/queue and their URI (musicd's own queue extension: move, play, remove).

import { api } from "./api.js";
import { slimTrack } from "./track-shape.js";

export const remoteOutput = new EventTarget();

let st = null; // the last player_state this output follows
let track = null; // its track (slim), fetched when the state names another one
let entries = []; // [{key, track, queued}]: the current track, then what comes next (GET …/queue)
let entriesFor = -1; // the state version `entries` were fetched for
let fetching = null;

const emit = (name) => remoteOutput.dispatchEvent(new CustomEvent(name));

/** The state of the device playing elsewhere (a newer `player_state`); refreshes its track and queue. */
export async function followRemote(state) {
  st = state;
  if (track?.id !== st.track_id) {
    const t = await api.get(`/v1/tracks/${st.track_id}`);
    if (st.track_id === t.id) track = slimTrack(t);
    emit("track");
  }
  emit("state");
  emit("time");
  if (entriesFor !== st.state_version) emit("queue"); // who shows it asks for it again (remoteQueue)
}

/** The remote's queue, fetched again when the state has moved on since (the queue panel asks for it). */
export function remoteQueue() {
  if (st && entriesFor !== st.state_version && !fetching) {
    const v = st.state_version;
    fetching = api.get("/v1/me/player/queue").then((q) => {
      entriesFor = v;
      const now = q.currently_playing ? [{ key: `r${v}-now`, track: slimTrack(q.currently_playing), queued: false }] : [];
      const queued = new Set((st?.queue || []).map((id, k) => `${k}:${id}`));
      entries = [...now, ...q.queue.map((t, k) => ({ key: `r${v}-${k}`, track: slimTrack(t), queued: queued.has(`${k}:${t.id}`) }))];
      emit("queue");
    }, (e) => console.warn("could not load the remote queue", e)).finally(() => { fetching = null; });
  }
  return entries;
}

const position = () => {
  if (!st) return 0;
  const ms = st.position_ms + (st.is_playing ? Math.max(0, Date.now() - st.timestamp) : 0);
  return Math.min(ms, st.duration_ms || ms) / 1000;
};

const cmd = (method, path, params = {}) =>
  api[method](`/v1/me/player${path}`, undefined, { params: { ...params, state_version: st?.state_version } });

/** The remote output's controls: the same names as the local player's (playback.js picks one of the two). */
export const remote = {
  get state() { return st; },
  get track() { return track; },
  get playing() { return Boolean(st?.is_playing); },
  get time() { return position(); },
  get duration() { return (st?.duration_ms || 0) / 1000; },
  get shuffle() { return Boolean(st?.shuffle); },
  get repeat() { return st?.repeat || "off"; },
  toggle() { return cmd("put", st?.is_playing ? "/pause" : "/play"); },
  next() { return cmd("post", "/next"); },
  previous() { return cmd("post", "/previous"); },
  seek(s) { return cmd("put", "/seek", { position_ms: Math.round(Math.max(0, s) * 1000) }); },
  setShuffle(on) { return cmd("put", "/shuffle", { state: on }); },
  cycleRepeat() { return cmd("put", "/repeat", { state: { off: "context", context: "track", track: "off" }[this.repeat] }); },
  // Queue indexes are those of `remoteQueue()` (0 is the current track; GET …/queue counts from 1 of ours).
  jumpTo(i) { return i > 0 && cmd("put", "/queue/play", { index: i - 1, uri: entries[i].track.uri }); },
  move(from, to) {
    if (from < 1 || to < 1 || from === to) return null;
    return cmd("put", "/queue/move", { index: from - 1, uri: entries[from].track.uri, to: to - 1 });
  },
  /** Queue `tracks` on the remote (after what is queued already: the server's play-next queue). */
  async addToQueue(tracks) {
    for (const t of tracks) await api.post("/v1/me/player/queue", undefined, { params: { uri: t.uri } });
  },
  removeAt(i) { return i > 0 && cmd("del", "/queue", { index: i - 1, uri: entries[i].track.uri }); },
};
