// An artist: follow, popular tracks, albums, appearances, related artists.

import { api } from "../api.js";
import { h, icon, cover, plural, emptyState, errorText, toast } from "../ui/dom.js";
import { trackList } from "../ui/tracks.js";
import { section, albumCard, artistCard } from "../ui/cards.js";
import { playAlbum } from "../play.js";
import { player, slimTrack } from "../player.js";
import { canEdit } from "../state.js";

function followButton(artist) {
  const b = h("button.button.outline", { type: "button", "aria-pressed": "false", disabled: !canEdit() }, "Follow");
  const show = (v) => {
    b.setAttribute("aria-pressed", String(v));
    b.textContent = v ? "Following" : "Follow";
    b.classList.toggle("on", v);
  };
  api.get("/v1/me/following/contains", { type: "artist", ids: artist.id }).then((r) => show(Boolean(r[0])), () => {});
  b.addEventListener("click", async () => {
    const v = b.getAttribute("aria-pressed") !== "true";
    try {
      if (v) await api.put(`/v1/me/following?type=artist`, { ids: [artist.id] });
      else await api.del(`/v1/me/following?type=artist`, { ids: [artist.id] });
      show(v);
      toast(v ? `Following ${artist.name}` : `Unfollowed ${artist.name}`);
    } catch (e) {
      toast(errorText(e), { error: true });
    }
  });
  return b;
}

export async function render({ root, params }) {
  const main = document.getElementById("main");
  root.append(h("div.page-header.skeleton-header", { "aria-busy": "true" }, h("div.header-cover.round.skeleton")));
  let artist;
  try {
    artist = await api.get(`/v1/artists/${params.id}`);
  } catch (e) {
    root.replaceChildren(h("h1.page-title", null, "Artist"), emptyState("Couldn't load this artist.", errorText(e), { error: true }));
    return null;
  }
  const counts = [];
  if (artist.album_count) counts.push(plural(artist.album_count, "album"));
  if (artist.track_count) counts.push(plural(artist.track_count, "song"));
  const header = h("header.page-header.artist-header", null,
    cover(artist.images, 300, { cls: "header-cover", round: true, alt: artist.name }),
    h("div.header-text", null,
      h("span.header-kind", null, "Artist"),
      h("h1.header-title", null, artist.name),
      h("p.header-meta", null, [counts.join(" · "), (artist.genres || []).slice(0, 3).join(", ")].filter(Boolean).join(" · "))));
  let top = [];
  const play = (i) => player.playTracks(top, i, { context: { uri: artist.uri, name: artist.name, href: `/artist/${artist.id}` } });
  const playBtn = h("button.play-button.big", { type: "button", "aria-label": `Play ${artist.name}`, disabled: true, onclick: () => play(0) }, icon("play"));
  root.replaceChildren(header, h("div.action-bar", null, playBtn, followButton(artist)));

  const popular = h("section.section", { "aria-labelledby": "popular-title" }, h("div.section-head", null, h("h2", { id: "popular-title" }, "Popular")));
  const albums = section("Albums", { grid: true });
  const appears = section("Appears on");
  const related = section("Fans also like");
  root.append(popular, albums.el, appears.el, related.el);
  let list = null;
  await Promise.allSettled([
    api.get(`/v1/artists/${artist.id}/top-tracks`).then((res) => {
      top = res.tracks.map((t) => slimTrack(t));
      playBtn.disabled = !top.length;
      if (!top.length) { popular.append(emptyState("No tracks yet.")); return; }
      list = trackList({ tracks: top, scroller: main, label: "Popular tracks", play, showAlbum: true });
      popular.append(list.el);
    }, (e) => popular.append(emptyState("Couldn't load the tracks.", errorText(e), { error: true }))),
    // One list, split by Spotify's album_group: their own albums, then the ones they appear on.
    api.get(`/v1/artists/${artist.id}/albums`, { limit: 50 }).then((res) => {
      const own = res.items.filter((a) => a.album_group !== "appears_on");
      const guest = res.items.filter((a) => a.album_group === "appears_on");
      albums.fill(own.map((a) => albumCard(a, () => playAlbum(a.id))), { empty: "No albums of their own." });
      if (guest.length) appears.fill(guest.map((a) => albumCard(a, () => playAlbum(a.id))));
      else appears.el.remove();
    }, (e) => { albums.fail(e); appears.el.remove(); }),
    api.get(`/v1/artists/${artist.id}/related-artists`).then((res) => {
      if (!res.artists.length) { related.el.remove(); return; }
      related.fill(res.artists.slice(0, 12).map(artistCard));
    }, () => related.el.remove()),
  ]);
  return () => list?.destroy();
}
