// Home: podcast episodes to continue, recently played, mixes made from the library, new releases, genres,
// the user's top tracks.

import { api } from "../api.js";
import { h } from "../ui/dom.js";
import { section, albumCard, playlistCard, genreCard } from "../ui/cards.js";
import { playAlbum, playPlaylist, playTracks } from "../play.js";
import { trackList } from "../ui/tracks.js";
import { state } from "../state.js";
import { liveView } from "../realtime.js";
import { refresh } from "../router.js";
import { episodeRow } from "./show.js";

function greeting() {
  const hr = new Date().getHours();
  if (hr < 5) return "Good night";
  if (hr < 12) return "Good morning";
  if (hr < 18) return "Good afternoon";
  return "Good evening";
}

export async function render({ root }) {
  const name = state.me?.display_name || state.me?.username || "";
  root.append(h("h1.page-title", null, name ? `${greeting()}, ${name}` : greeting()));
  const resume = h("section.section.continue-listening", { "aria-labelledby": "continue-title" });
  const recent = section("Recently played");
  const mixes = section("Made from your library");
  const fresh = section("New releases", { href: "/library/albums" });
  const genres = section("Genres");
  const top = h("section.section", { "aria-labelledby": "top-tracks-title" });
  root.append(resume, recent.el, mixes.el, fresh.el, genres.el, top);
  let topList = null;

  const jobs = [
    api.get("/v1/me/episodes/in-progress", { limit: 4 }).then((res) => {
      if (!res.items.length) return;
      resume.append(h("div.section-head", null, h("h2", { id: "continue-title" }, "Continue listening"),
        h("a.section-more", { href: "/podcasts", "data-link": true }, "Podcasts")),
      h("ol.episode-list", { "aria-label": "Continue listening" }, res.items.map((ep) => episodeRow(ep, null))));
    }, () => {}),
    api.get("/v1/me/player/recently-played", { limit: 50 }).then((res) => {
      // One card per album, most recent first.
      const seen = new Set();
      const cards = [];
      for (const it of res.items) {
        const al = it.track?.album;
        if (!al || seen.has(al.id)) continue;
        seen.add(al.id);
        cards.push(albumCard({ ...al, artists: it.track.artists }, () => playAlbum(al.id)));
        if (cards.length >= 8) break;
      }
      recent.fill(cards, { empty: "Play something and it will show here." });
    }, (e) => recent.fail(e)),
    api.get("/v1/browse/featured-playlists", { limit: 12 }).then((res) => {
      mixes.fill(res.playlists.items.map((p) => playlistCard(p, () => playPlaylist(p.id))), { empty: "Mixes appear once the library has music." });
    }, (e) => mixes.fail(e)),
    api.get("/v1/browse/new-releases", { limit: 12 }).then((res) => {
      fresh.fill(res.albums.items.map((a) => albumCard(a, () => playAlbum(a.id))), { empty: "No albums yet: add music to the library folders and scan." });
    }, (e) => fresh.fail(e)),
    api.get("/v1/browse/categories", { limit: 50 }).then((res) => {
      genres.fill(res.categories.items.map(genreCard), { empty: "No genres yet." });
    }, (e) => genres.fail(e)),
    api.get("/v1/me/top/tracks", { limit: 5, time_range: "short_term" }).then((res) => {
      if (!res.items.length) return;
      top.append(h("div.section-head", null, h("h2", { id: "top-tracks-title" }, "On repeat")));
      topList = trackList({
        tracks: res.items, scroller: document.getElementById("main"), label: "Your top tracks",
        play: (i) => playTracks(res.items, i, { uri: null, name: "On repeat" }),
      });
      top.append(topList.el);
    }, () => {}),
  ];
  await Promise.allSettled(jobs);
  // New releases and genres follow the library; "recently played" follows the user's own plays.
  const live = liveView(refresh, { topics: ["library"], types: ["library_changed", "now_playing"],
    when: (d) => d.state === undefined || d.state === "ended" || d.state === "scrobbled", wait: 1500 });
  return () => { topList?.destroy(); live(); };
}
