// The small part of a track that the player keeps, saves across reloads and shows (bar, queue, lyrics).

/** The small part of a track the player keeps (and saves across reloads). */
export function slimTrack(t, album = null) {
  const al = t.album || album || {};
  return {
    id: t.id, name: t.name, uri: t.uri || `spotify:track:${t.id}`, duration_ms: t.duration_ms || 0,
    artists: (t.artists || []).map((a) => ({ id: a.id, name: a.name })),
    album: { id: al.id, name: al.name, images: al.images || [] },
  };
}
