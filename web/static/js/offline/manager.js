// Offline listening in the web player (docs/offline.md): this browser registers as a device, renews its
// licence with a heartbeat whenever it is online, downloads what the licence lists in the background (1 MiB
// at a time with Range, so a closed tab or a lost network resumes where it stopped), deletes what the licence
// no longer lists, plays downloads decrypted in memory, and keeps the plays made offline until it can send them.

import { api, ApiError } from "../api.js";
import { b64d, decryptAll, importDeviceKey, importLicenceKey, parseHeader, verifyLicence } from "./crypto.js";
import { container, dropTrack, meta, plays, putChunk, tracks, wipe } from "./store.js";

const CHUNK = 16 * (64 * 1024 + 16); // 16 sealed segments
const HEARTBEAT_MS = 5 * 60 * 1000;
const PLAYS_BATCH = 500;
const URLS_KEPT = 4;

function slim(t) {
  const al = t.album || {};
  return {
    id: t.id, name: t.name, uri: t.uri || `spotify:track:${t.id}`, duration_ms: t.duration_ms || 0,
    artists: (t.artists || []).map((a) => ({ id: a.id, name: a.name })),
    album: { id: al.id, name: al.name, images: [] }, // covers are not kept offline
  };
}

/** [status, message] for a failed sync or download: no network, a full storage quota, or another error. */
function trouble(e, offlineMessage) {
  if (e?.name === "QuotaExceededError") {
    return ["full", "The browser's storage is full: downloads stopped (what is downloaded still plays). "
      + "Free some space or keep fewer items offline."];
  }
  if (e instanceof TypeError) return ["offline", offlineMessage];
  return ["error", e?.message || String(e)];
}

class OfflineManager extends EventTarget {
  constructor() {
    super();
    this.device = null; // {id, token, name}
    this.key = null; // the device key: a non-extractable CryptoKey
    this.licenceKey = null;
    this.licence = null; // the newest verified payload
    this.status = "idle"; // idle | syncing | downloading | offline | full | error
    this.message = "";
    this.downloading = null;
    this.urls = new Map(); // track id -> object URL of its decrypted audio (the last few)
    this.ready = this.load();
  }

  emit(name = "change") { this.dispatchEvent(new Event(name)); }

  setStatus(status, message = "") {
    this.status = status;
    this.message = message;
    this.emit();
  }

  async load() {
    try {
      this.device = (await meta.get("device")) || null;
      this.key = (await meta.get("key")) || null;
      this.licenceKey = (await meta.get("licenceKey")) || null;
      this.licence = (await meta.get("licence")) || null;
    } catch (e) {
      console.warn("offline storage unavailable", e);
    }
  }

  /** Start: sync now, then on every return of the network and every few minutes. */
  async start() {
    await this.ready;
    window.addEventListener("online", () => this.sync());
    setInterval(() => this.sync(), HEARTBEAT_MS);
    if (this.device) await this.sync();
  }

  // ---- the device ----

  async ensureDevice() {
    await this.ready;
    if (this.device) return this.device;
    const ua = navigator.userAgentData?.brands?.find((b) => !/Not/.test(b.brand))?.brand || "Browser";
    const reg = await api.post("/v1/me/devices", { name: `Web player (${ua})`, kind: "browser" });
    // Imported once as non-extractable keys; the raw bytes are dropped with `reg`.
    this.key = await importDeviceKey(b64d(reg.key));
    this.licenceKey = await importLicenceKey(b64d(reg.licence_public_key));
    this.device = { id: reg.id, token: reg.token, name: reg.name };
    await meta.set("key", this.key);
    await meta.set("licenceKey", this.licenceKey);
    await meta.set("device", this.device);
    this.emit();
    return this.device;
  }

  deviceFetch(path, opts = {}) {
    const headers = { ...(opts.headers || {}), Authorization: `Device ${this.device.id}.${this.device.token}` };
    return fetch(path, { ...opts, headers });
  }

  /** Keep a source offline: "playlist" / "album" with its id, or "liked". */
  async mark(type, id = "", quality = "normal") {
    const dev = await this.ensureDevice();
    await api.put(`/v1/me/devices/${dev.id}/offline`, { type, id, quality });
    await this.sync();
  }

  async unmark(type, id = "") {
    if (!this.device) return;
    await api.del(`/v1/me/devices/${this.device.id}/offline`, undefined, { params: { type, id } });
    await this.sync();
  }

  async marks() {
    if (!this.device) return [];
    return (await api.get(`/v1/me/devices/${this.device.id}/offline`)).items;
  }

  async isMarked(type, id = "") {
    try {
      return (await this.marks()).some((m) => m.type === type && (m.id || "") === (id || ""));
    } catch {
      return false;
    }
  }

  // ---- heartbeat ----

  /** Send queued plays, renew the licence, apply it, download what is missing. */
  async sync() {
    await this.ready;
    if (!this.device || this.syncing) return this.syncing;
    this.syncing = (async () => {
      this.setStatus("syncing");
      try {
        await this.flushPlays();
        this.setStatus("idle", await this.heartbeat());
        this.download();
      } catch (e) {
        this.setStatus(...trouble(e, "Offline: playing what is downloaded"));
      }
    })().finally(() => { this.syncing = null; });
    return this.syncing;
  }

  async heartbeat() {
    const all = await tracks.all();
    const held = all.filter((t) => t.complete).map((t) => t.id);
    const r = await this.deviceFetch("/v1/offline/heartbeat", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ held }),
    });
    const body = await r.json().catch(() => ({}));
    if (r.status === 401 && body?.error?.code === "device_unknown") {
      return this.forget("This device was removed from the server: its downloads were deleted.");
    }
    if (!r.ok) throw new ApiError(r.status, body?.error?.code, body?.error?.message);
    const p = await verifyLicence(this.licenceKey, body.licence, this.device.id, this.licence?.seq || 0);
    this.licence = p;
    await meta.set("licence", p);
    if (p.status === "revoked") return this.forget("This device was revoked: its downloads were deleted.");
    const listed = new Map(p.items.map((i) => [i.track_id, i.quality]));
    for (const t of all) {
      if (listed.get(t.id) !== t.quality) await this.drop(t.id);
    }
    const have = new Set((await tracks.all()).map((t) => t.id));
    const missing = p.items.filter((i) => !have.has(i.track_id));
    for (let i = 0; i < missing.length; i += 50) {
      const part = missing.slice(i, i + 50);
      const found = await api.get("/v1/tracks", { ids: part.map((m) => m.track_id).join(",") });
      for (const [k, t] of (found.tracks || []).entries()) {
        const item = part[k];
        const track = t ? slim(t) : { id: item.track_id, name: item.track_id, artists: [], album: {}, duration_ms: 0 };
        await tracks.put({ id: item.track_id, quality: item.quality, track, got: 0, chunks: 0, size: null,
          etag: null, type: null, complete: false, added: Date.now() });
      }
    }
    this.emit();
    if (p.status !== "suspended") return "";
    return p.reason === "account_disabled" ? "This account is disabled: downloads were deleted."
      : "Downloads were turned off for this account: they were deleted.";
  }

  async drop(id) {
    const url = this.urls.get(id);
    if (url) { URL.revokeObjectURL(url); this.urls.delete(id); }
    await dropTrack(id);
  }

  /** Delete every download and the device itself (its key included). */
  async forget(message) {
    for (const url of this.urls.values()) URL.revokeObjectURL(url);
    this.urls.clear();
    await wipe();
    this.device = this.key = this.licenceKey = this.licence = null;
    this.emit();
    return message;
  }

  // ---- downloads ----

  /** Download what is missing, one track at a time, resuming where each stopped. */
  download() {
    this.downloading ??= (async () => {
      try {
        for (;;) {
          const next = (await tracks.all()).filter((t) => !t.complete).sort((a, b) => a.added - b.added)[0];
          if (!next) break;
          this.setStatus("downloading");
          await this.fetchTrack(next);
        }
        this.setStatus("idle", this.message);
      } catch (e) {
        const [status, message] = trouble(e, "Offline: downloads resume when the network is back");
        this.setStatus(status, message);
        if (status === "error") this.retry ??= setTimeout(() => { this.retry = null; this.download(); }, 5000);
      } finally {
        this.downloading = null;
      }
    })();
    return this.downloading;
  }

  async fetchTrack(rec) {
    while (!(rec.size && rec.got >= rec.size)) {
      const headers = { Range: `bytes=${rec.got}-${rec.got + CHUNK - 1}` };
      if (rec.etag) headers["If-Range"] = rec.etag;
      const r = await this.deviceFetch(`/v1/offline/tracks/${encodeURIComponent(rec.id)}`, { headers });
      if (r.status === 404 || r.status === 403) {
        await this.drop(rec.id); // no longer licensed: the next heartbeat says why
        return;
      }
      if (r.status !== 206 && r.status !== 200) throw new ApiError(r.status, "download_failed", `HTTP ${r.status}`);
      const bytes = new Uint8Array(await r.arrayBuffer());
      if (r.status === 200 && rec.got > 0) {
        await dropTrack(rec.id); // the source changed since the first part: this is the whole new container
        rec = { ...rec, got: 0, chunks: 0 };
      }
      const total = r.status === 206 ? Number(r.headers.get("content-range").split("/")[1]) : bytes.length;
      rec = { ...rec, etag: r.headers.get("etag"), type: r.headers.get("x-musicd-content-type") || "audio/ogg",
        size: total, got: rec.got + bytes.length, chunks: rec.chunks + 1, complete: false };
      await putChunk(rec, rec.chunks - 1, bytes);
      this.emit("progress");
    }
    // Every byte is here (perhaps from before a reload): check the container's length, then it is playable.
    if (parseHeader(await container(rec)).total !== rec.size) {
      await dropTrack(rec.id);
      throw new Error(`the download of ${rec.track?.name || rec.id} is damaged; it starts again`);
    }
    await tracks.put({ ...rec, complete: true });
    this.emit("progress");
  }

  // ---- playback ----

  /** Whether the licence lets this browser play its downloads now. */
  playable() {
    const p = this.licence;
    return Boolean(p && p.status === "active" && Date.now() / 1000 < p.expires_at);
  }

  /** An object URL of the decrypted audio of a downloaded track, or null when it is not downloaded. */
  async source(trackId) {
    await this.ready;
    if (!this.key) return null;
    const rec = await tracks.get(trackId).catch(() => null);
    if (!rec || !rec.complete) return null;
    if (!this.playable()) throw new Error("The offline licence has expired: go online once to renew it.");
    if (this.urls.has(trackId)) return this.urls.get(trackId);
    const parts = await decryptAll(this.key, await container(rec));
    const url = URL.createObjectURL(new Blob(parts, { type: rec.type || "audio/ogg" }));
    this.urls.set(trackId, url);
    if (this.urls.size > URLS_KEPT) {
      const [oldest, old] = this.urls.entries().next().value;
      URL.revokeObjectURL(old);
      this.urls.delete(oldest);
    }
    return url;
  }

  /** A play made from a download: kept, then sent with the others when the network allows. */
  async played(trackId, startedAtMs, msPlayed) {
    await plays.add({ track_id: trackId, played_at: Math.round(startedAtMs), ms_played: Math.round(msPlayed) });
    this.flushPlays().catch(() => {});
  }

  async flushPlays() {
    if (!this.device || this.flushing) return this.flushing;
    this.flushing = (async () => {
      const queued = await plays.all();
      for (let i = 0; i < queued.length; i += PLAYS_BATCH) {
        const part = queued.slice(i, i + PLAYS_BATCH);
        const r = await this.deviceFetch("/v1/offline/plays", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ plays: part.map(([, p]) => p) }),
        });
        // Sent, or refused for good (a bad play would block the queue forever); a 5xx or 429 waits.
        if (r.ok || (r.status >= 400 && r.status < 500 && r.status !== 429 && r.status !== 401)) {
          await plays.drop(part.map(([k]) => k));
        }
      }
    })().finally(() => { this.flushing = null; });
    return this.flushing;
  }

  /** How many tracks this browser keeps (downloaded or not yet). */
  async stored() {
    return (await tracks.all()).length;
  }

  async pendingPlays() {
    return (await plays.all()).length;
  }
}

export const offline = new OfflineManager();
