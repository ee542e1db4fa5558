// The public page of a share: plays its tracks in order with one <audio>, no account, no API token.
// Each track is fetched from the share's own URL (/share/{token}/tracks/{id}); a format this browser
// cannot play is asked for as the "normal" tier instead (Ogg Vorbis today, see canPlayType).

import { fmtTime, setIcon } from "./ui/dom.js";

const $ = (id) => document.getElementById(id);
const MIME = {
  mp3: "audio/mpeg", flac: "audio/flac", ogg: "audio/ogg", opus: "audio/ogg; codecs=opus", m4a: "audio/mp4",
  wav: "audio/wav", aiff: "audio/aiff",
};

const rows = [...document.querySelectorAll(".share-track")];
const audio = $("share-audio");
const el = {
  bar: $("share-player"), title: $("share-now-title"), artist: $("share-now-artist"), toggle: $("share-toggle"),
  prev: $("share-prev"), next: $("share-next"), seek: $("share-seek"), time: $("share-time"),
  duration: $("share-duration"), all: $("share-play-all"),
};
let current = -1;
let dragging = false;

function srcFor(row) {
  const mime = MIME[row.dataset.format] || "";
  return mime && audio.canPlayType(mime) ? row.dataset.src : `${row.dataset.src}?quality=normal`;
}

function playAt(i) {
  if (i < 0 || i >= rows.length) return;
  const row = rows[i];
  rows[current]?.classList.remove("is-current");
  rows[current]?.removeAttribute("aria-current");
  current = i;
  row.classList.add("is-current");
  row.setAttribute("aria-current", "true");
  el.bar.hidden = false;
  el.title.textContent = row.dataset.title;
  el.artist.textContent = row.dataset.artist;
  el.duration.textContent = fmtTime(Number(row.dataset.duration));
  audio.src = srcFor(row);
  audio.play().catch(() => {});
  if ("mediaSession" in navigator) {
    const cover = document.querySelector(".share-cover img");
    navigator.mediaSession.metadata = new MediaMetadata({
      title: row.dataset.title, artist: row.dataset.artist,
      artwork: cover ? [{ src: cover.src, sizes: "600x600" }] : [],
    });
  }
}

function toggle() {
  if (current < 0) playAt(0);
  else if (audio.paused) audio.play().catch(() => {});
  else audio.pause();
}

rows.forEach((row, i) => row.addEventListener("click", () => (i === current ? toggle() : playAt(i))));
el.all.addEventListener("click", () => playAt(0));
el.toggle.addEventListener("click", toggle);
el.prev.addEventListener("click", () => (audio.currentTime > 3 ? (audio.currentTime = 0) : playAt(current - 1)));
el.next.addEventListener("click", () => playAt(current + 1));
el.seek.addEventListener("input", () => { dragging = true; el.time.textContent = fmtTime(Number(el.seek.value)); });
el.seek.addEventListener("change", () => { dragging = false; audio.currentTime = Number(el.seek.value); });

const showState = () => {
  const playing = !audio.paused;
  setIcon(el.toggle, playing ? "pause" : "play");
  el.toggle.setAttribute("aria-label", playing ? "Pause" : "Play");
  document.body.classList.toggle("is-playing", playing);
};
audio.addEventListener("play", showState);
audio.addEventListener("pause", showState);
audio.addEventListener("ended", () => (current + 1 < rows.length ? playAt(current + 1) : showState()));
audio.addEventListener("loadedmetadata", () => { el.seek.max = String(audio.duration || 0); });
audio.addEventListener("timeupdate", () => {
  if (dragging) return;
  el.seek.value = String(audio.currentTime);
  el.time.textContent = fmtTime(audio.currentTime);
});
if ("mediaSession" in navigator) {
  navigator.mediaSession.setActionHandler("previoustrack", () => playAt(current - 1));
  navigator.mediaSession.setActionHandler("nexttrack", () => playAt(current + 1));
}
window.musicdShare = { audio, playAt };
