// A playlist: details, play, follow, edit (rename, public, collaborative, delete), share link, and its
// tracks with drag-and-drop (or Alt+↑/↓) reordering, removal, and drops from anywhere to add.

import { api } from "../api.js";
import { h, icon, cover, fmtLength, plural, emptyState, errorText, toast, copyText } from "../ui/dom.js";
import { showMenu, dialog, confirmAction } from "../ui/menu.js";
import { trackList } from "../ui/tracks.js";
import { pagedSource } from "../ui/vlist.js";
import { player, slimTrack } from "../player.js";
import { playlistTracks } from "../play.js";
import { state, loadPlaylists, canEdit } from "../state.js";
import { addTracks } from "../playlists.js";
import { navigate, refresh } from "../router.js";
import { livePlaylist } from "../playlist-live.js";
import { realtime } from "../realtime.js";
import { offlineToggle } from "../offline/toggle.js";

const PAGE = 100;

function detailsForm(pl, close) {
  const f = h("form.form", {
    onsubmit: (e) => {
      e.preventDefault();
      const name = f.elements.name.value.trim();
      if (!name) return;
      close({
        name, description: f.elements.description.value.trim(),
        public: f.elements.public.checked, collaborative: f.elements.collaborative.checked,
      });
    },
  },
  h("div.field", null, h("label", { for: "pl-name" }, "Name"), h("input", { id: "pl-name", name: "name", value: pl.name, required: true, autofocus: true })),
  h("div.field", null, h("label", { for: "pl-desc" }, "Description"), h("textarea", { id: "pl-desc", name: "description", rows: "3" }, pl.description || "")),
  h("label.check", null, h("input", { type: "checkbox", name: "public", checked: pl.public && !pl.collaborative, disabled: pl.collaborative }), " Public: anyone on this server can find and play it"),
  h("label.check", null, h("input", {
    type: "checkbox", name: "collaborative", checked: pl.collaborative,
    // As on Spotify, a collaborative playlist is never public.
    onchange: (e) => {
      const pub = e.target.form.elements.public;
      pub.disabled = e.target.checked;
      if (e.target.checked) pub.checked = false;
    },
  }), " Collaborative: people you invite can change it (never public)"),
  h("div.dialog-actions", null,
    h("button.button", { type: "button", onclick: () => close(null) }, "Cancel"),
    h("button.button.primary", { type: "submit" }, "Save")));
  return f;
}

async function share(pl) {
  try {
    const link = await api.post(`/v1/playlists/${pl.id}/share`, {});
    const copied = await copyText(link.url);
    await dialog("Share link", (close) => h("div.share-box", null,
      h("p", null, "Anyone with this link can listen to the playlist without an account until ",
        link.expires_at ? new Date(link.expires_at).toLocaleDateString() : "you revoke it", "."),
      h("div.copy-row", null,
        h("input", { value: link.url, readonly: true, "aria-label": "Share link", onfocus: (e) => e.target.select() }),
        h("button.button.primary", { type: "button", onclick: async () => { await copyText(link.url); toast("Link copied"); close(); } }, "Copy")),
      copied ? h("p.muted", null, "The link is on your clipboard.") : null));
  } catch (e) {
    toast(`Could not make a share link: ${errorText(e)}`, { error: true });
  }
}

export async function render({ root, params }) {
  const main = document.getElementById("main");
  const id = params.id;
  // Changes made elsewhere (a track added from a menu) while this page loads are not lost.
  let changedMeanwhile = false;
  let onChangedNow = () => { changedMeanwhile = true; };
  const onChanged = (e) => { if (e.detail?.id === id) onChangedNow(); };
  window.addEventListener("musicd:playlist-changed", onChanged);
  // Changes that arrive over the channel while the page loads are replayed once it has.
  const early = [];
  const offEarly = realtime.on("playlist_changed", (d) => { if (d.playlist_id === id) early.push(d); });
  const releaseEarly = realtime.subscribe(`playlist:${id}`);
  root.append(h("div.page-header.skeleton-header", { "aria-busy": "true" }, h("div.header-cover.skeleton")));
  let pl;
  try {
    pl = await api.get(`/v1/playlists/${id}`);
  } catch (e) {
    window.removeEventListener("musicd:playlist-changed", onChanged);
    offEarly();
    releaseEarly();
    root.replaceChildren(h("h1.page-title", null, "Playlist"), emptyState("Couldn't load this playlist.", errorText(e), { error: true }));
    return null;
  }
  const mine = pl.owner?.id === state.me.id;
  const isMix = pl.owner?.id === "musicd";
  const editable = canEdit() && !isMix && (mine || pl.collaborative);
  let source = null;
  let live = null;
  let list = null;

  const makeSource = (first) => pagedSource(
    (offset, limit) => api.get(`/v1/playlists/${id}/tracks`, { offset, limit }),
    { pageSize: PAGE, first });

  const kind = isMix ? "Mix" : pl.collaborative ? "Collaborative playlist" : pl.public ? "Public playlist" : "Private playlist";
  const meta = h("p.header-meta");
  const showMeta = (total, ms) => {
    meta.replaceChildren(pl.owner?.display_name || pl.owner?.id || "", ` · ${plural(total, "song")}`, ms ? `, ${fmtLength(ms)}` : "");
  };
  const header = h("header.page-header", null,
    cover(pl.images, 300, { cls: "header-cover", alt: `Cover of ${pl.name}` }),
    h("div.header-text", null,
      h("span.header-kind", null, kind),
      h("h1.header-title", null, pl.name),
      h("p.header-description", { hidden: !pl.description }, pl.description || ""),
      meta));
  showMeta(pl.tracks.total, pl.tracks.total === pl.tracks.items.length
    ? pl.tracks.items.reduce((s, it) => s + ((it.track || it.item)?.duration_ms || 0), 0) : 0);

  const ctx = { uri: pl.uri, name: pl.name, href: `/playlist/${id}` };
  const play = async (i) => {
    const loaded = source.items.slice(0, Math.min(source.total, i + 200));
    const tracks = [];
    let start = 0;
    loaded.forEach((it, j) => {
      const t = it && (it.track || it.item);
      if (!t) return;
      if (j === i) start = tracks.length;
      tracks.push(slimTrack(t));
    });
    const more = source.total > loaded.length
      ? () => source.slice(loaded.length, 2000).then((items) => playlistTracks(items.filter(Boolean)))
      : null;
    player.playTracks(tracks, start, { context: ctx, more });
  };

  // Refetch the list (a change this view could not replay): the rows are replaced, the scroll position kept.
  const reload = async () => {
    const fresh = await api.get(`/v1/playlists/${id}`);
    const first = await api.get(`/v1/playlists/${id}/tracks`, { offset: 0, limit: PAGE });
    source = makeSource(first);
    list?.list.reset(source);
    showMeta(first.total, 0);
    emptyNote.hidden = first.total > 0;
    return fresh.snapshot_id;
  };
  // Redraw after a change replayed in place: same rows, same scroll position.
  const redraw = () => {
    const vl = list.list;
    vl.setTotal(source.total);
    vl.update();
    vl.refresh();
    showMeta(source.total, 0);
    emptyNote.hidden = source.total > 0;
  };
  const onDetails = (op) => {
    if (op.name !== null && op.name !== undefined) { pl.name = op.name; header.querySelector(".header-title").textContent = op.name; }
    if (op.description !== null && op.description !== undefined) {
      pl.description = op.description;
      const d = header.querySelector(".header-description");
      d.textContent = op.description;
      d.hidden = !op.description;
    }
  };

  const onMove = async (from, insertBefore, { focus = null } = {}) => {
    const to = insertBefore > from ? insertBefore - 1 : insertBefore;
    if (to === from || to < 0 || to >= source.total) return;
    // Move it on screen first; the server's answer follows (a conflict reloads the list).
    const items = source.items;
    if (items[from] !== undefined && items[to] !== undefined) {
      const [moved] = items.splice(from, 1);
      items.splice(to, 0, moved);
      list.list.refresh();
      if (focus !== null) list.list.focusRow(focus);
    }
    try {
      await live.ownEdit((snapshot) => api.put(`/v1/playlists/${id}/tracks`, { range_start: from, insert_before: insertBefore, snapshot_id: snapshot }));
    } catch (e) {
      // The list was refetched: what is on screen is the latest.
      toast(e.status === 409 || e.stale ? "The playlist changed meanwhile; here is the latest." : `Could not move it: ${errorText(e)}`, { error: true });
    }
  };
  const onRemove = async (i, t) => {
    try {
      // Not removed on screen first: the change comes back over the realtime channel and is applied in place.
      await api.del(`/v1/playlists/${id}/tracks`, { items: [{ uri: t.uri || `spotify:track:${t.id}`, positions: [i] }], snapshot_id: live.snapshot });
      toast(`Removed “${t.name}”`);
      loadPlaylists();
    } catch (e) {
      toast(`Could not remove it: ${errorText(e)}`, { error: true });
      live.setSnapshot(await reload());
    }
  };
  const onDropTracks = (tracks, position) => addTracks(pl, tracks, { position }); // the change event reloads

  const more = h("button.icon-button.big-more", { type: "button", "aria-label": `More options for ${pl.name}`, "aria-haspopup": "menu" }, icon("more"));
  more.addEventListener("click", () => showMenu([
    { label: "Add to queue", icon: "queue", action: async () => {
      const items = await source.slice(0, 1000);
      const tracks = playlistTracks(items.filter(Boolean));
      player.addToQueue(tracks);
      toast(`Added ${plural(tracks.length, "track")} to the queue`);
    } },
    mine && !isMix ? { label: "Edit details", icon: "edit", action: async () => {
      const changes = await dialog("Edit details", (close) => detailsForm(pl, close));
      if (!changes) return;
      try {
        await api.put(`/v1/playlists/${id}`, changes);
        await loadPlaylists();
        refresh();
      } catch (e) { toast(`Could not save: ${errorText(e)}`, { error: true }); }
    } } : null,
    !isMix && (mine || pl.public) ? { label: "Copy share link", icon: "link", disabled: !mine, action: () => share(pl) } : null,
    mine && !isMix ? "-" : null,
    mine && !isMix ? { label: "Delete playlist", icon: "delete", action: async () => {
      if (!await confirmAction("Delete playlist?", `“${pl.name}” will be deleted for everyone.`)) return;
      try {
        await api.del(`/v1/playlists/${id}`);
        await loadPlaylists();
        toast(`Deleted “${pl.name}”`);
        navigate("/library/playlists", { replace: true });
      } catch (e) { toast(`Could not delete it: ${errorText(e)}`, { error: true }); }
    } } : null,
  ], { anchor: more, label: `Options for ${pl.name}` }));

  const actions = h("div.action-bar", null,
    h("button.play-button.big", { type: "button", "aria-label": `Play ${pl.name}`, onclick: () => play(0) }, icon("play")));
  if (!mine && !isMix && canEdit()) {
    const follow = h("button.button.outline", { type: "button", "aria-pressed": "false" }, "Follow");
    const show = (v) => { follow.setAttribute("aria-pressed", String(v)); follow.textContent = v ? "Following" : "Follow"; };
    api.get(`/v1/playlists/${id}/followers/contains`, { ids: state.me.id }).then((r) => show(Boolean(r[0])), () => {});
    follow.addEventListener("click", async () => {
      const v = follow.getAttribute("aria-pressed") !== "true";
      try {
        if (v) await api.put(`/v1/playlists/${id}/followers`, {});
        else await api.del(`/v1/playlists/${id}/followers`);
        show(v);
        loadPlaylists();
      } catch (e) { toast(errorText(e), { error: true }); }
    });
    actions.append(follow);
  }
  if (canEdit()) actions.append(offlineToggle("playlist", pl.id, pl.name));
  actions.append(more);
  const emptyNote = h("div.empty-playlist", { hidden: pl.tracks.total > 0 },
    emptyState("This playlist is empty.", editable ? "Add tracks from any track's “…” menu, or drag them onto the playlist in the sidebar." : ""));
  root.replaceChildren(header, actions, emptyNote);

  source = makeSource(pl.tracks);
  list = trackList({
    source, scroller: main, play, label: `Tracks of ${pl.name}`, added: !isMix,
    playlist: editable ? { editable: true, onMove, onRemove, onDropTracks } : null,
  });
  root.append(list.el);

  live = livePlaylist(id, pl.snapshot_id, {
    getSource: () => source, redraw, refetch: reload, onDetails, me: state.me.id,
    onDeleted: (d) => {
      if (d.by === state.me.id) return; // this page's own delete navigates already
      toast(`“${pl.name}” was deleted by its owner`);
      navigate("/library/playlists", { replace: true });
    },
    onAccess: () => refresh(), // invited or uninvited: what this page lets you do changed
  });
  offEarly();
  releaseEarly();
  early.forEach((d) => live.push(d));
  // A change made from this tab (a track added from a menu) comes back over the channel; without the
  // channel, refetch.
  onChangedNow = async () => { if (realtime.status !== "open") live.setSnapshot(await reload()); };
  if (changedMeanwhile) onChangedNow();
  return () => {
    live.stop();
    list.destroy();
    window.removeEventListener("musicd:playlist-changed", onChanged);
  };
}
