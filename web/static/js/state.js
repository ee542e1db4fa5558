// Shared state of the app: the user, their playlists and which tracks they saved, with change events.

import { api, allPages } from "./api.js";

export const state = {
  me: null,
  playlists: [],
};

const bus = new EventTarget();

export function on(name, fn) {
  const handler = (e) => fn(e.detail);
  bus.addEventListener(name, handler);
  return () => bus.removeEventListener(name, handler);
}

export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}

export function canEdit() {
  return state.me && state.me.role !== "guest";
}

/** The playlists in the sidebar and the "Add to playlist" menus (owned or collaborative ones are editable). */
export async function loadPlaylists() {
  try {
    state.playlists = await allPages("/v1/me/playlists", {}, { limit: 50, max: 2000 });
  } catch (e) {
    console.warn("playlists unavailable", e);
    state.playlists = [];
  }
  emit("playlists", state.playlists);
  return state.playlists;
}

export function editablePlaylists() {
  const me = state.me?.id;
  return state.playlists.filter((p) => p.owner?.id === me || p.collaborative);
}

// ---- saved tracks: asked in batches, cached, kept in sync across the page ----

const saved = new Map();
let pending = new Set();
let waiters = [];
let timer = null;

/** Whether the user saved track `id` (batched with other asks made in the same few milliseconds). */
export function isSaved(id) {
  if (saved.has(id)) return Promise.resolve(saved.get(id));
  return new Promise((resolve) => {
    pending.add(id);
    waiters.push([id, resolve]);
    timer ??= setTimeout(flushSaved, 15);
  });
}

async function flushSaved() {
  timer = null;
  const ids = [...pending];
  const ws = waiters;
  pending = new Set();
  waiters = [];
  for (let i = 0; i < ids.length; i += 50) {
    const chunk = ids.slice(i, i + 50);
    try {
      const flags = await api.get("/v1/me/tracks/contains", { ids: chunk.join(",") });
      chunk.forEach((id, j) => saved.set(id, Boolean(flags[j])));
    } catch {
      chunk.forEach((id) => saved.set(id, false));
    }
  }
  for (const [id, resolve] of ws) resolve(saved.get(id) ?? false);
}

export async function setSaved(id, value) {
  if (value) await api.put("/v1/me/tracks", { ids: [id] });
  else await api.del("/v1/me/tracks", { ids: [id] });
  saved.set(id, value);
  emit("saved", { id, value });
}
