// Lyrics of the playing track: synced (LRC) lines highlight and scroll with playback and seek on click;
// plain lyrics are shown as text.

import { api } from "../api.js";
import { h, cover, artistLinks, emptyState, errorText } from "../ui/dom.js";
import { player } from "../player.js";
import { parseLrc, lineAt, plainLyrics } from "../lrc.js";

const cache = new Map();
const MANUAL_SCROLL_PAUSE_MS = 3000;

function fetchLyrics(id) {
  if (!cache.has(id)) {
    cache.set(id, api.get(`/v1/tracks/${id}/lyrics`).catch((e) => { cache.delete(id); throw e; }));
  }
  return cache.get(id);
}

export function render({ root }) {
  const main = document.getElementById("main");
  const head = h("div.lyrics-head");
  const body = h("div.lyrics-body");
  root.classList.add("lyrics-page");
  root.append(h("h1.visually-hidden", null, "Lyrics"), head, body);
  let lines = [];
  let buttons = [];
  let active = -1;
  let frame = null;
  let manualUntil = 0;
  let shownFor = null;

  const highlight = (force = false) => {
    if (!lines.length) return;
    const i = lineAt(lines, player.currentTime);
    if (i === active && !force) return;
    if (buttons[active]) {
      buttons[active].classList.remove("active");
      buttons[active].removeAttribute("aria-current");
    }
    active = i;
    buttons.forEach((b, j) => b.classList.toggle("past", j < i));
    const b = buttons[i];
    if (!b) return;
    b.classList.add("active");
    b.setAttribute("aria-current", "true");
    if (Date.now() > manualUntil) b.scrollIntoView({ block: "center", behavior: force ? "auto" : "smooth" });
  };

  const loop = () => {
    highlight();
    frame = player.isPlaying() ? requestAnimationFrame(loop) : null;
  };
  const kick = () => {
    if (frame === null && player.isPlaying()) frame = requestAnimationFrame(loop);
    highlight();
  };

  const show = async () => {
    const t = player.current?.track;
    if (t?.id === shownFor) return;
    shownFor = t?.id ?? null;
    lines = [];
    buttons = [];
    active = -1;
    if (!t) {
      head.replaceChildren();
      body.replaceChildren(emptyState("Nothing is playing.", "Play a track to see its lyrics."));
      return;
    }
    head.replaceChildren(cover(t.album?.images, 128, { cls: "lyrics-cover" }),
      h("div.title-block", null, h("span.lyrics-title", null, t.name), h("span.track-artists", null, artistLinks(t.artists))));
    body.replaceChildren(h("p.muted", { role: "status" }, "Loading lyrics…"));
    let found;
    try {
      found = await fetchLyrics(t.id);
    } catch (e) {
      if (player.current?.track.id === t.id) body.replaceChildren(emptyState("Couldn't load the lyrics.", errorText(e), { error: true }));
      return;
    }
    if (player.current?.track.id !== t.id) return;
    if (!found || !found.text) {
      body.replaceChildren(emptyState("No lyrics for this track.", "Lyrics come from .lrc files next to the music or from the files' tags."));
      return;
    }
    const parsed = found.synced ? parseLrc(found.text) : [];
    if (!parsed.length) {
      body.replaceChildren(h("div.lyrics-plain", { "aria-label": "Lyrics" }, plainLyrics(found.text)));
      return;
    }
    lines = parsed;
    buttons = lines.map((l) => h("button.lyric-line", {
      type: "button", "aria-label": `${l.text || "♪"}: play from here`, onclick: () => {
        manualUntil = 0;
        player.seek(l.time);
        if (!player.isPlaying()) player.resume();
      },
    }, l.text || "♪"));
    body.replaceChildren(h("ol.lyrics-lines", { "aria-label": "Synced lyrics" }, buttons.map((b) => h("li", null, b))));
    highlight(true);
    kick();
  };

  const onWheel = () => { manualUntil = Date.now() + MANUAL_SCROLL_PAUSE_MS; };
  main.addEventListener("wheel", onWheel, { passive: true });
  main.addEventListener("touchmove", onWheel, { passive: true });
  player.addEventListener("track", show);
  const onTime = () => highlight();
  player.addEventListener("time", onTime);
  player.addEventListener("state", kick);
  show();
  return () => {
    if (frame !== null) cancelAnimationFrame(frame);
    main.removeEventListener("wheel", onWheel);
    main.removeEventListener("touchmove", onWheel);
    player.removeEventListener("track", show);
    player.removeEventListener("time", onTime);
    player.removeEventListener("state", kick);
  };
}
