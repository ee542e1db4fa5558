// This tab as a Jam member device (docs/connect.md, "Jam"): when a `jam_state` lists this tab's device among
// the members, its audio follows the Jam's timeline as a speaker does. It learns the server's clock with
// `time_sync`, plays `track_id` from `server_now - start_at`, and every quarter second compares what its
// <audio> has played with that: a small drift is made up by a playbackRate a few per cent off 1, a large
// one by a seek. Meanwhile the user's own playback state neither drives this tab nor hears from it
// (connect.js holdLocal), and "Add to queue" adds to the Jam's shared queue; leaving the Jam (or its end)
// stops it.

import { api } from "./api.js";
import { holdLocal, thisDevice } from "./connect.js";
import { setSharedQueue } from "./playback.js";
import { player } from "./player.js";
import { realtime } from "./realtime.js";
import { slimTrack } from "./track-shape.js";

const CHECK_MS = 250;
// Further off than this: seek back onto the timeline (a speaker waits for 1 s: it restarts a decoder; a tab
// seeks within what its <audio> has buffered, which is quick).
const SEEK_MS = 300;
const NUDGE_MS = 20; // a browser's currentTime is coarser than a speaker's sample count: below this, leave it
const MAX_RATE = 0.04; // at most 4 % faster or slower (a speaker's limit too)
const CATCH_UP_S = 2; // a drift is made up over about this long
const AHEAD = 5; // the Jam's next tracks loaded behind the current one (gapless, and the queue panel)

let jam = null;
let offset = 0; // the server's clock minus this tab's (ms)
let timer = null;
let loading = false;
// Whether this module paused the player (to wait for a start, or the host's pause). A pause it did not make
// is the user's (the bar, a media key): the tab then stays silent, still a member, until they press play,
// and comes back in step with the timeline.
let ownPause = true;

const pause = () => { ownPause = true; player.pause(); };
const userPaused = () => !player.playing && !ownPause;

/** What this tab follows (for the page and for tests): the Jam, its last measured drift in ms. */
export const jamMember = { get jam() { return jam; }, drift: null, offset: () => offset };

const serverNow = () => Date.now() + offset;

/** The server's clock against ours, from the quickest of a few round trips (as the speaker does). */
async function syncClock() {
  let best = null;
  for (let k = 0; k < 5; k++) {
    const t0 = Date.now();
    const got = await realtime.request("time_sync");
    const t1 = Date.now();
    if (best === null || t1 - t0 < best[0]) best = [t1 - t0, got.server_time - (t0 + t1) / 2];
  }
  offset = best[1];
}

function onJamState(d) {
  const mine = !d.ended && (d.members || []).some((m) => m.device_id === thisDevice());
  if (mine) {
    const joining = jam === null;
    jam = d;
    if (joining) join().catch((e) => console.warn("could not follow the Jam", e));
  } else if (jam && jam.jam_id === d.jam_id) {
    leave();
  }
}

async function join() {
  holdLocal(true);
  setSharedQueue(async (tracks) => {
    for (const t of tracks) await api.post(`/v1/jam/${jam.jam_id}/queue`, undefined, { params: { uri: t.uri } });
  });
  pause();
  await syncClock();
  if (jam === null) return;
  clearInterval(timer);
  timer = setInterval(() => step().catch((e) => console.warn("Jam", e)), CHECK_MS);
}

function leave() {
  jam = null;
  jamMember.drift = null;
  clearInterval(timer);
  timer = null;
  if (player.audio) player.audio.playbackRate = 1;
  pause();
  setSharedQueue(null);
  holdLocal(false);
}

/** The Jam's track (and the next few) into this tab's player, paused at `at` seconds. */
async function load(j, at) {
  loading = true;
  try {
    const ids = [j.track_id, ...(j.queue || []).slice(0, AHEAD)];
    const found = (await api.get("/v1/tracks", { ids: ids.join(",") })).tracks.filter(Boolean);
    if (jam !== j && jam?.track_id !== j.track_id) return;
    const quiet = userPaused();
    player.playTracks(found.map((t) => slimTrack(t)), 0, { at });
    pause();
    ownPause = !quiet;
  } finally {
    loading = false;
  }
}

async function step() {
  const j = jam;
  if (!j || loading) return;
  if (!j.track_id || !j.is_playing) {
    if (player.isPlaying()) pause();
    return;
  }
  const expected = serverNow() - j.start_at; // ms into the track, now, on the timeline
  if (player.current?.track.id !== j.track_id) {
    if (expected > -2000) await load(j, Math.max(0, expected) / 1000);
    return;
  }
  const el = player.audio;
  if (!el || el.paused) {
    jamMember.drift = null;
    // Not started yet: start on time (a start in the future waits for it).
    if (player.playing || userPaused() || expected < -CHECK_MS) return;
    if (expected > 0) player.seek(expected / 1000);
    setTimeout(() => {
      if (jam !== j || userPaused()) return;
      ownPause = false;
      player.resume();
    }, Math.max(0, -expected));
    return;
  }
  if (el.readyState < 3 || el.seeking) return;
  const drift = el.currentTime * 1000 - expected;
  jamMember.drift = Math.round(drift);
  if (Math.abs(drift) > SEEK_MS) {
    el.playbackRate = 1;
    player.seek(Math.max(0, serverNow() - j.start_at) / 1000);
  } else if (Math.abs(drift) > NUDGE_MS) {
    el.playbackRate = 1 - Math.max(-MAX_RATE, Math.min(MAX_RATE, drift / 1000 / CATCH_UP_S));
  } else {
    el.playbackRate = 1;
  }
}

/** Follow the Jams that name this tab's device (after the realtime channel is started). */
export function setupJamMember() {
  realtime.on("jam_state", onJamState);
}
