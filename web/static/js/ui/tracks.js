// Track lists: rows with play, save, menu and drag; a virtualised list for long ones; keyboard control.

import { h, icon, setIcon, fmtTime, artistLinks, cover, toast, errorText } from "./dom.js";
import { showMenu } from "./menu.js";
import { VirtualList, arraySource } from "./vlist.js";
import { playback } from "../playback.js";
import { slimTrack } from "../track-shape.js";
import { isSaved, setSaved, canEdit, on } from "../state.js";
import { chooseAndAdd } from "../playlists.js";
import { navigate } from "../router.js";
import { warm } from "../media.js";
import { playStation } from "../play.js";
import { download } from "../downloads.js";

const ROW_HEIGHT = 56;
const DRAG_TYPE = "application/x-musicd-tracks";

/** What is being dragged (the same page only; other apps get the URIs as text). */
export let dragged = null;

export function startDrag(e, tracks, origin = null) {
  dragged = { tracks, origin };
  e.dataTransfer.effectAllowed = origin ? "copyMove" : "copy";
  e.dataTransfer.setData(DRAG_TYPE, JSON.stringify(tracks.map((t) => t.id)));
  e.dataTransfer.setData("text/plain", tracks.map((t) => t.uri || `spotify:track:${t.id}`).join("\n"));
  document.body.classList.add("dragging-tracks");
}

export function endDrag() {
  dragged = null;
  document.body.classList.remove("dragging-tracks");
}

export function isTrackDrag(e) {
  return e.dataTransfer && [...e.dataTransfer.types].includes(DRAG_TYPE);
}

function artistNames(t) {
  return (t.artists || []).map((a) => a.name).join(", ");
}

/** The "…" menu of a track; `extra` adds items (remove from playlist, move up/down). */
export function trackMenu(track, { anchor = null, point = null, extra = [] } = {}) {
  const t = slimTrack(track);
  const items = [
    { label: "Play next", icon: "play", action: () => { playback.addToQueue([t], { next: true }); toast(`“${t.name}” plays next`); } },
    { label: "Add to queue", icon: "queue", action: () => { playback.addToQueue([t]); toast(`Added “${t.name}” to the queue`); } },
    "-",
    { label: "Add to playlist…", icon: "plus", disabled: !canEdit(), action: () => chooseAndAdd([t]) },
    { label: "Save to Liked songs", icon: "heart", disabled: !canEdit(), action: async () => {
      try { await setSaved(t.id, true); toast("Saved to Liked songs"); } catch (e) { toast(errorText(e), { error: true }); }
    } },
    "-",
    { label: "Start radio", icon: "play", action: () => playStation(`spotify:station:track:${t.id}`, `${t.name} Radio`) },
    t.kind !== "episode" && !t.origin ? { label: "Download", icon: "note", action: () => download("tracks", t.id, t.name) } : null,
    "-",
    t.album?.id ? { label: "Go to album", icon: "library", action: () => navigate(`/album/${t.album.id}`) } : null,
    t.artists?.[0] ? { label: "Go to artist", icon: "person", action: () => navigate(`/artist/${t.artists[0].id}`) } : null,
    ...(extra.length ? ["-", ...extra] : []),
  ];
  showMenu(items, { anchor, point, label: `Options for ${t.name}` });
}

function saveButton(track) {
  const b = h("button.icon-button.save-button", {
    type: "button", "aria-label": `Save “${track.name}” to Liked songs`, "aria-pressed": "false", disabled: !canEdit(),
    onclick: async (e) => {
      e.stopPropagation();
      const value = b.getAttribute("aria-pressed") !== "true";
      try {
        await setSaved(track.id, value);
      } catch (err) {
        toast(errorText(err), { error: true });
      }
    },
  }, icon("heart-outline"));
  isSaved(track.id).then((v) => markSaved(b, v));
  return b;
}

export function markSaved(b, value) {
  b.setAttribute("aria-pressed", String(value));
  b.classList.toggle("on", value);
  setIcon(b, value ? "heart" : "heart-outline");
}

/**
 * A list of tracks. `source` is a vlist source (or pass `tracks`); `play(index)` starts playback;
 * `playlist` = {editable, onMove(from, to), onRemove(index), onDropTracks(tracks, position)} for playlists.
 */
export function trackList({
  tracks = null, source = null, scroller, play, label = "Tracks", showAlbum = true, showCover = true,
  numbering = "index", playlist = null, added = false, keys = true,
}) {
  const src = source || arraySource(tracks);
  const header = h("div.track-header", { "aria-hidden": "true" },
    h("span.col-index", null, "#"), h("span.col-title", null, "Title"),
    showAlbum ? h("span.col-album", null, "Album") : null,
    added ? h("span.col-added", null, "Added") : null,
    h("span.col-save"), h("span.col-duration", null, icon("clock")), h("span.col-more"));
  let list = null;
  const renderRow = (item, i) => {
    if (item === undefined) return h("div.track-row.placeholder", { "aria-busy": "true" }, h("span.skeleton-line"));
    const t = item.track || item;
    return trackRow(t, i, { showAlbum, showCover, numbering, playlist, play, addedAt: added ? item.added_at : null });
  };
  list = new VirtualList({ source: src, renderRow, scroller, rowHeight: ROW_HEIGHT, label, className: "track-list", keys });
  const root = h(`div.tracks${showAlbum ? "" : ".no-album"}${added ? ".with-added" : ""}`, null, header, list.el);
  const offTrack = (() => {
    const fn = () => list.refresh();
    playback.addEventListener("track", fn);
    return () => playback.removeEventListener("track", fn);
  })();
  const offSaved = on("saved", () => list.refresh());
  if (playlist?.editable) enableReorder(list, playlist);
  warm(src.items ? src.items.slice(0, 60).filter(Boolean).map((x) => (x.track || x).id) : []);
  return {
    el: root, list,
    destroy: () => { list.destroy(); offTrack(); offSaved(); },
  };
}

/** "from Alice's server" under an item mirrored from a friend's server (and whether it answers now). */
export function sourceLabel(source) {
  if (!source) return null;
  return h("span.source-label", { title: source.available ? `From ${source.name}` : `${source.name} is unavailable right now` },
    ` · from ${source.name}${source.available ? "" : " (unavailable)"}`);
}

function trackRow(t, i, { showAlbum, showCover, numbering, playlist, play, addedAt }) {
  const current = playback.track?.id === t.id;
  const num = numbering === "track" ? (t.track_number || i + 1) : i + 1;
  const playBtn = h("button.row-play", {
    type: "button", "aria-label": `Play “${t.name}”`, tabindex: "-1",
    onclick: (e) => { e.stopPropagation(); play(i); },
  }, icon("play"));
  const extra = [];
  if (playlist?.editable) {
    extra.push(
      { label: "Move up", icon: "back", disabled: i === 0, action: () => playlist.onMove(i, i - 1) },
      { label: "Move down", icon: "forward", action: () => playlist.onMove(i, i + 2) },
      { label: "Remove from this playlist", icon: "delete", action: () => playlist.onRemove(i, t) },
    );
  }
  const moreBtn = h("button.icon-button.more-button", {
    type: "button", "aria-label": `More options for “${t.name}”`, "aria-haspopup": "menu", tabindex: "-1",
    onclick: (e) => { e.stopPropagation(); trackMenu(t, { anchor: moreBtn, extra }); },
  }, icon("more"));
  const title = h("div.col-title", null,
    showCover ? cover(t.album?.images, 64, { cls: "row-cover" }) : null,
    h("div.title-block", null,
      h("span.track-name", { title: t.name }, t.name),
      h("span.track-artists", null, artistLinks(t.artists), sourceLabel(t.source))));
  const row = h(`div.track-row${current ? ".is-current" : ""}${t.source && !t.source.available ? ".is-unavailable" : ""}`, {
    "aria-label": `${t.name} by ${artistNames(t)}`, "aria-current": current ? "true" : null,
    draggable: "true", dataset: { trackId: t.id },
    ondblclick: () => play(i),
    onkeydown: (e) => {
      if (e.target !== row) return;
      if (e.key === "Enter") { e.preventDefault(); play(i); }
      else if (e.key === "ContextMenu" || (e.key === "F10" && e.shiftKey)) { e.preventDefault(); trackMenu(t, { anchor: moreBtn, extra }); }
      else if (playlist?.editable && e.altKey && e.key === "ArrowUp" && i > 0) { e.preventDefault(); playlist.onMove(i, i - 1, { focus: i - 1 }); }
      else if (playlist?.editable && e.altKey && e.key === "ArrowDown") { e.preventDefault(); playlist.onMove(i, i + 2, { focus: i + 1 }); }
      else if (playlist?.editable && e.key === "Delete") { e.preventDefault(); playlist.onRemove(i, t); }
    },
    oncontextmenu: (e) => { e.preventDefault(); trackMenu(t, { point: { x: e.clientX, y: e.clientY }, extra }); },
    ondragstart: (e) => startDrag(e, [slimTrack(t)], playlist?.editable ? { list: playlist, index: i } : null),
    ondragend: endDrag,
  },
  h("div.col-index", null, h("span.num", null, current ? icon("volume", "icon playing-icon") : String(num)), playBtn),
  title,
  showAlbum ? h("div.col-album", null, t.album?.id ? h("a", { href: `/album/${t.album.id}`, "data-link": true, tabindex: "-1" }, t.album.name) : "") : null,
  addedAt !== null && addedAt !== undefined ? h("div.col-added", null, addedAt ? new Date(addedAt).toLocaleDateString() : "") : null,
  h("div.col-save", null, saveButton(t)),
  h("div.col-duration", null, fmtTime((t.duration_ms || 0) / 1000)),
  h("div.col-more", null, moreBtn));
  // Tap to play on touch screens, where double click does not exist.
  if (matchMedia("(pointer: coarse)").matches) row.addEventListener("click", (e) => { if (!e.target.closest("a,button")) play(i); });
  for (const a of row.querySelectorAll(".track-artists a")) a.tabIndex = -1;
  return row;
}

/** Drag rows to reorder (playlists), drop tracks from elsewhere to insert them. */
function enableReorder(list, playlist) {
  let marker = null;
  const clearMarker = () => {
    marker?.classList.remove("drop-before", "drop-after");
    marker = null;
  };
  const target = (e) => {
    const row = e.target.closest(".track-row[data-index]");
    if (!row) return null;
    const r = row.getBoundingClientRect();
    const after = e.clientY > r.top + r.height / 2;
    return { row, index: Number(row.dataset.index) + (after ? 1 : 0), after };
  };
  list.el.addEventListener("dragover", (e) => {
    if (!isTrackDrag(e) && !dragged) return;
    const t = target(e);
    if (!t) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = dragged?.origin?.list === playlist ? "move" : "copy";
    if (marker !== t.row) clearMarker();
    marker = t.row;
    t.row.classList.toggle("drop-after", t.after);
    t.row.classList.toggle("drop-before", !t.after);
  });
  list.el.addEventListener("dragleave", (e) => { if (!list.el.contains(e.relatedTarget)) clearMarker(); });
  list.el.addEventListener("drop", (e) => {
    const t = target(e);
    clearMarker();
    if (!t || !dragged) return;
    e.preventDefault();
    const d = dragged;
    endDrag();
    if (d.origin?.list === playlist) playlist.onMove(d.origin.index, t.index);
    else playlist.onDropTracks?.(d.tracks, t.index);
  });
}
