// The "Download" switch of an album, a playlist or the liked songs: keeps it offline on this browser.

import { h, toast, errorText } from "../ui/dom.js";
import { offline } from "./manager.js";

/** A button that marks `type`/`id` for offline (in `quality`) and shows whether it is. */
export function offlineToggle(type, id = "", name = "") {
  const b = h("button.button.outline.offline-toggle", { type: "button", "aria-pressed": "false", "data-offline-toggle": type },
    "Download");
  const show = (on) => {
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = on ? "Downloaded" : "Download";
    b.title = on ? `${name || "This"} is kept offline on this browser; click to remove it` : "Keep it offline on this browser";
  };
  offline.isMarked(type, id).then(show);
  b.addEventListener("click", async () => {
    const on = b.getAttribute("aria-pressed") !== "true";
    b.disabled = true;
    try {
      if (on) await offline.mark(type, id, "normal");
      else await offline.unmark(type, id);
      show(on);
      toast(on ? `Downloading ${name || "it"} for offline listening` : `${name || "It"} is no longer kept offline`);
    } catch (e) {
      toast(errorText(e), { error: true });
    } finally {
      b.disabled = false;
    }
  });
  return b;
}
