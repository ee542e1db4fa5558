// The full-screen now-playing view (phones; any width can open it): cover, seek, every control, like,
// devices, quality, and the lyrics or the queue below. Opened by tapping the player bar on a phone.
//
// Every control drives `playback` (playback.js), so while another device plays, this view is its remote.
// The lyrics and the queue are the /lyrics and /queue views themselves, mounted inside this one.

import { player } from "./player.js";
import { pickDevice } from "./connect.js";
import { playback } from "./playback.js";
import { h, icon, setIcon, fmtTime, artistLinks, imageUrl, toast } from "./ui/dom.js";
import { signImage } from "./media.js";
import { showProgress, showRemote } from "./ui/progress.js";
import { isSaved, setSaved, canEdit, on } from "./state.js";
import { markSaved, trackMenu } from "./ui/tracks.js";

const PHONE = window.matchMedia("(max-width: 760px)");
const PANELS = { lyrics: () => import("./views/lyrics.js"), queue: () => import("./views/queue.js") };

function button(id, label, name, cls = "icon-button") {
  return h(`button.${cls}`, { type: "button", id, "aria-label": label, title: label }, icon(name));
}

export function setupNowPlaying() {
  const el = {
    close: button("np-close", "Close now playing", "back"),
    more: button("np-more", "More options", "more"),
    context: h("div.np-context"),
    cover: h("img.np-cover-img", { alt: "", hidden: true }),
    title: h("h2.np-title", { id: "np-title" }),
    artists: h("div.np-artists"),
    remote: h("div.np-remote", { role: "status", hidden: true }),
    save: h("button.icon-button.save-button", { type: "button", id: "np-save", "aria-label": "Save to Liked songs", "aria-pressed": "false" }, icon("heart-outline")),
    seek: h("input.slider.np-seek", { type: "range", id: "np-seek", min: "0", max: "0", step: "0.1", value: "0", "aria-label": "Seek" }),
    time: h("span.time", { id: "np-time" }, "0:00"),
    duration: h("span.time", { id: "np-duration" }, "0:00"),
    shuffle: button("np-shuffle", "Shuffle", "shuffle", "icon-button.toggle"),
    prev: button("np-prev", "Previous track", "prev"),
    play: button("np-play", "Play", "play", "play-button.big"),
    next: button("np-next", "Next track", "next"),
    repeat: button("np-repeat", "Repeat: off", "repeat", "icon-button.toggle"),
    devices: button("np-devices", "Play on another device", "volume"),
    quality: h("select.quality-select", { id: "np-quality", "aria-label": "Streaming quality" }),
    lyrics: h("button.np-tab", { type: "button", id: "np-lyrics", "aria-pressed": "false" }, icon("lyrics"), "Lyrics"),
    queue: h("button.np-tab", { type: "button", id: "np-queue", "aria-pressed": "false" }, icon("queue"), "Queue"),
    panel: h("div.np-panel", { id: "np-panel", hidden: true }),
  };
  // The same qualities as the bar's menu (one list, in the page).
  for (const o of document.getElementById("player-quality").options) el.quality.append(new Option(o.textContent, o.value));
  const view = h("section.now-playing", { id: "now-playing", role: "dialog", "aria-modal": "true", "aria-labelledby": "np-title", hidden: true },
    h("header.np-head", null, el.close, el.context, el.more),
    h("div.np-cover", null, el.cover, h("span.cover-placeholder", null, icon("note"))),
    h("div.np-meta", null, h("div.np-names", null, el.title, el.artists, el.remote), el.save),
    h("div.np-progress", null, el.seek, h("div.np-times", null, el.time, el.duration)),
    h("div.np-controls", null, el.shuffle, el.prev, el.play, el.next, el.repeat),
    h("div.np-extra", null, el.devices, el.quality, el.lyrics, el.queue),
    el.panel);
  document.getElementById("app").after(view);

  let dragging = false;
  let shown = null;
  let panel = null; // { name, cleanup }
  let opener = null;

  const closePanel = () => {
    if (panel?.cleanup) { try { panel.cleanup(); } catch (e) { console.warn(e); } }
    panel = null;
    el.panel.replaceChildren();
    el.panel.hidden = true;
    for (const b of [el.lyrics, el.queue]) b.setAttribute("aria-pressed", "false");
    view.classList.remove("with-panel");
  };
  const openPanel = async (name) => {
    const same = panel?.name === name;
    closePanel();
    if (same) return;
    const mine = { name, cleanup: null };
    panel = mine;
    (name === "lyrics" ? el.lyrics : el.queue).setAttribute("aria-pressed", "true");
    view.classList.add("with-panel");
    el.panel.hidden = false;
    const root = h("div.view-inner.np-panel-inner");
    el.panel.append(root);
    const mod = await PANELS[name]();
    if (panel !== mine) return;
    const cleanup = mod.render({ root, params: {}, query: new URLSearchParams() });
    mine.cleanup = typeof cleanup === "function" ? cleanup : null;
    el.panel.scrollTop = 0;
  };

  const open = () => {
    if (!view.hidden) return;
    opener = document.activeElement;
    view.hidden = false;
    document.body.classList.add("np-open");
    showTrack();
    showState();
    showTime();
    el.close.focus();
  };
  const close = () => {
    if (view.hidden) return;
    closePanel();
    view.hidden = true;
    document.body.classList.remove("np-open");
    opener?.focus?.();
  };

  const showState = () => {
    const playing = playback.playing;
    setIcon(el.play, playing ? "pause" : "play");
    el.play.setAttribute("aria-label", playing ? "Pause" : "Play");
    el.shuffle.setAttribute("aria-pressed", String(playback.shuffle));
    el.shuffle.classList.toggle("on", playback.shuffle);
    const rep = playback.repeat;
    el.repeat.classList.toggle("on", rep !== "off");
    el.repeat.setAttribute("aria-label", `Repeat: ${{ off: "off", context: "all", track: "this track" }[rep]}`);
    setIcon(el.repeat, rep === "track" ? "repeat-one" : "repeat");
    const has = Boolean(playback.track);
    for (const b of [el.prev, el.next, el.seek, el.play]) b.disabled = !has;
    const where = showRemote(el, view);
    el.context.textContent = playback.context?.name && !where ? `Playing from ${playback.context.name}` : "Now playing";
  };
  const showTime = () => showProgress(el, dragging);
  const showTrack = () => {
    const t = playback.track;
    shown = t;
    el.artists.replaceChildren();
    el.cover.hidden = true;
    if (!t) {
      el.title.textContent = "Nothing playing";
      el.save.disabled = true;
      return;
    }
    el.title.textContent = t.name;
    el.artists.append(...artistLinks(t.artists));
    const url = imageUrl(t.album?.images, 640);
    if (url) {
      signImage(url).then((src) => {
        if (shown !== t) return;
        el.cover.src = src;
        el.cover.hidden = false;
      }, () => {});
    }
    el.save.disabled = !canEdit() || t.kind === "episode";
    isSaved(t.id).then((v) => { if (shown === t) markSaved(el.save, v); }, () => {});
  };

  el.close.addEventListener("click", close);
  view.addEventListener("keydown", (e) => { if (e.key === "Escape" && !document.querySelector(".menu")) { e.preventDefault(); close(); } });
  // A link followed inside the view (an artist, an album from the queue's menu) leaves it.
  view.addEventListener("click", (e) => { if (e.target.closest("a[data-link]")) close(); });
  el.play.addEventListener("click", () => playback.toggle());
  el.prev.addEventListener("click", () => playback.previous());
  el.next.addEventListener("click", () => playback.next());
  el.shuffle.addEventListener("click", () => playback.setShuffle(!playback.shuffle));
  el.repeat.addEventListener("click", () => playback.cycleRepeat());
  el.devices.addEventListener("click", () => pickDevice(el.devices).catch(() => toast("No devices.", { error: true })));
  el.more.addEventListener("click", () => { if (playback.track) trackMenu(playback.track, { anchor: el.more }); });
  el.lyrics.addEventListener("click", () => openPanel("lyrics"));
  el.queue.addEventListener("click", () => openPanel("queue"));
  el.seek.addEventListener("input", () => { dragging = true; el.time.textContent = fmtTime(Number(el.seek.value)); });
  el.seek.addEventListener("change", () => { dragging = false; playback.seek(Number(el.seek.value)); });
  el.quality.addEventListener("change", () => {
    player.setQuality(el.quality.value);
    document.getElementById("player-quality").value = el.quality.value;
    toast(`Streaming quality: ${el.quality.selectedOptions[0].textContent}`);
  });
  el.save.addEventListener("click", async () => {
    const t = playback.track;
    if (!t) return;
    try { await setSaved(t.id, el.save.getAttribute("aria-pressed") !== "true"); } catch { toast("Could not change Liked songs.", { error: true }); }
  });

  // On a phone, a tap on the bar (but not on its play and next buttons) opens the view instead of the album.
  const bar = document.getElementById("player");
  bar.addEventListener("click", (e) => {
    if (!PHONE.matches || e.target.closest("button, select, input")) return;
    e.preventDefault();
    e.stopPropagation();
    open();
  }, true);
  PHONE.addEventListener("change", () => { if (!PHONE.matches) close(); });

  const onChange = () => {
    if (view.hidden) return;
    if (playback.track !== shown) showTrack();
    showState();
    showTime();
  };
  for (const n of ["state", "track", "output"]) playback.addEventListener(n, onChange);
  playback.addEventListener("time", () => { if (!view.hidden) showTime(); });
  on("saved", ({ id, value }) => { if (playback.track?.id === id) markSaved(el.save, value); });
  el.quality.value = player.quality;
  return { open, close, get isOpen() { return !view.hidden; } };
}
