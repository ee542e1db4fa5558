// Search as you type: grouped results (top result, songs, artists, albums, playlists) with keyboard
// navigation (↓ from the search box, ↑/↓ through the results, Enter to open or play, Esc back to the box).

import { api } from "../api.js";
import { h, icon, cover, emptyState, errorText } from "../ui/dom.js";
import { section, albumCard, artistCard, playlistCard, genreCard } from "../ui/cards.js";
import { trackList } from "../ui/tracks.js";
import { playAlbum, playPlaylist, playTracks } from "../play.js";
import { navigate } from "../router.js";

let controller = null;

function fold(s) {
  return (s || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
}

function distance(a, b) {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

const words = (s) => fold(s).split(/[^\p{L}\p{N}]+/u).filter(Boolean);

/** Whether every word typed is a word of `name` (one typo allowed in words of 4 letters or more). */
function namesEveryWord(name, typed) {
  const have = words(name);
  return typed.length > 0 && typed.every((w) => have.some((h) => h === w || (w.length >= 4 && distance(h, w) <= 1)));
}

/**
 * The best single hit: whatever is named (nearly) exactly what was typed, artists first; else an
 * artist whose name starts with it, or holds every word typed ("dvorak" is Antonín Dvořák Jr.) when
 * the first song's title does not; else the server's first track, album, artist or playlist.
 */
function topResult(q, res) {
  const fq = fold(q);
  const close = (name) => distance(fold(name), fq) <= Math.max(1, Math.floor(fq.length / 4));
  const kinds = [["artist", res.artists], ["track", res.tracks], ["album", res.albums], ["playlist", res.playlists]];
  for (const [kind, page] of kinds) {
    const hit = page?.items.find((it) => close(it.name));
    if (hit) return { kind, item: hit };
  }
  const artist = res.artists?.items[0];
  if (artist && fold(artist.name).startsWith(fq)) return { kind: "artist", item: artist };
  const typed = words(q);
  const track = res.tracks?.items[0];
  if (artist && namesEveryWord(artist.name, typed) && !(track && namesEveryWord(track.name, typed))) {
    return { kind: "artist", item: artist };
  }
  for (const [kind, page] of [["track", res.tracks], ["album", res.albums], ["artist", res.artists], ["playlist", res.playlists]]) {
    if (page?.items[0]) return { kind, item: page.items[0] };
  }
  return null;
}

function topCard(top, playTrack) {
  const { kind, item } = top;
  const images = kind === "track" ? item.album?.images : item.images;
  const href = kind === "track" ? `/album/${item.album.id}` : `/${kind}/${item.id}`;
  const sub = kind === "track" || kind === "album" ? (item.artists || []).map((a) => a.name).join(", ") : "";
  const label = { track: "Song", album: "Album", artist: "Artist", playlist: "Playlist" }[kind];
  const play = () => {
    if (kind === "track") playTrack(item);
    else if (kind === "album") playAlbum(item.id);
    else if (kind === "playlist") playPlaylist(item.id);
    else navigate(`/artist/${item.id}`);
  };
  return h("div.top-result", null,
    h("a.top-link", { href, "data-link": true, "data-result": true, "aria-label": `${item.name}, ${label}${sub ? ` by ${sub}` : ""}` },
      cover(images, 300, { cls: "top-cover", round: kind === "artist" }),
      h("span.top-name", null, item.name),
      h("span.top-meta", null, h("span.pill", null, label), sub ? ` ${sub}` : "")),
    kind !== "artist" ? h("button.card-play.visible", { type: "button", "aria-label": `Play ${item.name}`, onclick: play }, icon("play")) : null);
}

async function browseAll(root) {
  const genres = section("Browse all", { grid: true });
  root.append(genres.el);
  try {
    const res = await api.get("/v1/browse/categories", { limit: 50 });
    genres.fill(res.categories.items.map(genreCard), { empty: "Genres show once the library has music." });
  } catch (e) {
    genres.fail(e);
  }
}

function keyboard(root) {
  root.addEventListener("keydown", (e) => {
    if (!["ArrowDown", "ArrowUp", "Escape"].includes(e.key) || e.altKey) return;
    const items = [...root.querySelectorAll("[data-result]")];
    const i = items.indexOf(document.activeElement.closest("[data-result]"));
    if (i < 0) return;
    e.preventDefault();
    const input = document.getElementById("search-input");
    if (e.key === "Escape" || (e.key === "ArrowUp" && i === 0)) input.focus();
    else if (e.key === "ArrowDown") items[Math.min(items.length - 1, i + 1)].focus();
    else items[i - 1].focus();
  });
}

export async function render({ root, query, isCurrent }) {
  const q = (query.get("q") || "").trim();
  root.append(h("h1.visually-hidden", null, q ? `Search results for ${q}` : "Search"));
  if (!q) return browseAll(root);
  controller?.abort();
  controller = new AbortController();
  const status = h("p.muted.search-status", { role: "status" }, "Searching…");
  root.append(status);
  let res;
  try {
    res = await api.get("/v1/search", { q, type: "track,artist,album,playlist", limit: 10 }, { signal: controller.signal });
  } catch (e) {
    if (e.name === "AbortError") return null;
    status.replaceWith(emptyState("Search failed.", errorText(e), { error: true }));
    return null;
  }
  if (!isCurrent()) return null;
  const tracks = res.tracks?.items || [];
  const count = tracks.length + (res.artists?.items.length || 0) + (res.albums?.items.length || 0) + (res.playlists?.items.length || 0);
  if (!count) {
    status.replaceWith(emptyState(`No results for “${q}”`, "Check the spelling, or try fewer or other words."));
    return null;
  }
  status.textContent = `${count} results for “${q}”`;
  status.classList.add("visually-hidden");
  const main = document.getElementById("main");
  const play = (i) => playTracks(tracks, i, { uri: null, name: `Search: ${q}` });
  const top = topResult(q, res);
  const head = h("div.search-top");
  if (top) head.append(h("section.section.top-section", { "aria-labelledby": "top-title" }, h("h2", { id: "top-title" }, "Top result"), topCard(top, (t) => play(Math.max(0, tracks.indexOf(t))))));
  let list = null;
  let observer = null;
  if (tracks.length) {
    list = trackList({ tracks: tracks.slice(0, 6), scroller: main, play, label: "Songs", keys: false, showAlbum: false });
    for (const row of list.el.querySelectorAll(".track-row")) row.dataset.result = "1";
    observer = new MutationObserver(() => list.el.querySelectorAll(".track-row").forEach((r) => { r.dataset.result = "1"; }));
    observer.observe(list.list.el, { childList: true });
    head.append(h("section.section.songs-section", { "aria-labelledby": "songs-title" }, h("h2", { id: "songs-title" }, "Songs"), list.el));
  }
  root.append(head);
  const groups = [
    ["Artists", res.artists?.items, artistCard],
    ["Albums", res.albums?.items, (a) => albumCard(a, () => playAlbum(a.id))],
    ["Playlists", res.playlists?.items, (p) => playlistCard(p, () => playPlaylist(p.id))],
  ];
  for (const [title, items, make] of groups) {
    if (!items?.length) continue;
    const s = section(title);
    s.fill(items.map(make));
    for (const a of s.el.querySelectorAll(".card-link")) a.dataset.result = "1";
    root.append(s.el);
  }
  // Rows are drawn a frame later by the list: mark them then too.
  requestAnimationFrame(() => list?.el.querySelectorAll(".track-row").forEach((r) => { r.dataset.result = "1"; }));
  keyboard(root);
  return () => { observer?.disconnect(); list?.destroy(); };
}
