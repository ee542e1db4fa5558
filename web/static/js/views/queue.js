// The queue: now playing, then what comes next (drag or Alt+↑/↓ to reorder, remove, clear).

import { h, icon, fmtTime, artistLinks, cover, emptyState, errorText, toast } from "../ui/dom.js";
import { api } from "../api.js";
import { connect, control, isRemote, stateVersion } from "../connect.js";
import { player } from "../player.js";
import { trackMenu, startDrag, endDrag, dragged } from "../ui/tracks.js";

function row(entry, i, { current }) {
  const t = entry.track;
  const el = h(`li.queue-row${current ? ".is-current" : ""}`, {
    draggable: current ? null : "true", tabindex: "0", "aria-label": `${t.name} by ${t.artists.map((a) => a.name).join(", ")}`,
    ondblclick: () => player.jumpTo(i),
    onkeydown: (e) => {
      if (e.target !== el) return;
      if (e.key === "Enter") player.jumpTo(i);
      else if (e.key === "Delete" && !current) player.removeAt(i);
      else if (e.altKey && e.key === "ArrowUp" && i > player.index + 1) { e.preventDefault(); player.move(i, i - 1); focusAt(i - 1); }
      else if (e.altKey && e.key === "ArrowDown" && i < player.queue.length - 1) { e.preventDefault(); player.move(i, i + 1); focusAt(i + 1); }
    },
    ondragstart: (e) => startDrag(e, [t], { list: "queue", index: i }),
    ondragend: endDrag,
    dataset: { index: String(i) },
  },
  h("span.queue-drag", { "aria-hidden": "true" }, current ? icon("volume", "icon playing-icon") : icon("drag")),
  cover(t.album?.images, 64, { cls: "row-cover" }),
  h("div.title-block", null, h("span.track-name", null, t.name), h("span.track-artists", null, artistLinks(t.artists))),
  h("span.queue-tag", null, entry.queued ? h("span.pill", null, "Queued") : null),
  h("span.col-duration", null, fmtTime((t.duration_ms || 0) / 1000)),
  current ? h("span") : h("button.icon-button", { type: "button", "aria-label": `Remove “${t.name}” from the queue`, onclick: () => player.removeAt(i) }, icon("close")),
  h("button.icon-button", { type: "button", "aria-label": `More options for “${t.name}”`, onclick: (e) => trackMenu(t, { anchor: e.currentTarget }) }, icon("more")));
  return el;
}

function focusAt(i) {
  requestAnimationFrame(() => document.querySelector(`.queue-row[data-index="${i}"]`)?.focus());
}

/** While another device plays, the queue is the server's (GET /v1/me/player/queue), edited through it. */
async function drawRemote(body) {
  const q = await api.get("/v1/me/player/queue");
  if (!q.currently_playing) {
    body.replaceChildren(emptyState("The queue is empty."));
    return;
  }
  const remoteRow = (t, k) => h("li.queue-row", { tabindex: "0", dataset: { remoteIndex: k === null ? "" : String(k) } },
    h("span.queue-drag", { "aria-hidden": "true" }, k === null ? icon("volume", "icon playing-icon") : null),
    cover(t.album?.images, 64, { cls: "row-cover" }),
    h("div.title-block", null, h("span.track-name", null, t.name), h("span.track-artists", null, artistLinks(t.artists))),
    h("span.queue-tag"),
    h("span.col-duration", null, fmtTime((t.duration_ms || 0) / 1000)),
    k === null ? h("span") : h("button.icon-button", {
      type: "button", "aria-label": `Remove “${t.name}” from the queue`,
      onclick: () => api.del("/v1/me/player/queue", undefined, { params: { index: k, uri: t.uri } })
        .catch((e) => toast(errorText(e), { error: true })),
    }, icon("close")),
    h("span"));
  const nextList = h("ol.queue-list", { "aria-label": "Next up" }, q.queue.map((t, k) => remoteRow(t, k)));
  body.replaceChildren(
    h("h2.queue-heading", null, `Now playing on ${control.deviceName}`),
    h("ol.queue-list", { "aria-label": "Now playing" }, remoteRow(q.currently_playing, null)),
    h("h2.queue-heading", null, "Next up"),
    q.queue.length ? nextList : emptyState("Nothing after this track."));
}

export function render({ root }) {
  const body = h("div");
  const clearButton = h("button.button.outline", { type: "button", id: "queue-clear", onclick: () => player.clearUpcoming() }, "Clear queue");
  root.append(h("div.page-head-row", null, h("h1.page-title", null, "Queue"), clearButton), body);
  let shown = null; // the remote state version drawn
  const follow = () => {
    if (!isRemote()) {
      if (shown !== null) { shown = null; draw(); }
      return;
    }
    if (shown === stateVersion()) return;
    shown = stateVersion();
    clearButton.hidden = true;
    drawRemote(body).catch((e) => body.replaceChildren(emptyState(errorText(e), "", { error: true })));
  };
  const draw = () => {
    if (isRemote()) { follow(); return; }
    clearButton.hidden = false;
    const q = player.queue;
    if (!q.length || player.index < 0) {
      body.replaceChildren(emptyState("The queue is empty.", "Play something, or add tracks with “Add to queue”."));
      return;
    }
    const now = h("ol.queue-list", { "aria-label": "Now playing" }, row(q[player.index], player.index, { current: true }));
    const nextList = h("ol.queue-list", { "aria-label": "Next up" });
    // Long queues: the next 200 are plenty to look at and drag around.
    q.slice(player.index + 1, player.index + 201).forEach((e, k) => nextList.append(row(e, player.index + 1 + k, { current: false })));
    nextList.addEventListener("dragover", (e) => {
      if (dragged?.origin?.list !== "queue") return;
      e.preventDefault();
    });
    nextList.addEventListener("drop", (e) => {
      const target = e.target.closest(".queue-row");
      if (!target || dragged?.origin?.list !== "queue") return;
      e.preventDefault();
      const from = dragged.origin.index;
      const to = Number(target.dataset.index);
      endDrag();
      player.move(from, to);
    });
    const ctx = player.context?.name;
    body.replaceChildren(
      h("h2.queue-heading", null, "Now playing"), now,
      h("h2.queue-heading", null, ctx ? `Next from: ${ctx}` : "Next up"),
      q.length > player.index + 1 ? nextList : emptyState("Nothing after this track."));
  };
  draw();
  player.addEventListener("queue", draw);
  player.addEventListener("track", draw);
  connect.addEventListener("change", follow);
  return () => {
    player.removeEventListener("queue", draw);
    player.removeEventListener("track", draw);
    connect.removeEventListener("change", follow);
  };
}
