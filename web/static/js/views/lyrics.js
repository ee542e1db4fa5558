// Lyrics of the playing track, as the server parsed them (one parser for every client): synced lines
// (the LRC [offset:] already applied) highlight and scroll with playback and seek on click; enhanced LRC
// words light up as they are sung (karaoke); plain lyrics are shown as text. A track with lyrics in
// several languages offers them all; users (not guests) add or fix lyrics, kept on the server. They follow
// `playback`: this tab's audio, or the device playing elsewhere (its position as its state puts it).

import { api } from "../api.js";
import { h, cover, artistLinks, emptyState, errorText, toast } from "../ui/dom.js";
import { playback } from "../playback.js";
import { lineAt } from "../lrc.js";
import { canEdit } from "../state.js";

const cache = new Map();
const MANUAL_SCROLL_PAUSE_MS = 3000;

function fetchLyrics(id, lang) {
  const key = `${id}:${lang || ""}`;
  if (!cache.has(key)) {
    cache.set(key, api.get(`/v1/tracks/${id}/lyrics`, lang ? { lang } : {}).catch((e) => { cache.delete(key); throw e; }));
  }
  return cache.get(key);
}

function forget(id) {
  for (const k of [...cache.keys()]) if (k.startsWith(`${id}:`)) cache.delete(k);
}

export function render({ root }) {
  const main = document.getElementById("main");
  const head = h("div.lyrics-head");
  const tools = h("div.lyrics-tools");
  const body = h("div.lyrics-body");
  root.classList.add("lyrics-page");
  root.append(h("h1.visually-hidden", null, "Lyrics"), head, tools, body);
  let lines = [];
  let buttons = [];
  let words = [];
  let active = -1;
  let frame = null;
  let manualUntil = 0;
  let shownFor = null;
  let lang = null;

  const highlight = (force = false) => {
    if (!lines.length) return;
    const t = playback.time;
    const i = lineAt(lines, t);
    if (i === active && !force) {
      (words[i] || []).forEach((w) => w.el.classList.toggle("sung", w.time <= t + 0.05));
      return;
    }
    if (buttons[active]) {
      buttons[active].classList.remove("active");
      buttons[active].removeAttribute("aria-current");
      (words[active] || []).forEach((w) => w.el.classList.remove("sung"));
    }
    active = i;
    buttons.forEach((b, j) => b.classList.toggle("past", j < i));
    const b = buttons[i];
    if (!b) return;
    b.classList.add("active");
    b.setAttribute("aria-current", "true");
    (words[i] || []).forEach((w) => w.el.classList.toggle("sung", w.time <= t + 0.05));
    if (Date.now() > manualUntil) b.scrollIntoView({ block: "center", behavior: force ? "auto" : "smooth" });
  };

  const loop = () => {
    highlight();
    frame = playback.playing ? requestAnimationFrame(loop) : null;
  };
  const kick = () => {
    if (frame === null && playback.playing) frame = requestAnimationFrame(loop);
    highlight();
  };

  const editor = (t, found) => {
    const area = h("textarea", { "aria-label": "Lyrics (LRC with [mm:ss.xx] time stamps, or plain text)",
      spellcheck: "false" });
    area.value = found?.source === "user" || found?.text ? found.text : "";
    const langInput = h("input", { "aria-label": "Language (e.g. en)", value: found?.lang || "", size: 6 });
    const save = h("button.button.primary", { type: "submit" }, "Save");
    body.replaceChildren(h("form.lyrics-editor", {
      onsubmit: async (e) => {
        e.preventDefault();
        save.disabled = true;
        try {
          await api.put(`/v1/tracks/${t.id}/lyrics`, { text: area.value, lang: langInput.value.trim() || null });
          forget(t.id);
          lang = langInput.value.trim() || null;
          toast("Lyrics saved.");
          shownFor = null;
          show();
        } catch (err) {
          toast(`Can't save: ${errorText(err)}`, { error: true });
          save.disabled = false;
        }
      },
    }, h("p.muted", null, "Time stamps like [00:12.50] make synced lyrics; <00:12.80> inside a line times its words."),
    h("label", null, "Language ", langInput), area,
    h("div.row", null, save, h("button.button", { type: "button", onclick: () => { shownFor = null; show(); } }, "Cancel"))));
    area.focus();
  };

  const paintTools = (t, found) => {
    const langs = found?.languages || [];
    const items = [];
    if (langs.length > 1) {
      const sel = h("select", { "aria-label": "Language", onchange: () => { lang = sel.value || null; shownFor = null; show(); } },
        langs.map((l) => new Option(l.lang || "Original", l.lang || "", false, (l.lang || null) === (found.lang || null))));
      items.push(sel);
    }
    if (found?.source) items.push(h("span.muted", null, found.source === "user" ? "Added by a listener" : found.source === "lrc" ? ".lrc file" : "From the file's tags"));
    if (canEdit()) {
      items.push(h("button.button.outline", { type: "button", onclick: () => editor(t, found) }, found?.text ? "Edit lyrics" : "Add lyrics"));
      if (found?.source === "user") {
        items.push(h("button.button.outline", { type: "button", onclick: async () => {
          try {
            await api.del(`/v1/tracks/${t.id}/lyrics${found.lang ? `?lang=${encodeURIComponent(found.lang)}` : ""}`);
            forget(t.id);
            shownFor = null;
            show();
          } catch (e) { toast(errorText(e), { error: true }); }
        } }, "Remove my edit"));
      }
    }
    tools.replaceChildren(...items);
  };

  const show = async () => {
    const t = playback.track;
    if (t?.id === shownFor) return;
    if (t?.id !== shownFor) lang = shownFor === null ? lang : null;
    shownFor = t?.id ?? null;
    lines = [];
    buttons = [];
    words = [];
    active = -1;
    tools.replaceChildren();
    if (!t) {
      head.replaceChildren();
      body.replaceChildren(emptyState("Nothing is playing.", "Play a track to see its lyrics."));
      return;
    }
    head.replaceChildren(cover(t.album?.images, 128, { cls: "lyrics-cover" }),
      h("div.title-block", null, h("span.lyrics-title", null, t.name), h("span.track-artists", null, artistLinks(t.artists))));
    if (t.kind === "episode") {
      body.replaceChildren(emptyState("Episodes have no lyrics.", "See the show's page for its notes and chapters."));
      return;
    }
    body.replaceChildren(h("p.muted", { role: "status" }, "Loading lyrics…"));
    let found;
    try {
      found = await fetchLyrics(t.id, lang);
    } catch (e) {
      if (playback.track?.id === t.id) body.replaceChildren(emptyState("Couldn't load the lyrics.", errorText(e), { error: true }));
      return;
    }
    if (playback.track?.id !== t.id) return;
    paintTools(t, found);
    if (!found || !found.text) {
      body.replaceChildren(emptyState("No lyrics for this track.", "Lyrics come from .lrc files next to the music, from the files' tags, or from listeners."));
      return;
    }
    if (!found.synced || !found.lines.length) {
      body.replaceChildren(h("div.lyrics-plain", { "aria-label": "Lyrics" }, found.plain || found.text));
      return;
    }
    lines = found.lines.map((l) => ({ time: l.start_ms / 1000, text: l.text, words: l.words }));
    buttons = lines.map((l, i) => {
      const spans = l.words.map((w) => ({ time: w.start_ms / 1000, el: h("span.lyric-word", null, w.text) }));
      words[i] = spans;
      return h("button.lyric-line", {
        type: "button", "aria-label": `${l.text || "♪"}: play from here`, dataset: { start: String(l.time) },
        onclick: () => {
          manualUntil = 0;
          playback.seek(l.time);
          playback.play();
        },
      }, spans.length ? spans.map((s) => s.el) : l.text || "♪");
    });
    body.replaceChildren(h("ol.lyrics-lines", { "aria-label": "Synced lyrics" }, buttons.map((b) => h("li", null, b))));
    highlight(true);
    kick();
  };

  const onWheel = () => { manualUntil = Date.now() + MANUAL_SCROLL_PAUSE_MS; };
  main.addEventListener("wheel", onWheel, { passive: true });
  main.addEventListener("touchmove", onWheel, { passive: true });
  const onTime = () => highlight();
  const events = [["track", show], ["output", show], ["time", onTime], ["state", kick]];
  for (const [n, fn] of events) playback.addEventListener(n, fn);
  show();
  return () => {
    if (frame !== null) cancelAnimationFrame(frame);
    main.removeEventListener("wheel", onWheel);
    main.removeEventListener("touchmove", onWheel);
    for (const [n, fn] of events) playback.removeEventListener(n, fn);
  };
}
