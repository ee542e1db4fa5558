// Playback across devices (docs/realtime.md, "Devices and playback"). The server holds the one playback
// state; this tab's <audio> (player.js) is one output of it, any other device (another tab, a speaker) is
// another. `control` is what the player bar drives: the local player while this tab plays, the
// /v1/me/player API while another device does (the bar then follows that device's state: a remote).
//
//   connect.addEventListener("change", ...)   // the state or the devices changed
//   control.toggle() / next() / seek(s) ...   // whichever output is active
//   pickDevice(anchor)                        // the device picker

import { api } from "./api.js";
import { openConnectDialog } from "./connect-ui.js";
import { player, slimTrack } from "./player.js";
import { realtime } from "./realtime.js";
import { showMenu } from "./ui/menu.js";

const ID_KEY = "musicd.device";
const REPORT_EVERY_MS = 2000;

export const connect = new EventTarget();
let deviceId = sessionStorage.getItem(ID_KEY); // one device per tab
let server = null; // the last player_state
let remoteTrack = null;
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

export const isRemote = () => Boolean(server?.track_id && server.device_id && server.device_id !== deviceId);
export const thisDevice = () => deviceId;
/** The server's state version as this tab last saw it (views refetch when it moves). */
export const stateVersion = () => server?.state_version ?? 0;

async function register() {
  const fields = { name: deviceName(), kind: "web", device_type: "Computer" };
  if (deviceId) fields.device_id = deviceId;
  const res = await realtime.request("device_register", fields);
  deviceId = res.device.id;
  sessionStorage.setItem(ID_KEY, deviceId);
  document.documentElement.dataset.deviceId = deviceId;
  await apply(res.state);
}

async function apply(st) {
  if (server && st.state_version < server.state_version) return;
  server = st;
  if (st.device_id === deviceId) claimUntil = 0;
  if (st.device_id === deviceId && st.track_id) {
    if (st.changed_by !== deviceId) await playHere(st);
    else if (isStation(st.context_uri)) await followServerQueue(st);
  } else if (st.device_id && st.track_id) {
    // While this tab's claim is on its way, a state naming another device predates it (that device moved
    // on to its next track, say): falling silent then would leave this tab paused once the claim lands.
    if (Date.now() >= claimUntil && (player.isPlaying() || player.playing)) {
      applying += 1;
      try { player.pause(); } finally { applying -= 1; } // playback moved away: this tab falls silent
    }
    if (remoteTrack?.id !== st.track_id) remoteTrack = slimTrack(await api.get(`/v1/tracks/${st.track_id}`));
  }
  document.documentElement.dataset.output = isRemote() ? "remote" : "local";
  changed();
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
  if (!server || server.device_id !== deviceId || !player.current || realtime.status !== "open") return;
  if (player.current.track.kind === "episode") return;
  try {
    const res = await realtime.request("player_report", {
      device_id: deviceId, state_version: server.state_version, track_id: player.current.track.id,
      position_ms: Math.round(player.currentTime * 1000), is_playing: player.isPlaying(),
    });
    if (res.state_version > server.state_version) server = { ...server, state_version: res.state_version };
  } catch { /* refused (a newer state is on its way) or offline */ }
}

const remoteTime = () => {
  if (!server) return 0;
  const ms = server.position_ms + (server.is_playing ? Math.max(0, Date.now() - server.timestamp) : 0);
  return Math.min(ms, server.duration_ms || ms) / 1000;
};

const cmd = (method, path, params, body) =>
  api[method](`/v1/me/player${path}`, body, { params }).catch((e) => console.warn("player command failed", e));

/** The controls of the bar: this tab's player, or the active device through the API. */
export const control = {
  get remote() { return isRemote(); },
  get track() { return isRemote() ? remoteTrack : player.current?.track || null; },
  get playing() { return isRemote() ? server.is_playing : Boolean(player.isPlaying() || (player.playing && player.current)); },
  get time() { return isRemote() ? remoteTime() : player.currentTime; },
  get duration() { return isRemote() ? (server.duration_ms || 0) / 1000 : player.duration; },
  get shuffle() { return isRemote() ? server.shuffle : player.shuffle; },
  get repeat() { return isRemote() ? server.repeat : player.repeat; },
  toggle() { return isRemote() ? cmd("put", server.is_playing ? "/pause" : "/play") : player.toggle(); },
  next() { return isRemote() ? cmd("post", "/next") : player.next(); },
  previous() { return isRemote() ? cmd("post", "/previous") : player.previous(); },
  seek(s) { return isRemote() ? cmd("put", "/seek", { position_ms: Math.round(s * 1000) }) : player.seek(s); },
  seekBy(d) { return isRemote() ? this.seek(Math.max(0, remoteTime() + d)) : player.seekBy(d); },
  setShuffle(on) { return isRemote() ? cmd("put", "/shuffle", { state: on }) : player.setShuffle(on); },
  cycleRepeat() {
    if (!isRemote()) return player.cycleRepeat();
    const next = { off: "context", context: "track", track: "off" }[server.repeat] || "off";
    return cmd("put", "/repeat", { state: next });
  },
  /** The name of the device playing, when it is not this tab. */
  get deviceName() { return isRemote() ? devices.find((d) => d.id === server.device_id)?.name || "another device" : null; },
};

let devices = [];

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
  realtime.on("devices_changed", (d) => { devices = d.devices; changed(); });
  realtime.on("resync", () => realtime.request("player_get").then((r) => apply(r.state)).catch(() => {}));
  // A track started in this tab by the user (not by the server's state): this tab takes over.
  player.addEventListener("track", () => { if (!applying && player.playing) claim(); });
  player.addEventListener("state", () => { if (!applying && server?.device_id === deviceId) report(); });
  setInterval(() => { if (player.isPlaying()) report(); }, REPORT_EVERY_MS);
  setInterval(() => { if (isRemote()) changed(); }, 500); // the remote's progress moves on
}
