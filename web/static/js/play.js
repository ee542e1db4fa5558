// Starting playback of whole things: an album, a playlist, an artist's top tracks.

import { api, allPages } from "./api.js";
import { player, slimTrack } from "./player.js";
import { toast, errorText } from "./ui/dom.js";
import { warm } from "./media.js";

function albumRef(album) {
  return { id: album.id, name: album.name, images: album.images || [] };
}

/** The tracks of an album object (its first page, then the rest), each with the album attached. */
export async function albumTracks(album) {
  let items = album.tracks?.items || [];
  if (album.tracks && album.tracks.total > items.length) {
    items = await allPages(`/v1/albums/${album.id}/tracks`, {}, { limit: 50 });
  }
  return items.map((t) => slimTrack(t, albumRef(album)));
}

export async function playAlbum(id, index = 0) {
  try {
    const album = await api.get(`/v1/albums/${id}`);
    const tracks = await albumTracks(album);
    warm(tracks.slice(index, index + 3).map((t) => t.id));
    player.playTracks(tracks, index, { context: { uri: album.uri, name: album.name, href: `/album/${id}` } });
  } catch (e) {
    toast(`Can't play this album: ${errorText(e)}`, { error: true });
  }
}

/** Playlist items that still name a track, as player tracks. */
export function playlistTracks(items) {
  return items.map((it) => it.track || it.item).filter(Boolean).map((t) => slimTrack(t));
}

export async function playPlaylist(id, index = 0) {
  try {
    const pl = await api.get(`/v1/playlists/${id}`);
    const first = playlistTracks(pl.tracks.items);
    const more = pl.tracks.total > pl.tracks.items.length
      ? () => allPages(`/v1/playlists/${id}/tracks`, {}, { limit: 100 })
        .then((items) => playlistTracks(items).slice(first.length))
      : null;
    player.playTracks(first, index, { context: { uri: pl.uri, name: pl.name, href: `/playlist/${id}` }, more });
  } catch (e) {
    toast(`Can't play this playlist: ${errorText(e)}`, { error: true });
  }
}

export function playTracks(tracks, index, context = null) {
  player.playTracks(tracks.map((t) => slimTrack(t)), index, { context });
}

/** Play a radio station (spotify:station:<kind>:<id>, see docs/radio.md): its first 50 tracks,
 * then the next 50 once they are queued. */
export async function playStation(uri, name = "Radio") {
  try {
    const st = await api.get(`/v1/stations/${uri}`, { limit: 50 });
    const first = st.tracks.items.map((t) => slimTrack(t));
    if (!first.length) { toast("Nothing to play on this station yet"); return; }
    const more = () => api.get(`/v1/stations/${uri}`, { offset: 50, limit: 50 })
      .then((next) => next.tracks.items.map((t) => slimTrack(t)));
    player.playTracks(first, 0, { context: { uri: st.uri, name: st.name || name, href: null }, more });
  } catch (e) {
    toast(`Can't start this radio: ${errorText(e)}`, { error: true });
  }
}
