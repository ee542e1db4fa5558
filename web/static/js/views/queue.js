// The queue: now playing, then what comes next (drag or Alt+↑/↓ to reorder, remove, clear).

import { h, icon, fmtTime, artistLinks, cover, emptyState } from "../ui/dom.js";
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

export function render({ root }) {
  const body = h("div");
  root.append(h("div.page-head-row", null, h("h1.page-title", null, "Queue"),
    h("button.button.outline", { type: "button", id: "queue-clear", onclick: () => player.clearUpcoming() }, "Clear queue")), body);
  const draw = () => {
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
  return () => {
    player.removeEventListener("queue", draw);
    player.removeEventListener("track", draw);
  };
}
