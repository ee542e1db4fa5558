// Your library's whole-library grids: every album sorted (name, artist, year, recently added) and filtered
// (genre, year), and every song. The choices live in the URL (?sort=&genre=&year=), so back/forward and a
// reload keep them.

import { api } from "../api.js";
import { h, emptyState, errorText, plural } from "../ui/dom.js";
import { trackList } from "../ui/tracks.js";
import { pagedSource } from "../ui/vlist.js";
import { player, slimTrack } from "../player.js";
import { navigate } from "../router.js";

const ALBUM_SORTS = [["name", "Name"], ["artist", "Artist"], ["year", "Year"], ["added", "Recently added"]];
const SONG_SORTS = [["title", "Title"], ["artist", "Artist"], ["album", "Album"], ["added", "Recently added"]];

function select(label, options, value, onchange) {
  const el = h("select.grid-select", { "aria-label": label, onchange: () => onchange(el.value) },
    options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
  return h("label.grid-control", null, h("span.muted.small", null, label), el);
}

/** The query of the albums grid changed: the same page with the new query (a new history entry). */
function go(base, query, key, value) {
  const q = new URLSearchParams(query);
  if (value) q.set(key, value); else q.delete(key);
  navigate(`${base}?${q}`);
}

/** Sort and filter controls for the albums grid, and the page fetcher they make. */
export function albumGrid(query) {
  const legacy = query.get("show") === "recent" ? "added" : null; // the old "Recently added" chip
  const sort = query.get("sort") || legacy || "name";
  const genre = query.get("genre") || "";
  const year = query.get("year") || "";
  const base = "/library/albums";
  const genreBox = select("Genre", [["", "All genres"]], genre, (v) => go(base, query, "genre", v));
  const yearBox = select("Year", [["", "All years"]], year, (v) => go(base, query, "year", v));
  api.get("/v1/browse/categories", { limit: 50 }).then((r) => {
    genreBox.querySelector("select").append(...r.categories.items.map((c) => h("option", { value: c.name, selected: c.name === genre }, c.name)));
  }, () => {});
  api.get("/v1/library/years").then((r) => {
    const decades = [...new Set(r.years.map((y) => y - (y % 10)))].map((d) => [`${d}s`, `${d}s`]);
    yearBox.querySelector("select").append(...[...decades, ...r.years.map((y) => [String(y), String(y)])]
      .map(([v, text]) => h("option", { value: v, selected: v === year }, text)));
  }, () => {});
  const controls = h("div.grid-controls", { role: "group", "aria-label": "Sort and filter albums" },
    select("Sort by", ALBUM_SORTS, sort, (v) => go(base, query, "sort", v)), genreBox, yearBox);
  const span = /^(\d{4})s$/.exec(year) ? [Number(year.slice(0, 4)), Number(year.slice(0, 4)) + 9]
    : /^\d{4}$/.test(year) ? [Number(year), Number(year)] : [null, null];
  const fetchPage = (offset) => api.get("/v1/library/album-grid", {
    sort, genre: genre || null, year_from: span[0], year_to: span[1], limit: 60, offset,
  }).then((r) => r.albums);
  return { controls, fetchPage, filtered: Boolean(genre || year) };
}

/** Every song of the library, in a virtual list that pages as it scrolls. */
export async function songsTab(root, query) {
  const sort = query.get("sort") || "title";
  root.append(h("div.grid-controls", null, select("Sort by", SONG_SORTS, sort, (v) => go("/library/songs", query, "sort", v))));
  const fetch = (offset, limit) => api.get("/v1/library/tracks", { sort, limit, offset }).then((r) => ({
    items: r.tracks.items.map((t) => ({ track: t })), total: r.tracks.total,
  }));
  let first;
  try {
    first = await fetch(0, 50);
  } catch (e) {
    root.append(emptyState("Couldn't load the songs.", errorText(e), { error: true }));
    return null;
  }
  root.append(h("p.muted.count-line", null, plural(first.total, "song")));
  if (!first.total) {
    root.append(emptyState("No songs yet.", "Add music to the library folders and scan."));
    return null;
  }
  const source = pagedSource(fetch, { pageSize: 50, first });
  const play = (i) => {
    const loaded = source.items.slice(i, i + 200).filter(Boolean).map((it) => slimTrack(it.track));
    const end = i + loaded.length;
    const more = source.total > end ? () => source.slice(end, 500).then((items) => items.filter(Boolean).map((it) => slimTrack(it.track))) : null;
    player.playTracks(loaded, 0, { context: { uri: null, name: "All songs", href: "/library/songs" }, more });
  };
  const list = trackList({ source, scroller: document.getElementById("main"), play, label: "All songs" });
  root.append(list.el);
  return () => list.destroy();
}
