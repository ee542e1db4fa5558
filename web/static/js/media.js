// Signed media URLs: <audio> and <img> cannot send an Authorization header, so the server signs a
// short token per item (`?st=`). Tokens are asked for in batches, cached (also across reloads, so
// image URLs stay the same and the browser cache keeps working) and renewed well before they expire.

import { api } from "./api.js";

const STORE_KEY = "musicd.st";
const RENEW_BEFORE_S = 3600;
const BATCH_MS = 8;
const MAX_BATCH = 200;

const tokens = new Map(); // id -> {st, exp}
let queue = new Map(); // id -> [resolve, reject][]
let timer = null;
let saveTimer = null;

try {
  const stored = JSON.parse(localStorage.getItem(STORE_KEY) || "{}");
  const now = Date.now() / 1000;
  for (const [id, t] of Object.entries(stored)) if (t.exp - now > RENEW_BEFORE_S) tokens.set(id, t);
} catch {
  // a broken cache is simply rebuilt
}

function fresh(id) {
  const t = tokens.get(id);
  return t && t.exp - Date.now() / 1000 > RENEW_BEFORE_S ? t.st : null;
}

function persist() {
  saveTimer ??= setTimeout(() => {
    saveTimer = null;
    const out = {};
    // Keep the newest few thousand: enough for every cover on screen and the queue.
    [...tokens.entries()].slice(-3000).forEach(([id, t]) => { out[id] = t; });
    try { localStorage.setItem(STORE_KEY, JSON.stringify(out)); } catch { /* quota: memory cache only */ }
  }, 500);
}

async function flush() {
  timer = null;
  const batch = queue;
  queue = new Map();
  const ids = [...batch.keys()];
  for (let i = 0; i < ids.length; i += MAX_BATCH) {
    const chunk = ids.slice(i, i + MAX_BATCH);
    try {
      const res = await api.post("/v1/me/stream-tokens", { ids: chunk });
      for (const id of chunk) {
        const st = res.tokens[id];
        tokens.set(id, { st, exp: res.expires_at });
        for (const [resolve] of batch.get(id)) resolve(st);
      }
      persist();
    } catch (e) {
      for (const id of chunk) for (const [, reject] of batch.get(id)) reject(e);
    }
  }
}

/** The stream token for a track or image id (cached, or fetched with others asked for at the same time). */
export function token(id) {
  const st = fresh(id);
  if (st) return Promise.resolve(st);
  return new Promise((resolve, reject) => {
    if (!queue.has(id)) queue.set(id, []);
    queue.get(id).push([resolve, reject]);
    timer ??= setTimeout(flush, BATCH_MS);
  });
}

/** Ask for the tokens of many ids ahead of time (the rows on screen, the queue). */
export function warm(ids) {
  for (const id of ids) if (id && !fresh(id)) token(id).catch(() => {});
}

/** The token when it is already known: lets a click start playback without a round trip. */
export function tokenNow(id) {
  return fresh(id);
}

let tierFmt = null;

/** The tier format this browser plays, asked once with canPlayType: Ogg Vorbis (the tiers made ahead of
 * time) where it can, else Opus, MP3 (Safari, iOS) or AAC. */
export function tierFormat() {
  if (tierFmt === null) {
    const a = document.createElement("audio");
    const can = (type) => a.canPlayType(type) !== "";
    tierFmt = can('audio/ogg; codecs="vorbis"') ? "ogg" : can('audio/ogg; codecs="opus"') ? "opus"
      : can("audio/mpeg") ? "mp3" : can("audio/aac") ? "aac" : "mp3";
  }
  return tierFmt;
}

export function streamUrl(trackId, st, quality) {
  const q = new URLSearchParams({ st });
  if (quality) q.set("quality", quality);
  if (tierFormat() !== "ogg") q.set("format", tierFormat());
  return `/v1/tracks/${encodeURIComponent(trackId)}/stream?${q}`;
}

/** `/v1/images/<id>?size=N` made loadable by <img>: the same URL with the image's token. */
export async function signImage(url) {
  const u = new URL(url, location.origin);
  const m = /^\/v1\/images\/([^/]+)$/.exec(u.pathname);
  if (!m || u.origin !== location.origin) return url;
  u.searchParams.set("st", await token(decodeURIComponent(m[1])));
  return u.pathname + u.search;
}

export function imageId(images) {
  const url = images && images.length ? images[0].url : null;
  const m = url ? /\/v1\/images\/([^/?]+)/.exec(url) : null;
  return m ? decodeURIComponent(m[1]) : null;
}
