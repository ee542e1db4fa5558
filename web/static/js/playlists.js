// Playlist actions shared by every page: create, add tracks (from menus or drops), the chooser dialog.

import { api } from "./api.js";
import { h, icon, toast, errorText, cover } from "./ui/dom.js";
import { dialog, promptText } from "./ui/menu.js";
import { state, loadPlaylists, editablePlaylists, canEdit } from "./state.js";
import { navigate } from "./router.js";

export async function createPlaylist({ name = null, tracks = [], open = true } = {}) {
  if (!canEdit()) {
    toast("Guest accounts cannot create playlists.", { error: true });
    return null;
  }
  const chosen = name ?? await promptText("Create playlist", { label: "Name", submit: "Create", value: `My playlist #${state.playlists.length + 1}` });
  if (!chosen) return null;
  try {
    const pl = await api.post("/v1/me/playlists", { name: chosen, public: false });
    if (tracks.length) await addTracks(pl, tracks, { quiet: true });
    await loadPlaylists();
    toast(`Created “${pl.name}”`);
    if (open) navigate(`/playlist/${pl.id}`);
    return pl;
  } catch (e) {
    toast(`Could not create the playlist: ${errorText(e)}`, { error: true });
    return null;
  }
}

/** Add `tracks` to playlist `pl` (at `position`, else at the end); 100 per request as the API takes. */
export async function addTracks(pl, tracks, { position = null, quiet = false } = {}) {
  try {
    let pos = position;
    let snapshot = null;
    for (let i = 0; i < tracks.length; i += 100) {
      const uris = tracks.slice(i, i + 100).map((t) => t.uri || `spotify:track:${t.id}`);
      const body = pos === null ? { uris } : { uris, position: pos };
      snapshot = (await api.post(`/v1/playlists/${pl.id}/tracks`, body)).snapshot_id;
      if (pos !== null) pos += uris.length;
    }
    if (!quiet) toast(tracks.length === 1 ? `Added to “${pl.name}”` : `Added ${tracks.length} tracks to “${pl.name}”`);
    window.dispatchEvent(new CustomEvent("musicd:playlist-changed", { detail: { id: pl.id, snapshot } }));
    loadPlaylists();
    return snapshot;
  } catch (e) {
    toast(`Could not add to “${pl.name}”: ${errorText(e)}`, { error: true });
    return null;
  }
}

/** The "Add to playlist" dialog: pick one of the editable playlists, or make a new one. */
export async function chooseAndAdd(tracks) {
  if (!canEdit()) {
    toast("Guest accounts cannot change playlists.", { error: true });
    return;
  }
  if (!state.playlists.length) await loadPlaylists();
  const choice = await dialog("Add to playlist", (close) => {
    const list = h("ul.chooser", { "aria-label": "Playlists" });
    list.append(h("li", null, h("button.chooser-item.new", { type: "button", onclick: () => close("new") },
      h("span.chooser-icon", null, icon("plus")), h("span", null, "New playlist"))));
    for (const pl of editablePlaylists()) {
      list.append(h("li", null, h("button.chooser-item", { type: "button", onclick: () => close(pl) },
        cover(pl.images, 64, { cls: "chooser-cover" }), h("span", null, pl.name))));
    }
    return list;
  }, { className: "chooser-dialog" });
  if (choice === "new") await createPlaylist({ tracks, open: false });
  else if (choice) await addTracks(choice, tracks);
}
