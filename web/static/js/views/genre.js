// A genre (browse category): its mixes, its albums, and all its tracks in a virtualised list.

import { api } from "../api.js";
import { h, icon, cover, emptyState, errorText, plural } from "../ui/dom.js";
import { section, albumCard, playlistCard } from "../ui/cards.js";
import { trackList } from "../ui/tracks.js";
import { pagedSource } from "../ui/vlist.js";
import { playAlbum, playPlaylist } from "../play.js";
import { player, slimTrack } from "../player.js";

export async function render({ root, params }) {
  const main = document.getElementById("main");
  const id = params.id;
  let cat;
  try {
    cat = await api.get(`/v1/browse/categories/${encodeURIComponent(id)}`);
  } catch (e) {
    root.append(h("h1.page-title", null, "Genre"), emptyState("Couldn't load this genre.", errorText(e), { error: true }));
    return null;
  }
  const meta = h("p.header-meta");
  root.append(h("header.page-header.genre-header", null,
    cover(cat.icons, 300, { cls: "header-cover", alt: "" }),
    h("div.header-text", null, h("span.header-kind", null, "Genre"), h("h1.header-title", null, cat.name), meta)));
  const playBtn = h("button.play-button.big", { type: "button", "aria-label": `Play ${cat.name}`, disabled: true }, icon("play"));
  root.append(h("div.action-bar", null, playBtn));
  const mixes = section("Mixes");
  const albums = section("Albums");
  const songs = h("section.section", { "aria-labelledby": "genre-songs" }, h("div.section-head", null, h("h2", { id: "genre-songs" }, "Songs")));
  root.append(mixes.el, albums.el, songs);
  let list = null;
  await Promise.allSettled([
    api.get(`/v1/browse/categories/${encodeURIComponent(id)}/playlists`, { limit: 20 }).then((r) => {
      if (!r.playlists.items.length) { mixes.el.remove(); return; }
      mixes.fill(r.playlists.items.map((p) => playlistCard(p, () => playPlaylist(p.id))));
      playBtn.disabled = false;
      playBtn.addEventListener("click", () => playPlaylist(r.playlists.items[0].id));
    }, () => mixes.el.remove()),
    api.get(`/v1/browse/categories/${encodeURIComponent(id)}/albums`, { limit: 24 }).then((r) => {
      albums.fill(r.albums.items.map((a) => albumCard(a, () => playAlbum(a.id))), { empty: "No albums." });
    }, (e) => albums.fail(e)),
    api.get(`/v1/browse/categories/${encodeURIComponent(id)}/tracks`, { limit: 50 }).then((r) => {
      const first = r.tracks;
      meta.textContent = plural(first.total, "song");
      if (!first.total) { songs.append(emptyState("No songs.")); return; }
      const source = pagedSource((offset, limit) => api.get(`/v1/browse/categories/${encodeURIComponent(id)}/tracks`, { offset, limit }).then((x) => x.tracks), { pageSize: 50, first });
      const play = (i) => {
        const loaded = source.items.slice(i, i + 200).filter(Boolean).map((t) => slimTrack(t));
        const end = i + loaded.length;
        const more = source.total > end ? () => source.slice(end, 500).then((items) => items.filter(Boolean).map((t) => slimTrack(t))) : null;
        player.playTracks(loaded, 0, { context: { uri: null, name: cat.name, href: `/genre/${id}` }, more });
      };
      if (playBtn.disabled) { playBtn.disabled = false; playBtn.addEventListener("click", () => play(0)); }
      list = trackList({ source, scroller: main, play, label: `${cat.name} songs` });
      songs.append(list.el);
    }, (e) => songs.append(emptyState("Couldn't load the songs.", errorText(e), { error: true }))),
  ]);
  return () => list?.destroy();
}
