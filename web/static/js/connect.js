// Playback across devices (docs/realtime.md, "Devices and playback"): this tab as a device of the user.
// It registers over the realtime channel, takes the server's `player_state` and hands it to the output it
// is about: this tab's audio (player.js) when the state names this tab, the remote output
// (remote-output.js) when it names another device; playback.js shows whichever plays. A track started here
// claims playback for this tab; while it plays it reports its position.
//
//   connect.addEventListener("change", ...)   // the state or the devices changed
//   pickDevice(anchor)                        // the device picker
//   holdLocal(true)                           // a Jam drives this tab's audio: server states only followed

import { api } from "./api.js";
import { openConnectDialog } from "./connect-ui.js";
import { setRemote } from "./playback.js";
import { player, slimTrack } from "./player.js";
import { realtime } from "./realtime.js";
import { followRemote } from "./remote-output.js";
import { showMenu } from "./ui/menu.js";

const ID_KEY = "musicd.device";
const REPORT_EVERY_MS = 2000;

export const connect = new EventTarget();
let deviceId = sessionStorage.getItem(ID_KEY); // one device per tab
let server = null; // the last player_state
let held = false; // a Jam plays in this tab (jam-member.js): the user's playback state does not drive it
// Until this time (ms), a claim of this tab (PUT /v1/me/player/play) has not come back as a state naming it.
let claimUntil = 0;
let applying = 0; // > 0 while the server's state is being put into the local player (no echo back)

const changed = () => connect.dispatchEvent(new CustomEvent("change"));

/** "Chromium on Linux": the browser and the system, as a device name. */
export function deviceName() {
  const ua = navigator.userAgent;
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chromium\//.test(ua) ? "Chromium"
    : /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS X/.test(ua) ? "macOS"
    : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

const isStation = (uri) => /^(spotify|musicd):station:/.test(uri || "");

const isRemote = () => Boolean(!held && server?.track_id && server.device_id && server.device_id !== deviceId);
export const thisDevice = () => deviceId;

/** While `on`, this tab's audio belongs to a Jam: the user's playback state neither drives nor hears it. */
export function holdLocal(on) {
  held = on;
  if (!on && isRemote()) followRemote(server).then(showOutput, (e) => console.warn("player state", e));
  else showOutput();
}

/** Which output the page shows: this tab, or the device the server's state names. */
function showOutput() {
  document.documentElement.dataset.output = isRemote() ? "remote" : "local";
  setRemote(isRemote() ? activeName() : null);
  changed();
}

async function register() {
  const fields = { name: deviceName(), kind: "web", device_type: "Computer" };
  if (deviceId) fields.device_id = deviceId;
  const res = await realtime.request("device_register", fields);
  deviceId = res.device.id;
  sessionStorage.setItem(ID_KEY, deviceId);
  document.documentElement.dataset.deviceId = deviceId;
  devices = (await api.get("/v1/me/player/devices").catch(() => ({ devices }))).devices;
  await apply(res.state);
}

async function apply(st) {
  if (server && st.state_version < server.state_version) return;
  server = st;
  if (st.device_id === deviceId) claimUntil = 0;
  if (held) {
    // a Jam plays here: the user's own playback goes on elsewhere (or not) without this tab
  } else if (st.device_id === deviceId && st.track_id) {
    if (st.changed_by !== deviceId) await playHere(st);
    else if (isStation(st.context_uri)) await followServerQueue(st);
  } else if (st.device_id && st.track_id) {
    // While this tab's claim is on its way, a state naming another device predates it (that device moved
    // on to its next track, say): falling silent then would leave this tab paused once the claim lands.
    if (Date.now() >= claimUntil && (player.isPlaying() || player.playing)) {
      applying += 1;
      try { player.pause(); } finally { applying -= 1; } // playback moved away: this tab falls silent
    }
    await followRemote(st);
  }
  showOutput();
}

/** The server moved playback to this tab (a transfer, or a remote's command): play what it says. */
async function playHere(st) {
  applying += 1;
  try {
    const at = (st.position_ms + (st.is_playing ? Math.max(0, Date.now() - st.timestamp) : 0)) / 1000;
    if (player.current?.track.id !== st.track_id) {
      const ids = [st.track_id, ...(st.next_track_ids || [])].slice(0, 50);
      const found = (await api.get("/v1/tracks", { ids: ids.join(",") })).tracks.filter(Boolean);
      player.playTracks(found.map((t) => slimTrack(t)), 0, { context: st.context_uri ? { uri: st.context_uri } : null });
      player.seek(at);
    } else if (Math.abs(player.currentTime - at) > 1) {
      player.seek(at);
    }
    if (st.cause === "volume" || st.cause === "transfer") player.setVolume(st.volume / 100);
    if (st.is_playing) await player.resume(); else player.pause();
  } finally {
    applying -= 1;
  }
}

/** A radio station's next tracks, as the server appended them to its context (docs/radio.md): the local
 * queue ahead is the start of the server's `next_track_ids`; the rest is appended. */
async function followServerQueue(st) {
  const ahead = player.queue.slice(player.index + 1).map((e) => e.track.id);
  const next = st.next_track_ids || [];
  if (st.track_id !== player.current?.track.id || ahead.some((id, i) => next[i] !== undefined && next[i] !== id)) return;
  const missing = next.slice(ahead.length);
  if (!missing.length) return;
  const found = (await api.get("/v1/tracks", { ids: missing.join(",") })).tracks.filter(Boolean);
  player.appendContext(found.map((t) => slimTrack(t)));
}

/** In a station the server holds the sequence (it pages the endless context): when this tab moved on by
 * itself to the server's next track, the one before is reported ended and the server moves on too (taking
 * the station's next page when it runs low) instead of this tab claiming a plain list of tracks. */
async function followStation() {
  const st = server;
  const now = player.current?.track.id;
  if (!st || !deviceId || st.device_id !== deviceId || !isStation(st.context_uri) || st.queue?.length) return false;
  if (!now || now === st.track_id || (st.next_track_ids || [])[0] !== now) return false;
  try {
    await realtime.request("player_report", {
      device_id: deviceId, state_version: st.state_version, track_id: st.track_id,
      position_ms: st.duration_ms || 0, is_playing: true, ended: true,
    });
    return true;
  } catch { return false; } // refused (a newer state came first): take over as any other track
}

/** Start a context the server resolves (a radio station's URI) with this tab as the device. */
export async function playContext(uri) {
  if (!deviceId) throw new Error("this tab is not connected to the server yet");
  await api.put("/v1/me/player/play", { context_uri: uri }, { params: { device_id: deviceId } });
}

/** Something was started in this tab: it becomes the active device, with its queue from here on. */
async function claim() {
  if (held) return;
  // The server's playback state holds library tracks; a podcast episode keeps its own position (episodes.js).
  if (player.current?.track?.kind === "episode") return;
  if (await followStation()) return;
  const i = player.index;
  const uris = player.queue.slice(i, i + 50).filter((e) => e.track.kind !== "episode")
    .map((e) => `spotify:track:${e.track.id}`);
  if (!uris.length || !deviceId) return;
  claimUntil = Date.now() + 5000;
  try {
    await api.put("/v1/me/player/play", { uris, position_ms: Math.round(player.currentTime * 1000) },
      { params: { device_id: deviceId } });
  } catch (e) {
    console.warn("could not take over playback", e);
    claimUntil = 0;
    if (server) await apply({ ...server }); // refused: the device the server names plays on
  }
}

async function report() {
  if (held || !server || server.device_id !== deviceId || !player.current || realtime.status !== "open") return;
  if (player.current.track.kind === "episode") return;
  try {
    const res = await realtime.request("player_report", {
      device_id: deviceId, state_version: server.state_version, track_id: player.current.track.id,
      position_ms: Math.round(player.currentTime * 1000), is_playing: player.isPlaying(),
    });
    if (res.state_version > server.state_version) server = { ...server, state_version: res.state_version };
  } catch { /* refused (a newer state is on its way) or offline */ }
}

let devices = [];
const activeName = () => devices.find((d) => d.id === server?.device_id)?.name || "another device";

/** The device picker: every device of the user; choosing one moves playback there. */
export async function pickDevice(anchor) {
  devices = (await api.get("/v1/me/player/devices")).devices;
  const items = devices.map((d) => ({
    label: `${d.id === deviceId ? `This browser (${d.name})` : d.name}${d.is_active ? " · playing" : ""}`,
    icon: d.type === "Speaker" ? "volume" : null,
    disabled: d.is_restricted,
    action: () => transferTo(d.id),
  }));
  items.push({ label: "Speakers and Jam…", action: () => openConnectDialog() });
  showMenu(items, { anchor, label: "Play on" });
}

export async function transferTo(id) {
  if (id === deviceId && !server?.track_id && player.current) return claim();
  await api.put("/v1/me/player", { device_ids: [id], play: true });
}

/** Start following the server's state (after the realtime channel is started). */
export function setupConnect() {
  realtime.on("open", () => register().catch((e) => console.warn("device registration failed", e)));
  realtime.on("player_state", (st) => apply(st).catch((e) => console.warn("player state", e)));
  realtime.on("devices_changed", (d) => {
    devices = d.devices;
    if (isRemote()) setRemote(activeName());
    changed();
  });
  realtime.on("resync", () => realtime.request("player_get").then((r) => apply(r.state)).catch(() => {}));
  // A track started in this tab by the user (not by the server's state): this tab takes over.
  player.addEventListener("track", () => { if (!applying && player.playing) claim(); });
  player.addEventListener("state", () => { if (!applying && server?.device_id === deviceId) report(); });
  setInterval(() => { if (player.isPlaying()) report(); }, REPORT_EVERY_MS);
}
