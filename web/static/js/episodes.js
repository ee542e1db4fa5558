// Podcast episodes in the player: they play through the same queue as tracks (the stream URL takes an
// episode id), resume where the user left off on any device, and report their position to the server
// every 10 s of playback (of the audio's time: at 3× that is every 3.3 s of the clock) and on pause
// (PUT /v1/me/episodes/{id}/progress, see docs/podcasts.md).
// Episodes get their own controls: playback speed (0.5–3×, kept across reloads), back 15 s, forward 30 s.

import { api } from "./api.js";
import { player } from "./player.js";
import { toast, errorText } from "./ui/dom.js";
import { warm } from "./media.js";
import { canEdit } from "./state.js";

const SPEED_KEY = "musicd.speed";
const REPORT_EVERY_MS = 10000;
// Of the audio: time events come every 250 ms of the clock (0.75 s of audio at 3×), so reporting after 9 s
// heard keeps the server's position within 10 s of the listener's at any speed.
const REPORT_EVERY_HEARD_MS = 9000;
export const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.5, 3];

let speed = Number(localStorage.getItem(SPEED_KEY)) || 1;
let lastReport = 0;
let lastReportedMs = 0;
let lastSent = null;

/** An episode object of /v1 as a player track (the show stands where a track has its album). */
export function episodeTrack(ep, show = null) {
  const s = show || ep.show || {};
  const showId = ep.show_id || s.id;
  return {
    id: ep.id, name: ep.name, uri: ep.uri || `spotify:episode:${ep.id}`, duration_ms: ep.duration_ms || 0,
    kind: "episode", chapters: ep.chapters || [], resume_ms: ep.resume_point?.fully_played ? 0 : ep.resume_point?.resume_position_ms || 0,
    artists: [{ id: showId, name: s.name || "Podcast" }],
    album: { id: showId, name: s.name || "", images: ep.images?.length ? ep.images : s.images || [] },
  };
}

export function isEpisode(track) {
  return track?.kind === "episode";
}

/** Play an episode from where the user was (or from the start when it was played to the end). */
export async function playEpisode(ep, show = null) {
  try {
    // The position may have moved on another device since this page loaded it.
    const fresh = await api.get(`/v1/episodes/${ep.id}`);
    const t = episodeTrack(fresh, show || fresh.show);
    warm([t.id]);
    player.playTracks([t], 0, {
      context: { uri: `spotify:show:${t.album.id}`, name: t.album.name, href: `/show/${t.album.id}` },
      at: t.resume_ms / 1000,
    });
  } catch (e) {
    toast(`Can't play this episode: ${errorText(e)}`, { error: true });
  }
}

/** Tell the server where the user is in the playing episode (also when the page is closing). */
export function reportPosition({ beacon = false, force = false } = {}) {
  const t = player.current?.track;
  if (!isEpisode(t) || !player.audio || !canEdit()) return; // a guest keeps no position
  const position = Math.round(player.currentTime * 1000);
  const key = `${t.id}:${position}`; // a pause right after a periodic report still sends where it stopped
  if (!force && key === lastSent) return;
  lastSent = key;
  lastReport = Date.now();
  lastReportedMs = position;
  const body = { position_ms: position, device_id: "web" };
  api.put(`/v1/me/episodes/${t.id}/progress`, body, beacon ? { keepalive: true } : {})
    .catch((e) => console.warn("episode position not saved", e));
}

function applySpeed() {
  // defaultPlaybackRate too: a new source (a quality change) starts at the default rate.
  for (const el of player.elements.values()) {
    const rate = isEpisode(player.queue.find((q) => q.uid === el.dataset.uid)?.track) ? speed : 1;
    el.defaultPlaybackRate = rate;
    el.playbackRate = rate;
  }
}

/** After a reload: the restored episode goes to the server's position (the newest, from any device). */
export async function syncRestoredEpisode() {
  const t = player.current?.track;
  if (!isEpisode(t)) return;
  try {
    const ep = await api.get(`/v1/episodes/${t.id}`);
    if (player.current?.track !== t || player.isPlaying()) return;
    const rp = ep.resume_point;
    player.seek(rp.fully_played ? 0 : rp.resume_position_ms / 1000);
  } catch { /* the local position then */ }
}

export function setSpeed(value) {
  speed = Math.min(3, Math.max(0.5, Number(value) || 1));
  localStorage.setItem(SPEED_KEY, String(speed));
  applySpeed();
}

export function getSpeed() {
  return speed;
}

/** Wire the episode controls of the player bar and the position reports. */
export function setupEpisodes() {
  const $ = (id) => document.getElementById(id);
  const back = $("player-back15");
  const fwd = $("player-fwd30");
  const speedSel = $("player-speed");
  speedSel.replaceChildren(...SPEEDS.map((s) => new Option(`${s}×`, String(s), s === speed, s === speed)));
  speedSel.addEventListener("change", () => setSpeed(speedSel.value));
  back.addEventListener("click", () => player.seekBy(-15));
  fwd.addEventListener("click", () => player.seekBy(30));

  const showControls = () => {
    const t = player.current?.track;
    const ep = isEpisode(t);
    for (const el of [back, fwd, speedSel]) el.hidden = !ep;
    document.getElementById("player").classList.toggle("is-episode", ep);
    if (ep) {
      // The title and cover lead to the show; an episode is not a track to like.
      for (const a of [$("player-title"), $("player-cover-link")]) a.href = `/show/${t.album.id}`;
      $("player-save").disabled = true;
    }
    lastSent = null;
    applySpeed();
  };
  player.addEventListener("track", showControls);
  player.addEventListener("time", () => {
    // Every 10 s of the clock and every 10 s of the audio, whichever comes first: sped up, the audio runs
    // ahead of the clock, and a device that dies unannounced must lose at most 10 s of the episode.
    if (!player.isPlaying()) return;
    const heard = Math.abs(player.currentTime * 1000 - lastReportedMs);
    if (Date.now() - lastReport >= REPORT_EVERY_MS || heard >= REPORT_EVERY_HEARD_MS) reportPosition();
  });
  player.addEventListener("state", () => {
    applySpeed();
    if (!player.isPlaying()) reportPosition();
  });
  player.addEventListener("ended-episode", (e) => {
    if (canEdit()) api.put(`/v1/me/episodes/${e.detail.id}/played`, { played: true }).catch(() => {});
  });
  window.addEventListener("pagehide", () => reportPosition({ beacon: true, force: true }));
  showControls();
}
