// The friend-activity panel: what the people you follow (and who share their listening) play now or played
// last. Loaded once over HTTP, then kept current by `friend_activity` messages of the realtime channel;
// refetched after a resync or a reconnect.

import { api } from "./api.js";
import { realtime } from "./realtime.js";
import { h, cover, artistLinks, emptyState } from "./ui/dom.js";
import { state } from "./state.js";

const friends = new Map(); // user id -> activity (the shape of GET /v1/me/friends/activity items)
let list = null;
let hint = null;

function ago(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return "just now";
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

function item(a) {
  const t = a.track;
  const when = a.playing
    ? h("span.friend-live", { title: "Playing now" }, h("span.eq", { "aria-hidden": "true" }, h("i"), h("i"), h("i")), "Now")
    : h("time.muted.small", { datetime: a.timestamp }, ago(a.timestamp));
  return h("li.friend", { dataset: { user: a.user.id, track: t.id, playing: a.playing ? "1" : "0" } },
    cover(t.album?.images, 64, { cls: "friend-cover" }),
    h("div.friend-text", null,
      h("div.friend-head", null, h("strong.friend-name", null, a.user.display_name), when),
      h("div.friend-track", null, h("a", { href: `/album/${t.album?.id}`, "data-link": true, text: t.name }),
        h("span.muted", null, " · "), h("span.muted", null, artistLinks(t.artists))),
      t.album ? h("div.friend-album.muted.small", null, t.album.name) : null));
}

function render() {
  if (!list) return;
  const items = [...friends.values()].sort((a, b) => (b.playing - a.playing) || b.timestamp.localeCompare(a.timestamp));
  list.replaceChildren(...items.map(item));
  hint.hidden = items.length > 0;
}

async function load() {
  try {
    const res = await api.get("/v1/me/friends/activity");
    friends.clear();
    for (const a of res.items) friends.set(a.user.id, a);
    render();
  } catch (e) {
    list?.replaceChildren(h("li", null, emptyState("Couldn't load friend activity.", "", { error: true })));
  }
}

/** Mount the panel into `root` (the page's aside) and keep it live. */
export function setupFriendsPanel(root) {
  if (!root || !state.me) return;
  list = h("ul.friend-list", { "aria-label": "What your friends play", "aria-live": "polite" });
  hint = h("p.muted.small.friend-hint", null,
    "Follow people to see what they play here, when they share their listening (Settings).");
  root.replaceChildren(h("div.friends-head", null, h("h2", { id: "friends-title" }, "Friend activity")), list, hint);
  realtime.on("friend_activity", (a) => {
    friends.set(a.user.id, a);
    render();
  });
  // A resync or a reconnect may have missed activity: ask again. Following someone changes the list.
  realtime.on("resync", load);
  realtime.on("open", load);
  realtime.on("follows_changed", (d) => { if (d.kind === "user") load(); });
  setInterval(render, 60000); // "3 min" ago stays right
  load();
}
