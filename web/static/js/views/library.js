// Your library: playlists, albums (all, or saved), artists (all, or followed), liked songs.

import { api } from "../api.js";
import { h, icon, emptyState, errorText, plural } from "../ui/dom.js";
import { albumCard, artistCard, playlistCard, card } from "../ui/cards.js";
import { trackList } from "../ui/tracks.js";
import { pagedSource } from "../ui/vlist.js";
import { playAlbum, playPlaylist } from "../play.js";
import { player, slimTrack } from "../player.js";
import { state, loadPlaylists } from "../state.js";
import { createPlaylist } from "../playlists.js";
import { liveView } from "../realtime.js";
import { refresh } from "../router.js";
import { importPlaylist } from "../downloads.js";
import { albumGrid, songsTab } from "./library-grid.js";

const TABS = [
  ["playlists", "Playlists"],
  ["albums", "Albums"],
  ["artists", "Artists"],
  ["tracks", "Liked songs"],
  ["songs", "All songs"],
];

function tabs(active) {
  return h("nav.chips", { "aria-label": "Library sections" },
    TABS.map(([key, label]) => h("a.chip", { href: `/library/${key}`, "data-link": true, "aria-current": key === active ? "page" : null }, label)));
}

function filterChips(options, active, base) {
  return h("div.chips.small", { role: "group", "aria-label": "Show" },
    options.map(([key, label]) => h("a.chip", { href: `${base}?show=${key}`, "data-link": true, "aria-current": key === active ? "true" : null }, label)));
}

/** A grid that loads `fetchPage(offset)` -> {items, total} as its end scrolls into view. */
function infiniteGrid(fetchPage, makeCard, { empty }) {
  const grid = h("div.grid", { "aria-busy": "true" });
  const sentinel = h("div.sentinel", { "aria-hidden": "true" });
  const wrap = h("div", null, grid, sentinel);
  let offset = 0;
  let total = Infinity;
  let busy = false;
  const more = async () => {
    if (busy || offset >= total) return;
    busy = true;
    try {
      const page = await fetchPage(offset);
      total = page.total;
      offset += page.items.length;
      grid.append(...page.items.map(makeCard));
      if (!page.items.length) total = offset;
      if (total === 0) grid.replaceWith(emptyState(empty));
    } catch (e) {
      total = offset;
      wrap.append(emptyState("Couldn't load this.", errorText(e), { error: true }));
    } finally {
      busy = false;
      grid.removeAttribute("aria-busy");
    }
    if (offset < total && sentinel.getBoundingClientRect().top < innerHeight + 600) more();
  };
  const io = new IntersectionObserver((entries) => { if (entries.some((e) => e.isIntersecting)) more(); },
    { root: document.getElementById("main"), rootMargin: "600px" });
  io.observe(sentinel);
  more();
  return { el: wrap, destroy: () => io.disconnect() };
}

async function playlistsTab(root) {
  const grid = h("div.grid");
  root.append(grid);
  const liked = card({ href: "/library/tracks", images: [], title: "Liked songs", subtitle: "Your saved tracks" });
  liked.classList.add("liked-card");
  const create = h("button.card.create-card", { type: "button", onclick: () => createPlaylist() },
    h("div.card-cover", null, icon("plus")), h("span.card-title", null, "Create playlist"));
  const importer = h("button.card.create-card", { type: "button", onclick: () => importPlaylist() },
    h("div.card-cover", null, icon("library")), h("span.card-title", null, "Import a playlist file"));
  const fill = () => grid.replaceChildren(liked, create, importer, ...state.playlists.map((p) => playlistCard(p, () => playPlaylist(p.id))));
  fill();
  await loadPlaylists();
  fill();
  return null;
}

function albumsTab(root, show, query) {
  root.append(filterChips([["all", "All albums"], ["saved", "Saved"]], show === "saved" ? "saved" : "all", "/library/albums"));
  let fetchPage = (offset) => api.get("/v1/me/albums", { limit: 50, offset }).then((p) => ({ total: p.total, items: p.items.map((it) => it.album) }));
  let empty = "Albums you save show here.";
  if (show !== "saved") {
    const all = albumGrid(query);
    root.append(all.controls);
    fetchPage = all.fetchPage;
    empty = all.filtered ? "No albums match these filters." : "No albums yet.";
  }
  const grid = infiniteGrid(fetchPage, (a) => albumCard(a, () => playAlbum(a.id)), { empty });
  root.append(grid.el);
  return grid.destroy;
}

function artistsTab(root, show) {
  root.append(filterChips([["all", "All artists"], ["followed", "Following"]], show, "/library/artists"));
  let after = null;
  const fetchPage = show === "followed"
    ? async (offset) => {
      const r = await api.get("/v1/me/following", { type: "artist", limit: 50, after: offset ? after : null });
      after = r.artists.cursors?.after;
      return { total: r.artists.total, items: r.artists.items };
    }
    : (offset) => api.get("/v1/library/artists", { limit: 60, offset, album_artists_only: true }).then((r) => r.artists);
  const grid = infiniteGrid(fetchPage, artistCard, { empty: show === "followed" ? "Artists you follow show here." : "No artists yet." });
  root.append(grid.el);
  return grid.destroy;
}

async function likedTab(root) {
  const main = document.getElementById("main");
  let first;
  try {
    first = await api.get("/v1/me/tracks", { limit: 50, offset: 0 });
  } catch (e) {
    root.append(emptyState("Couldn't load your liked songs.", errorText(e), { error: true }));
    return null;
  }
  root.append(h("p.muted.count-line", null, plural(first.total, "song")));
  if (!first.total) {
    root.append(emptyState("Songs you like show here.", "Save a track with its heart button."));
    return null;
  }
  const source = pagedSource((offset, limit) => api.get("/v1/me/tracks", { limit, offset }), { pageSize: 50, first });
  const play = (i) => {
    const loaded = source.items.slice(i, i + 200).filter(Boolean).map((it) => slimTrack(it.track));
    const end = i + loaded.length;
    const more = source.total > end ? () => source.slice(end, 500).then((items) => items.filter(Boolean).map((it) => slimTrack(it.track))) : null;
    player.playTracks(loaded, 0, { context: { uri: null, name: "Liked songs", href: "/library/tracks" }, more });
  };
  const list = trackList({ source, scroller: main, play, label: "Liked songs", added: true });
  root.append(list.el);
  return () => list.destroy();
}

// What redraws each section live: catalogue changes (albums, artists), the user's saves and follows.
const LIVE = {
  albums: { topics: ["library"], types: ["library_changed", "saves_changed"] },
  artists: { topics: ["library"], types: ["library_changed", "saves_changed", "follows_changed"] },
  tracks: { types: ["saves_changed"], when: (d) => d.kind === "track" },
  songs: { topics: ["library"], types: ["library_changed"] },
};

async function section(root, name, query) {
  if (name === "albums") return albumsTab(root, query.get("show") || "all", query);
  if (name === "songs") return songsTab(root, query);
  if (name === "artists") return artistsTab(root, query.get("show") || "all");
  if (name === "tracks") return likedTab(root);
  if (name === "playlists") return playlistsTab(root);
  root.append(emptyState("There is no such section."));
  return null;
}

export async function render({ root, params, query }) {
  const name = params.section || "playlists";
  root.append(h("h1.page-title", null, "Your library"), tabs(name));
  const cleanup = await section(root, name, query);
  const live = LIVE[name] ? liveView(refresh, LIVE[name]) : () => {};
  return () => { if (typeof cleanup === "function") cleanup(); live(); };
}
