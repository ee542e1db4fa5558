// What the player bar and the full-screen now-playing view show alike: the seek slider with its times, and
// "Playing on X" while another device plays. Both read `playback` (this tab's audio or the active device).
import { playback } from "../playback.js";
import { fmtTime } from "./dom.js";

/** The slider and times in `el` (seek, time, duration) from `playback`; `dragging` leaves the thumb alone.
 * Returns [time, duration] in seconds. */
export function showProgress(el, dragging) {
  const d = playback.duration || 0;
  const t = playback.time || 0;
  el.seek.max = String(d);
  if (!dragging) {
    el.seek.value = String(t);
    el.time.textContent = fmtTime(t);
  }
  el.duration.textContent = fmtTime(d);
  el.seek.setAttribute("aria-valuetext", `${fmtTime(t)} of ${fmtTime(d)}`);
  return [t, d];
}

/** "Playing on X" in `el.remote` and the `is-remote` class on `box` when another device plays; its name or null. */
export function showRemote(el, box) {
  const where = playback.deviceName;
  el.remote.hidden = !where;
  el.remote.textContent = where ? `Playing on ${where}` : "";
  box.classList.toggle("is-remote", Boolean(where));
  return where;
}
