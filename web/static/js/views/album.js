// An album: header, play / save / menu, its tracks (by disc), more by the artist.

import { api } from "../api.js";
import { h, icon, cover, artistLinks, fmtLength, plural, emptyState, errorText, toast } from "../ui/dom.js";
import { showMenu } from "../ui/menu.js";
import { trackList } from "../ui/tracks.js";
import { section, albumCard } from "../ui/cards.js";
import { albumTracks, playAlbum } from "../play.js";
import { player } from "../player.js";
import { canEdit } from "../state.js";
import { chooseAndAdd } from "../playlists.js";
import { navigate, refresh } from "../router.js";
import { liveView } from "../realtime.js";
import { warm } from "../media.js";
import { offlineToggle } from "../offline/toggle.js";

export function saveToggle({ label, get, set }) {
  const b = h("button.icon-button.big-save", { type: "button", "aria-label": label, "aria-pressed": "false", disabled: !canEdit() }, icon("heart-outline"));
  const show = (v) => {
    b.setAttribute("aria-pressed", String(v));
    b.classList.toggle("on", v);
    b.querySelector("use").setAttribute("href", v ? "#i-heart" : "#i-heart-outline");
  };
  get().then(show, () => {});
  b.addEventListener("click", async () => {
    const v = b.getAttribute("aria-pressed") !== "true";
    try { await set(v); show(v); toast(v ? "Saved to your library" : "Removed from your library"); } catch (e) { toast(errorText(e), { error: true }); }
  });
  return b;
}

export async function render({ root, params }) {
  const main = document.getElementById("main");
  root.append(h("div.page-header.skeleton-header", { "aria-busy": "true" }, h("div.header-cover.skeleton"), h("div.header-text", null, h("span.skeleton-line"))));
  let album;
  try {
    album = await api.get(`/v1/albums/${params.id}`);
  } catch (e) {
    root.replaceChildren(h("h1.page-title", null, "Album"), emptyState("Couldn't load this album.", errorText(e), { error: true }));
    return null;
  }
  const tracks = await albumTracks(album).catch(() => []);
  warm(tracks.slice(0, 5).map((t) => t.id));
  const year = (album.release_date || "").slice(0, 4);
  const totalMs = tracks.reduce((s, t) => s + (t.duration_ms || 0), 0);
  const header = h("header.page-header", null,
    cover(album.images, 300, { cls: "header-cover", alt: `Cover of ${album.name}` }),
    h("div.header-text", null,
      h("span.header-kind", null, album.album_type === "compilation" ? "Compilation" : "Album"),
      h("h1.header-title", null, album.name),
      h("p.header-meta", null, artistLinks(album.artists), year && year !== "0000" ? ` · ${year}` : "",
        ` · ${plural(tracks.length, "song")}, ${fmtLength(totalMs)}`)));
  const ctx = { uri: album.uri, name: album.name, href: `/album/${album.id}` };
  const play = (i) => player.playTracks(tracks, i, { context: ctx });
  const more = h("button.icon-button.big-more", { type: "button", "aria-label": `More options for ${album.name}`, "aria-haspopup": "menu" }, icon("more"));
  more.addEventListener("click", () => showMenu([
    { label: "Add to queue", icon: "queue", action: () => { player.addToQueue(tracks); toast(`Added ${plural(tracks.length, "track")} to the queue`); } },
    { label: "Add to playlist…", icon: "plus", disabled: !canEdit(), action: () => chooseAndAdd(tracks) },
    album.artists?.[0] ? { label: "Go to artist", icon: "person", action: () => navigate(`/artist/${album.artists[0].id}`) } : null,
  ], { anchor: more, label: `Options for ${album.name}` }));
  const actions = h("div.action-bar", null,
    h("button.play-button.big", { type: "button", "aria-label": `Play ${album.name}`, onclick: () => play(0) }, icon("play")),
    saveToggle({
      label: `Save ${album.name} to your library`,
      get: () => api.get("/v1/me/albums/contains", { ids: album.id }).then((r) => Boolean(r[0])),
      set: (v) => (v ? api.put("/v1/me/albums", { ids: [album.id] }) : api.del("/v1/me/albums", { ids: [album.id] })),
    }),
    more);
  if (canEdit()) more.before(offlineToggle("album", album.id, album.name));
  root.replaceChildren(header, actions);
  const lists = [];
  const discs = [...new Set(tracks.map((t, i) => album.tracks.items[i]?.disc_number || 1))];
  if (!tracks.length) root.append(emptyState("This album has no tracks."));
  for (const disc of discs) {
    const idx = tracks.map((_, i) => i).filter((i) => (album.tracks.items[i]?.disc_number || 1) === disc);
    if (discs.length > 1) root.append(h("h2.disc-title", null, icon("note"), `Disc ${disc}`));
    const discTracks = idx.map((i) => ({ ...tracks[i], track_number: album.tracks.items[i]?.track_number }));
    const list = trackList({
      tracks: discTracks, scroller: main, label: discs.length > 1 ? `Disc ${disc}` : "Tracks", showAlbum: false,
      showCover: false, numbering: "track", play: (j) => play(idx[j]),
    });
    lists.push(list);
    root.append(list.el);
  }
  if (year && year !== "0000") root.append(h("p.release-note.muted", null, album.release_date.length > 4 ? new Date(album.release_date).toLocaleDateString(undefined, { dateStyle: "long" }) : year));
  const artist = album.artists?.[0];
  if (artist && artist.name !== "Various Artists") {
    const moreBy = section(`More by ${artist.name}`, { href: `/artist/${artist.id}` });
    root.append(moreBy.el);
    api.get(`/v1/artists/${artist.id}/albums`, { limit: 12 }).then((res) => {
      moreBy.fill(res.items.filter((a) => a.id !== album.id).map((a) => albumCard(a, () => playAlbum(a.id))), { empty: "Nothing else yet." });
    }, (e) => moreBy.fail(e));
  }
  // A rescan that changes this album's tracks redraws it (one that removes it shows "not found").
  const live = liveView(refresh, { topics: [`album:${params.id}`], types: ["album_changed"], when: (d) => d.album_id === params.id });
  return () => { lists.forEach((l) => l.destroy()); live(); };
}
