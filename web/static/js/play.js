// Starting playback of whole things: an album, a playlist, an artist's top tracks.

import { api, allPages } from "./api.js";
import { player, slimTrack } from "./player.js";
import { toast, errorText } from "./ui/dom.js";
import { warm } from "./media.js";
import { playContext } from "./connect.js";

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

/** Play a radio station (spotify:station:<kind>:<id>, docs/radio.md) through the server's player
 * (`PUT /v1/me/player/play` with it as the context, this tab as the device): the server holds the endless
 * sequence and this tab follows it (connect.js). */
export async function playStation(uri, name = "Radio") {
  try {
    await playContext(uri);
  } catch (e) {
    toast(`Can't start ${name}: ${errorText(e)}`, { error: true });
  }
}
