// Offline: what this browser keeps for listening without a network, how far its downloads are, the licence,
// and the plays waiting to be sent. Works with the network gone (everything here comes from IndexedDB).

import { h, fmtTime, emptyState, plural } from "../ui/dom.js";
import { player } from "../player.js";
import { offline } from "../offline/manager.js";
import { tracks } from "../offline/store.js";
import { offlineToggle } from "../offline/toggle.js";

function row(rec, i, list) {
  const t = rec.track || { name: rec.id, artists: [] };
  const pct = rec.size ? Math.floor((100 * rec.got) / rec.size) : 0;
  const play = () => player.playTracks(list.map((r) => r.track), i, { context: { uri: "musicd:offline", name: "Offline" } });
  return h("li.offline-track", { dataset: { trackId: rec.id, complete: rec.complete ? "1" : "0" } },
    h("button.icon-button.offline-play", { type: "button", "aria-label": `Play “${t.name}”`, disabled: !rec.complete, onclick: play }, "▶"),
    h("div.title-block", null, h("span.track-name", null, t.name),
      h("span.track-artists", null, (t.artists || []).map((a) => a.name).join(", "))),
    h("span.offline-progress", null, rec.complete ? "Downloaded" : `${pct}%`),
    h("span.col-duration", null, fmtTime((t.duration_ms || 0) / 1000)));
}

export function render({ root }) {
  const status = h("p.offline-status", { id: "offline-status", role: "status" });
  const licence = h("p.muted", { id: "offline-licence" });
  const list = h("ol.offline-list", { id: "offline-tracks", "aria-label": "Kept offline" });
  const waiting = h("p.muted", { id: "offline-plays" });
  root.append(h("div.page-head-row", null, h("h1.page-title", null, "Offline"), offlineToggle("liked", "", "Liked songs")),
    status, licence, list, waiting);
  let timer = null;
  const draw = async () => {
    timer = null;
    const all = (await tracks.all().catch(() => [])).sort((a, b) => a.added - b.added);
    const done = all.filter((r) => r.complete);
    status.textContent = offline.message || (offline.status === "downloading"
      ? `Downloading: ${done.length} of ${all.length}` : `${done.length} of ${plural(all.length, "track")} downloaded`);
    status.dataset.state = offline.status;
    const p = offline.licence;
    licence.textContent = !offline.device ? "This browser keeps nothing offline yet: use “Download” on an album or a playlist."
      : p ? `Licence ${p.status}, valid until ${new Date(p.expires_at * 1000).toLocaleString()}` : "";
    if (!all.length) list.replaceChildren(h("li", null, emptyState("Nothing downloaded.", "")));
    else list.replaceChildren(...all.map((r) => row(r, done.indexOf(r), done)));
    const n = await offline.pendingPlays().catch(() => 0);
    waiting.textContent = n ? `${plural(n, "play")} made offline, sent when the network is back` : "";
  };
  const later = () => { timer ??= setTimeout(draw, 150); };
  offline.addEventListener("change", later);
  offline.addEventListener("progress", later);
  draw();
  return () => {
    offline.removeEventListener("change", later);
    offline.removeEventListener("progress", later);
    clearTimeout(timer);
  };
}
