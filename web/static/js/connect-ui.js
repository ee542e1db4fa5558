// Speakers and Jam in the web player (docs/connect.md): approve the code a `musicd speaker` shows, and
// start, join, follow and end a Jam on one of your devices. The Jam's state comes over the realtime
// channel (`jam_state`, to every member); this tab only shows it and sends the commands.

import { api } from "./api.js";
import { realtime } from "./realtime.js";
import { state } from "./state.js";
import { h, errorText, plural } from "./ui/dom.js";
import { dialog } from "./ui/menu.js";

let jam = null; // the Jam this user is in (its last jam_state), or null
const jamChanged = new EventTarget();

/** Follow the Jams this user is in (after the realtime channel is started). */
export function setupJam() {
  realtime.on("jam_state", (d) => {
    jam = d.ended ? null : d;
    jamChanged.dispatchEvent(new CustomEvent("change"));
  });
}

const status = (el, text, error = false) => {
  el.textContent = text;
  el.classList.toggle("error", error);
};

function pairSection() {
  const input = h("input", { id: "pair-code", required: true, autocomplete: "off", placeholder: "ABCD2345", maxlength: "16",
    "aria-describedby": "pair-status" });
  const out = h("p.muted", { id: "pair-status", role: "status" });
  const form = h("form.form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const code = input.value.trim();
      if (!code) return;
      try {
        const res = await api.post("/v1/me/speakers/approve", { code });
        status(out, `“${res.name}” is now one of your devices.`);
        input.value = "";
      } catch (err) {
        status(out, err.status === 404 ? "No speaker shows this code (it may have expired)." : errorText(err), true);
      }
    },
  },
  h("div.field", null, h("label", { for: "pair-code" }, "Code shown by the speaker"), input),
  h("div.dialog-actions", null, h("button.button.primary", { id: "pair-approve", type: "submit" }, "Approve")));
  return h("section.connect-section", { "aria-labelledby": "pair-head" },
    h("h3", { id: "pair-head" }, "Pair a speaker"), form, out);
}

/** The Jam panel: the Jam this user is in (code, link, members, leave/end), else start or join one
(`code` pre-fills the join field: a Jam link). Returns [element, stop following]. */
export async function jamSection(prefill = "") {
  const root = h("section.connect-section", { "aria-labelledby": "jam-head" });
  const out = h("p.muted", { id: "jam-status", role: "status" });
  const usable = (list) => list.filter((d) => !d.is_restricted);
  let devices = usable((await api.get("/v1/me/player/devices")).devices);
  let chosen = null;
  const pick = () => h("select", { id: "jam-device", "aria-label": "Listen on", onchange: (e) => { chosen = e.target.value; } },
    devices.map((d) => h("option", { value: d.id, selected: (chosen ? d.id === chosen : d.is_active) || null }, d.name)));
  const act = async (fn) => {
    try { jam = await fn(); draw(); } catch (err) { status(out, errorText(err), true); }
  };
  const draw = () => {
    if (jam) {
      const host = jam.host_id === state.me?.id;
      root.replaceChildren(h("h3", { id: "jam-head" }, "Jam"),
        h("p", null, "Code ", h("strong", { id: "jam-code" }, jam.code), " · ",
          h("span", { id: "jam-members" }, plural(jam.members.length, "member"))),
        h("p.muted", null, "Link: ", h("a", { id: "jam-link", href: `/jam/${jam.code}` }, `${location.origin}/jam/${jam.code}`)),
        h("div.dialog-actions", null, h("button.button", { id: "jam-leave",
          type: "button",
          onclick: () => act(async () => { await api.del(`/v1/jam/${jam.jam_id}`); return null; }),
        }, host ? "End the Jam" : "Leave the Jam")), out);
      return;
    }
    const select = pick();
    const code = h("input", { id: "jam-join-code", autocomplete: "off", placeholder: "Code", "aria-label": "Jam code",
      value: prefill });
    const device = () => select.value;
    root.replaceChildren(h("h3", { id: "jam-head" }, "Jam"),
      h("p.muted", null, "Listen together: everyone's device plays the same track at the same moment."),
      h("div.field", null, h("label", { for: "jam-device" }, "Listen on"), select),
      h("div.dialog-actions", null, h("button.button.primary", { id: "jam-start",
        type: "button", disabled: !devices.length,
        onclick: () => act(() => api.post("/v1/me/jam", { device_id: device() })),
      }, "Start a Jam")),
      h("form.form.inline-form", {
        onsubmit: (e) => {
          e.preventDefault();
          if (code.value.trim()) act(() => api.post("/v1/jam/join", { code: code.value.trim(), device_id: device() }));
        },
      }, code, h("button.button", { id: "jam-join", type: "submit", disabled: !devices.length }, "Join")), out);
  };
  draw();
  jamChanged.addEventListener("change", draw);
  // A device that comes online meanwhile (this very tab, just after a Jam link opened it) can be chosen.
  let heard = false;
  const redraw = (list) => {
    devices = usable(list);
    if (jam) return;
    prefill = root.querySelector("#jam-join-code")?.value ?? prefill;
    draw();
  };
  const offDevices = realtime.on("devices_changed", (d) => { heard = true; redraw(d.devices); });
  // The tab may have registered between the first list and the subscription (its event then came before
  // anyone listened): ask once more, unless an event has already said something newer.
  api.get("/v1/me/player/devices").then((r) => { if (!heard) redraw(r.devices); }).catch(() => {});
  return [root, () => { jamChanged.removeEventListener("change", draw); offDevices(); }];
}

/** The "Speakers and Jam" dialog. */
export async function openConnectDialog() {
  const [jamEl, stop] = await jamSection();
  try {
    await dialog("Speakers and Jam", h("div.connect-dialog", null, pairSection(), jamEl));
  } finally {
    stop();
  }
}
