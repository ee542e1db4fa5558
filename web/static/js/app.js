// The web player's entry point: session, shell (sidebar, top bar, player bar), routes, shortcuts.

import { api, loadTokens, logout, onSessionEnd } from "./api.js";
import { player } from "./player.js";
import { setupPlayerBar, setupShortcuts } from "./playerbar.js";
import { setupNowPlaying } from "./nowplaying.js";
import { route, startRouter, navigate, currentPath, queryParam } from "./router.js";
import { state, loadPlaylists, on, canEdit } from "./state.js";
import { h, icon, clear, debounce, setImageSigner, emptyState, cover } from "./ui/dom.js";
import { showMenu } from "./ui/menu.js";
import { signImage } from "./media.js";
import { createPlaylist, addTracks } from "./playlists.js";
import { dragged, endDrag, isTrackDrag } from "./ui/tracks.js";
import { realtime } from "./realtime.js";
import { setupConnect } from "./connect.js";
import { setupJam } from "./connect-ui.js";
import { jamMember, setupJamMember } from "./jam-member.js";
import { playback } from "./playback.js";
import { setupFriendsPanel } from "./friends.js";
import { setupEpisodes, syncRestoredEpisode } from "./episodes.js";

const $ = (id) => document.getElementById(id);

function toLogin() {
  const next = location.pathname + location.search;
  location.replace(`/login${next && next !== "/" ? `?next=${encodeURIComponent(next)}` : ""}`);
}

route("/", () => import("./views/home.js"));
route("/search", () => import("./views/search.js"));
route("/library", () => import("./views/library.js"));
route("/library/:section", () => import("./views/library.js"));
route("/album/:id", () => import("./views/album.js"));
route("/artist/:id", () => import("./views/artist.js"));
route("/playlist/:id", () => import("./views/playlist.js"));
route("/genre/:id", () => import("./views/genre.js"));
route("/queue", () => import("./views/queue.js"));
route("/jam/:code", () => import("./views/jam.js"));
route("/lyrics", () => import("./views/lyrics.js"));
route("/settings", () => import("./views/settings.js"));
route("/admin", () => import("./views/admin.js"));
route("/offline", () => import("./views/offline.js"));
route("/podcasts", () => import("./views/podcasts.js"));
route("/show/:id", () => import("./views/show.js"));

function renderSidebarPlaylists() {
  const ul = $("sidebar-playlists");
  clear(ul);
  const here = currentPath();
  for (const pl of state.playlists) {
    const a = h("a.sidebar-playlist", {
      href: `/playlist/${pl.id}`, "data-link": true, "aria-current": here === `/playlist/${pl.id}` ? "page" : null,
    }, cover(pl.images, 64, { cls: "sidebar-cover" }), h("span", null, pl.name));
    const editable = pl.owner?.id === state.me?.id || pl.collaborative;
    if (editable) {
      // Drop tracks on a playlist in the sidebar to add them at the end.
      a.addEventListener("dragover", (e) => {
        if (!dragged && !isTrackDrag(e)) return;
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
        a.classList.add("drop-target");
      });
      a.addEventListener("dragleave", () => a.classList.remove("drop-target"));
      a.addEventListener("drop", (e) => {
        e.preventDefault();
        a.classList.remove("drop-target");
        const d = dragged;
        endDrag();
        if (d) addTracks(pl, d.tracks);
      });
    }
    ul.append(h("li", null, a));
  }
  if (!state.playlists.length) ul.append(h("li.muted.sidebar-empty", null, "No playlists yet"));
}

function markNav(path) {
  const section = path === "/" ? "home" : path.split("/")[1];
  const map = { album: "library", artist: "library", playlist: "library", genre: "home", queue: "", lyrics: "",
    show: "podcasts" };
  const active = map[section] ?? section;
  for (const a of document.querySelectorAll("[data-nav]")) {
    if (a.dataset.nav === active) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  for (const a of document.querySelectorAll(".sidebar-playlist")) {
    if (a.getAttribute("href") === path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.body.dataset.route = section || "home";
}

function setupSearch() {
  const input = $("search-input");
  const form = $("search-form");
  const go = (replace) => {
    const q = input.value.trim();
    const target = q ? `/search?q=${encodeURIComponent(q)}` : "/search";
    navigate(target, { replace, focus: false });
  };
  const typed = debounce(() => go(currentPath() === "/search"), 180);
  input.addEventListener("input", typed);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    typed.cancel();
    go(currentPath() === "/search");
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") {
      // Into the results: the search page lists them as focusable items in order.
      const first = document.querySelector("#view [data-result]");
      if (first) { e.preventDefault(); typed.cancel(); first.focus(); }
    } else if (e.key === "Escape") {
      input.value = "";
      typed();
    }
  });
  window.addEventListener("popstate", () => {
    if (currentPath() === "/search") input.value = queryParam("q") || "";
  });
  if (currentPath() === "/search") input.value = queryParam("q") || "";
  return {
    focus: () => { input.focus(); input.select(); },
    // Leaving the search page (a click on a result) drops a search still waiting to be sent.
    left: () => { typed.cancel(); input.value = ""; },
  };
}

function setupUserMenu() {
  const button = $("user-button");
  $("user-name").textContent = state.me.display_name || state.me.username || "You";
  button.addEventListener("click", () => {
    showMenu([
      { label: "Settings", icon: "settings", action: () => navigate("/settings") },
      state.me.role === "admin" ? { label: "Admin", icon: "shield", action: () => navigate("/admin") } : null,
      "-",
      { label: "Log out", icon: "logout", action: doLogout },
    ], { anchor: button, label: "Account" });
  });
}

async function doLogout() {
  player.reset();
  realtime.stop(); // first: the server closes a revoked session's channel, and that close would ask who we are
  await logout();
  location.replace("/login");
}

function notFound(root) {
  root.append(h("h1.page-title", null, "Page not found"), emptyState("There is nothing at this address.", "Try the search, or go home."));
}

async function main() {
  if (!loadTokens()) return toLogin();
  onSessionEnd(toLogin);
  setImageSigner(signImage);
  try {
    state.me = await api.get("/v1/me");
    localStorage.setItem("musicd.me", JSON.stringify(state.me));
  } catch (e) {
    if (e.status === 401) return toLogin();
    // No network: the player still opens on what this browser keeps offline (views/offline.js).
    const known = e instanceof TypeError ? JSON.parse(localStorage.getItem("musicd.me") || "null") : null;
    if (!known) {
      clear($("view")).append(emptyState("The server can't be reached.", "Reload the page to try again.", { error: true }));
      return;
    }
    state.me = known;
    state.offline = true;
    if (currentPath() !== "/offline") history.replaceState(null, "", "/offline");
  }
  document.body.dataset.role = state.me.role;
  if (!player.quality && state.me.settings?.default_quality) $("player-quality").title = `Default: ${state.me.settings.default_quality}`;
  setupPlayerBar();
  setupNowPlaying();
  setupEpisodes();
  const search = setupSearch();
  setupShortcuts({ focusSearch: search.focus });
  setupUserMenu();
  $("nav-back").addEventListener("click", () => history.back());
  $("nav-forward").addEventListener("click", () => history.forward());
  $("new-playlist").addEventListener("click", () => createPlaylist());
  $("new-playlist").hidden = !canEdit();
  on("playlists", renderSidebarPlaylists);
  loadPlaylists();
  // Live: the realtime channel; the sidebar follows playlist changes, the panel friends' listening.
  setupConnect();
  setupJam();
  setupJamMember();
  realtime.start();
  const reloadPlaylists = debounce(loadPlaylists, 300);
  for (const type of ["playlist_created", "playlist_deleted", "playlist_follow_changed", "playlist_collaborators_changed"]) {
    realtime.on(type, reloadPlaylists);
  }
  realtime.on("playlist_changed", (d) => { if (d.kind === "details" || d.kind === "cover") reloadPlaylists(); });
  realtime.on("resync", reloadPlaylists);
  setupFriendsPanel($("friends-panel"));
  player.loadRestored();
  import("./offline/boot.js").then((m) => m.startOffline(player), (e) => console.warn("offline unavailable", e));
  syncRestoredEpisode();
  await startRouter({
    view: $("view"), scroller: $("main"), notFound,
    onNavigate: (path) => {
      markNav(path);
      if (path !== "/search") search.left();
    },
  });
  document.body.classList.add("ready");
  window.musicd = { player, playback, jam: jamMember, navigate, state, realtime };
}

main();
