// The player bar at the bottom: what is playing, the controls, progress and seek, volume, quality.

import { player } from "./player.js";
import { pickDevice } from "./connect.js";
import { playback } from "./playback.js";
import { fmtTime, setIcon, artistLinks, clear, toast, imageUrl } from "./ui/dom.js";
import { signImage } from "./media.js";
import { showProgress, showRemote } from "./ui/progress.js";
import { isSaved, setSaved, canEdit, on } from "./state.js";
import { markSaved, trackMenu } from "./ui/tracks.js";

const $ = (id) => document.getElementById(id);

export function setupPlayerBar() {
  const el = {
    bar: $("player"), play: $("player-play"), prev: $("player-prev"), next: $("player-next"),
    shuffle: $("player-shuffle"), repeat: $("player-repeat"), seek: $("player-seek"), time: $("player-time"),
    duration: $("player-duration"), title: $("player-title"), artists: $("player-artists"), cover: $("player-cover"),
    coverLink: $("player-cover-link"), save: $("player-save"), volume: $("player-volume"), mute: $("player-mute"),
    quality: $("player-quality"), fill: $("player-bar-fill"), devices: $("player-devices"), remote: $("player-remote"),
  };
  let dragging = false;

  // The controls drive `playback`: this tab's audio, or the device playing elsewhere (playback.js).
  el.play.addEventListener("click", () => playback.toggle());
  el.prev.addEventListener("click", () => playback.previous());
  el.next.addEventListener("click", () => playback.next());
  el.shuffle.addEventListener("click", () => playback.setShuffle(!playback.shuffle));
  el.repeat.addEventListener("click", () => playback.cycleRepeat());
  el.devices.addEventListener("click", () => pickDevice(el.devices).catch(() => toast("No devices.", { error: true })));
  el.seek.addEventListener("input", () => {
    dragging = true;
    el.time.textContent = fmtTime(Number(el.seek.value));
  });
  el.seek.addEventListener("change", () => {
    dragging = false;
    playback.seek(Number(el.seek.value));
  });
  el.volume.addEventListener("input", () => player.setVolume(Number(el.volume.value)));
  el.mute.addEventListener("click", () => player.toggleMute());
  el.quality.addEventListener("change", () => {
    player.setQuality(el.quality.value);
    toast(`Streaming quality: ${el.quality.selectedOptions[0].textContent}`);
  });
  el.save.addEventListener("click", async () => {
    const t = playback.track;
    if (!t) return;
    const value = el.save.getAttribute("aria-pressed") !== "true";
    try { await setSaved(t.id, value); } catch { toast("Could not change Liked songs.", { error: true }); }
  });
  el.title.addEventListener("contextmenu", (e) => {
    const t = playback.track;
    if (!t) return;
    e.preventDefault();
    trackMenu(t, { point: { x: e.clientX, y: e.clientY } });
  });

  const showState = () => {
    const playing = playback.playing;
    setIcon(el.play, playing ? "pause" : "play");
    el.play.setAttribute("aria-label", playing ? "Pause" : "Play");
    el.bar.classList.toggle("is-playing", Boolean(playing));
    el.shuffle.setAttribute("aria-pressed", String(playback.shuffle));
    el.shuffle.classList.toggle("on", playback.shuffle);
    const rep = playback.repeat;
    el.repeat.dataset.mode = rep;
    el.repeat.classList.toggle("on", rep !== "off");
    el.repeat.setAttribute("aria-label", `Repeat: ${{ off: "off", context: "all", track: "this track" }[rep]}`);
    setIcon(el.repeat, rep === "track" ? "repeat-one" : "repeat");
    const has = Boolean(playback.track);
    for (const b of [el.prev, el.next, el.seek]) b.disabled = !has;
    showRemote(el, el.bar);
  };

  const showTime = () => {
    const [t, d] = showProgress(el, dragging);
    el.fill.style.width = d ? `${(100 * t) / d}%` : "0";
  };

  let shown = null;
  const showTrack = () => {
    const t = playback.track;
    shown = t;
    clear(el.artists);
    if (!t) {
      el.title.textContent = "Nothing playing";
      el.cover.hidden = true;
      el.save.disabled = true;
      document.title = "musicd";
      return;
    }
    el.title.textContent = t.name;
    el.title.href = t.album?.id ? `/album/${t.album.id}` : "/";
    el.coverLink.href = el.title.href;
    el.artists.append(...artistLinks(t.artists));
    document.title = `${t.name} · ${t.artists.map((a) => a.name).join(", ")}`;
    const url = imageUrl(t.album?.images, 128);
    el.cover.hidden = true;
    if (url) {
      signImage(url).then((src) => {
        if (shown !== t) return;
        el.cover.src = src;
        el.cover.hidden = false;
      }, () => {});
    }
    el.save.disabled = !canEdit();
    isSaved(t.id).then((v) => { if (shown === t) markSaved(el.save, v); });
    showTime();
  };

  const showVolume = () => {
    el.volume.value = String(player.muted ? 0 : player.volume);
    el.mute.setAttribute("aria-pressed", String(player.muted));
    el.mute.setAttribute("aria-label", player.muted ? "Unmute" : "Mute");
    setIcon(el.mute, player.muted || player.volume === 0 ? "volume-off" : "volume");
  };

  playback.addEventListener("state", showState);
  playback.addEventListener("time", showTime);
  playback.addEventListener("track", showTrack);
  playback.addEventListener("output", () => { showTrack(); showState(); });
  player.addEventListener("volume", showVolume);
  player.addEventListener("error", (e) => {
    const name = e.detail?.track?.name;
    toast(name ? `Can't play “${name}”.` : "Can't play this track.", { error: true });
  });
  on("saved", ({ id, value }) => { if (playback.track?.id === id) markSaved(el.save, value); });
  el.quality.value = player.quality;
  showState();
  showTrack();
  showVolume();
}

/** Keyboard shortcuts: space play/pause, ←/→ seek 5 s, Shift+←/→ previous/next, / search, m mute, s shuffle, r repeat. */
export function setupShortcuts({ focusSearch }) {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    const typing = t.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(t.tagName);
    if (e.key === "/" && !typing) {
      e.preventDefault();
      focusSearch();
      return;
    }
    if (typing && !(t.type === "range" && e.key === " ")) return;
    if (document.querySelector("dialog[open], .menu")) return;
    const onControl = t.tagName === "BUTTON" || t.tagName === "A";
    switch (e.key) {
      case " ":
        if (onControl) return; // space activates the focused button
        e.preventDefault();
        playback.toggle();
        break;
      case "ArrowLeft":
        if (t.type === "range") return;
        e.preventDefault();
        if (e.shiftKey) playback.previous();
        else playback.seekBy(-5);
        break;
      case "ArrowRight":
        if (t.type === "range") return;
        e.preventDefault();
        if (e.shiftKey) playback.next();
        else playback.seekBy(5);
        break;
      case "m":
        player.toggleMute();
        break;
      case "s":
        playback.setShuffle(!playback.shuffle);
        break;
      case "r":
        playback.cycleRepeat();
        break;
      default:
    }
  });
}
