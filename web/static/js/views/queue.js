// The queue: now playing, then what comes next (drag or Alt+↑/↓ to reorder, Enter or double-click to play an
// item, remove, clear). It shows `playback`'s queue: this tab's own, or, while another device plays, the
// server's (edited through /v1/me/player/queue, playback.js).

import { h, icon, fmtTime, artistLinks, cover, emptyState } from "../ui/dom.js";
import { playback } from "../playback.js";
import { trackMenu, startDrag, endDrag, dragged } from "../ui/tracks.js";

function row(entry, i, { current, last }) {
  const t = entry.track;
  const el = h(`li.queue-row${current ? ".is-current" : ""}`, {
    draggable: current ? null : "true", tabindex: "0", "aria-label": `${t.name} by ${t.artists.map((a) => a.name).join(", ")}`,
    ondblclick: () => playback.jumpTo(i),
    onkeydown: (e) => {
      if (e.target !== el) return;
      if (e.key === "Enter") playback.jumpTo(i);
      else if (e.key === "Delete" && !current) playback.removeAt(i);
      else if (e.altKey && e.key === "ArrowUp" && i > playback.index + 1) { e.preventDefault(); playback.move(i, i - 1); focusAt(i - 1); }
      else if (e.altKey && e.key === "ArrowDown" && i < last) { e.preventDefault(); playback.move(i, i + 1); focusAt(i + 1); }
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
  current ? h("span") : h("button.icon-button", { type: "button", "aria-label": `Remove “${t.name}” from the queue`, onclick: () => playback.removeAt(i) }, icon("close")),
  h("button.icon-button", { type: "button", "aria-label": `More options for “${t.name}”`, onclick: (e) => trackMenu(t, { anchor: e.currentTarget }) }, icon("more")));
  return el;
}

function focusAt(i) {
  // (a remote queue is drawn again when the device's new state comes back: focus follows the same index)
  for (const wait of [0, 300, 800]) {
    setTimeout(() => requestAnimationFrame(() => document.querySelector(`.queue-row[data-index="${i}"]`)?.focus()), wait);
  }
}

export function render({ root }) {
  const body = h("div");
  const clearButton = h("button.button.outline", { type: "button", id: "queue-clear", onclick: () => playback.clearUpcoming() }, "Clear queue");
  root.append(h("div.page-head-row", null, h("h1.page-title", null, "Queue"), clearButton), body);
  const draw = () => {
    clearButton.hidden = !playback.clearable;
    const q = playback.entries;
    const at = playback.index;
    if (!q.length || at < 0) {
      body.replaceChildren(emptyState("The queue is empty.", playback.remote ? "" : "Play something, or add tracks with “Add to queue”."));
      return;
    }
    // Long queues: the next 200 are plenty to look at and drag around.
    const shown = q.slice(at + 1, at + 201);
    const last = at + shown.length;
    const now = h("ol.queue-list", { "aria-label": "Now playing" }, row(q[at], at, { current: true, last }));
    const nextList = h("ol.queue-list", { "aria-label": "Next up" });
    shown.forEach((e, k) => nextList.append(row(e, at + 1 + k, { current: false, last })));
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
      playback.move(from, to);
    });
    const ctx = playback.context?.name;
    body.replaceChildren(
      h("h2.queue-heading", null, playback.remote ? `Now playing on ${playback.deviceName}` : "Now playing"), now,
      h("h2.queue-heading", null, ctx ? `Next from: ${ctx}` : "Next up"),
      shown.length ? nextList : emptyState("Nothing after this track."));
  };
  draw();
  const events = ["queue", "track", "output"];
  for (const n of events) playback.addEventListener(n, draw);
  return () => { for (const n of events) playback.removeEventListener(n, draw); };
}
