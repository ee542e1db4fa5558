// The player's ties to the outside: play events for the server, the Media Session API (lock screen,
// media keys) and the saved state (queue, position, volume, shuffle, repeat, quality) that survives a reload.

import { api } from "./api.js";
import { signImage } from "./media.js";
import { canEdit } from "./state.js";

const SAVE_KEY = "musicd.player";
const MAX_SAVED = 1000;

export function forgetSavedPlayer() {
  localStorage.removeItem(SAVE_KEY);
}

/** Lock-screen and media-key controls drive the player. */
export function setupMediaSession(player) {
  const ms = navigator.mediaSession;
  if (!ms) return;
  const handlers = {
    play: () => player.resume(),
    pause: () => player.pause(),
    previoustrack: () => player.previous(),
    nexttrack: () => player.next(),
    seekbackward: (d) => player.seekBy(-(d.seekOffset || 10)),
    seekforward: (d) => player.seekBy(d.seekOffset || 10),
    seekto: (d) => player.seek(d.seekTime),
    stop: () => player.pause(),
  };
  for (const [action, fn] of Object.entries(handlers)) {
    try { ms.setActionHandler(action, fn); } catch { /* not supported by this browser */ }
  }
  player.addEventListener("state", () => {
    ms.playbackState = player.current ? (player.isPlaying() || player.playing ? "playing" : "paused") : "none";
  });
}

/** Title, artists, album and artwork of the current track for the lock screen. */
export async function updateMediaSession(player) {
  const ms = navigator.mediaSession;
  const t = player.current?.track;
  if (!ms || !t || typeof MediaMetadata === "undefined") return;
  const artwork = [];
  const url = t.album?.images?.[0]?.url;
  if (url) {
    try {
            for (const size of [96, 256, 512]) {
        const u = new URL(url, location.origin);
        u.searchParams.set("size", String(size));
        artwork.push({ src: await signImage(u.pathname + u.search), sizes: `${size}x${size}` });
      }
    } catch { /* no artwork then */ }
  }
  if (player.current?.track !== t) return;
  ms.metadata = new MediaMetadata({
    title: t.name, artist: t.artists.map((a) => a.name).join(", "), album: t.album?.name || "", artwork,
  });
}

/** Position and duration for the lock screen's progress bar. */
export function updatePosition(player) {
  const ms = navigator.mediaSession;
  const d = player.duration;
  if (!ms?.setPositionState || !d) return;
  try {
    ms.setPositionState({ duration: d, position: Math.min(d, player.currentTime),
      playbackRate: player.audio?.playbackRate || 1 });
  } catch { /* duration unknown yet */ }
}

/** Keep the queue and the settings of the player across reloads (debounced). */
export function savePlayer(player) {
  clearTimeout(player.saveTimer);
  player.saveTimer = setTimeout(() => {
    const start = Math.max(0, player.index - 100);
    const data = {
      queue: player.queue.slice(start, start + MAX_SAVED).map((e) => ({ t: e.track, q: e.queued || undefined })),
      index: player.index - start, time: player.currentTime, context: player.context, shuffle: player.shuffle,
      repeat: player.repeat, volume: player.volume, muted: player.muted, quality: player.quality,
    };
    try { localStorage.setItem(SAVE_KEY, JSON.stringify(data)); } catch { /* quota: not kept */ }
  }, 300);
}

/** The saved queue and settings, put back into `player` (entries get new ids from `newUid`). */
export function restorePlayer(player, newUid) {
  let data;
  try { data = JSON.parse(localStorage.getItem(SAVE_KEY) || "null"); } catch { data = null; }
  if (!data) return;
  player.volume = typeof data.volume === "number" ? data.volume : 1;
  player.muted = Boolean(data.muted);
  player.quality = data.quality || "";
  player.repeat = ["off", "context", "track"].includes(data.repeat) ? data.repeat : "off";
  player.shuffle = Boolean(data.shuffle);
  player.context = data.context || null;
  player.queue = (data.queue || []).filter((e) => e && e.t && e.t.id)
    .map((e) => ({ uid: newUid(), track: e.t, queued: Boolean(e.q) }));
  player.restoredIndex = Math.min(player.queue.length - 1, Math.max(0, data.index || 0));
  player.restoredTime = data.time || 0;
}

/** Add the time played since the last look; report progress every `every` ms of listening. */
export function countPlayed(player, every) {
  const p = player.play_;
  const el = player.audio;
  if (!p || !el || el.paused || el.seeking) return;
  const delta = el.currentTime - p.lastPos;
  if (delta > 0 && delta < 2) p.msPlayed += delta * 1000;
  p.lastPos = el.currentTime;
  if (p.started && p.msPlayed - p.lastReport >= every) {
    p.lastReport = p.msPlayed;
    sendPlayEvent(player, "progress");
  }
}

/** One play event (start, progress, end) of the current play to the server. */
export function sendPlayEvent(player, kind, { beacon = false } = {}) {
  const p = player.play_;
  // A guest's listening is not recorded (the server refuses it): nothing to send.
  if (!p || !p.started || !canEdit()) return;
  if (p.entry.track.kind === "episode") return; // episodes report their position instead (episodes.js)
  if (p.offline) {
    // A play from a download goes to the device's queue (js/offline), sent when the network allows.
    if (kind === "end") player.offlinePlayed?.(p.entry.track.id, Date.now() - p.msPlayed, p.msPlayed);
    return;
  }
  const body = {
    track_id: p.entry.track.id, event: kind, position_ms: Math.round((player.audio?.currentTime || 0) * 1000),
    ms_played: Math.round(p.msPlayed), context_uri: player.context?.uri || null,
  };
  const opts = beacon ? { keepalive: true } : {};
  api.post("/v1/me/player/events", body, opts).catch((e) => console.warn("play event not sent", e));
}

/** The current play is over (skipped, ended, replaced, or the page is closing). */
export function reportEnd(player, beacon = false) {
  if (player.play_?.started && !player.play_.ended) {
    countPlayed(player, Infinity);
    player.play_.ended = true;
    sendPlayEvent(player, "end", { beacon });
  }
}
