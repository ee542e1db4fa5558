// Offline listening starts here (called by app.js once the user is known): the service worker that keeps the
// app shell, the player's hooks to play downloads and queue their plays, and the device's sync loop.

import { offline } from "./manager.js";

export function startOffline(player) {
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((e) => console.warn("no service worker", e));
  }
  player.offlineSource = (trackId) => offline.source(trackId);
  player.offlinePlayed = (trackId, startedAt, msPlayed) => offline.played(trackId, startedAt, msPlayed);
  window.musicdOffline = offline; // for tools and tests, like window.musicd
  offline.start().catch((e) => console.warn("offline sync failed", e));
  return offline;
}
