// Admin: the household's accounts (create, role, disable, delete) and the library (folders, scan now
// with live progress, followed over the realtime channel).

import { api } from "../api.js";
import { realtime } from "../realtime.js";
import { h, icon, emptyState, errorText, toast } from "../ui/dom.js";
import { confirmAction } from "../ui/menu.js";
import { state } from "../state.js";
import { invitesCard, resetPassword, skippedCard } from "./admin-household.js";

const ROLES = [["admin", "Admin"], ["user", "User"], ["guest", "Guest (listen only)"]];
let uid = 0;

function field(label, input) {
  input.id ||= `a${++uid}`;
  return h("div.field", null, h("label", { for: input.id }, label), input);
}

function usersCard() {
  const tbody = h("tbody");
  const status = h("p.form-status", { role: "status" });
  const load = async () => {
    let res;
    try {
      res = await api.get("/v1/admin/users");
    } catch (e) {
      tbody.replaceChildren(h("tr", null, h("td", { colspan: "5" }, emptyState("Couldn't load the accounts.", errorText(e), { error: true }))));
      return;
    }
    tbody.replaceChildren(...res.items.map((u) => {
      const self = u.id === state.me.id;
      const role = h("select", { "aria-label": `Role of ${u.username}`, disabled: self },
        ROLES.map(([v, label]) => h("option", { value: v, selected: u.role === v }, label)));
      role.addEventListener("change", async () => {
        try { await api.patch(`/v1/admin/users/${u.id}`, { role: role.value }); toast(`${u.username} is now ${role.value}`); } catch (e) { toast(errorText(e), { error: true }); load(); }
      });
      const enabled = h("input", { type: "checkbox", checked: !u.disabled, disabled: self, "aria-label": `${u.username} may log in` });
      enabled.addEventListener("change", async () => {
        try { await api.patch(`/v1/admin/users/${u.id}`, { disabled: !enabled.checked }); } catch (e) { toast(errorText(e), { error: true }); load(); }
      });
      const del = h("button.icon-button", { type: "button", "aria-label": `Delete ${u.username}`, disabled: self }, icon("delete"));
      del.addEventListener("click", async () => {
        if (!await confirmAction(`Delete ${u.username}?`, "Their playlists, likes and history are deleted too.")) return;
        try { await api.del(`/v1/admin/users/${u.id}`); toast(`Deleted ${u.username}`); load(); } catch (e) { toast(errorText(e), { error: true }); }
      });
      const reset = h("button.icon-button", { type: "button", "aria-label": `Reset the password of ${u.username}`, title: "Reset password", onclick: () => resetPassword(u) }, icon("edit"));
      return h("tr", null,
        h("td", null, h("strong", null, u.username), u.display_name && u.display_name !== u.username ? h("div.muted.small", null, u.display_name) : null),
        h("td.hide-narrow", null, u.email || ""), h("td", null, role), h("td", { "data-label": "Enabled" }, enabled), h("td.admin-actions", null, reset, del));
    }));
  };
  const name = h("input", { required: true, autocomplete: "off" });
  const password = h("input", { type: "password", required: true, minlength: "8", autocomplete: "new-password" });
  const email = h("input", { type: "email", autocomplete: "off" });
  const role = h("select", null, ROLES.map(([v, label]) => h("option", { value: v, selected: v === "user" }, label)));
  const form = h("form.form.grid-form", {
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { username: name.value.trim(), password: password.value, role: role.value };
      if (email.value.trim()) body.email = email.value.trim();
      try {
        await api.post("/v1/admin/users", body);
        form.reset();
        status.textContent = `Created ${body.username}.`;
        load();
      } catch (err) { status.textContent = errorText(err); }
    },
  }, field("Username", name), field("Password", password), field("E-mail (optional)", email), field("Role", role),
  h("button.button.primary", { type: "submit" }, icon("plus"), "Add account"));
  load();
  return h("section.settings-card.wide", { "aria-labelledby": "users-title" },
    h("h2", { id: "users-title" }, "Accounts"),
    h("div.table-wrap", null, h("table.table", null,
      h("thead", null, h("tr", null, h("th", null, "Account"), h("th.hide-narrow", null, "E-mail"), h("th", null, "Role"), h("th", null, "Enabled"), h("th", null, h("span.visually-hidden", null, "Actions")))),
      tbody)),
    h("h3", null, "Add an account"), form, status);
}

function libraryCard() {
  const folders = h("ul.folder-list", { "aria-label": "Library folders" });
  const phase = h("p.scan-phase", { role: "status", "aria-live": "polite" });
  const bar = h("progress.scan-progress", { max: "1", value: "0", "aria-label": "Scan progress" });
  const summary = h("p.muted");
  const button = h("button.button.primary", { type: "button" }, "Scan now");
  let cur = null;
  const show = (s) => {
    cur = s;
    folders.replaceChildren(...(s.folders.length ? s.folders.map((f) => h("li", null, h("code", null, f))) : [h("li.muted", null, "No folders configured (library.folders in the config).")]));
    button.disabled = s.running;
    bar.hidden = !s.running;
    if (s.running) {
      bar.max = Math.max(1, s.total);
      bar.value = s.done;
      phase.textContent = s.total ? `Scanning: ${s.phase}, ${s.done.toLocaleString()} of ${s.total.toLocaleString()}` : `Scanning: ${s.phase}…`;
    } else {
      phase.textContent = s.last_error ? `The last scan failed: ${s.last_error}` : "Idle.";
    }
    if (s.last) {
      const l = s.last;
      summary.textContent = `Last scan: ${l.added} added, ${l.updated} updated, ${l.moved} moved, ${l.removed} removed, ${l.failed} failed, ${l.unchanged} unchanged in ${Number(l.wall_s).toFixed(1)} s.`;
    }
  };
  // The state once over HTTP; then the scan's events (subscribers of `library`) move it along.
  const load = async () => {
    try {
      show(await api.get("/v1/admin/scan"));
    } catch (e) {
      phase.textContent = `Couldn't read the scan state: ${errorText(e)}`;
    }
  };
  const release = realtime.subscribe("library");
  let clicks = 0;
  let doneAt = -1; // the click count when the last scan_done came
  const offs = [
    realtime.on("scan_started", (d) => cur && show({ ...cur, running: true, phase: "walk", done: 0, total: 0, started_at: d.started_at, last_error: null })),
    realtime.on("scan_progress", (d) => cur && show({ ...cur, running: true, phase: d.phase, done: d.done, total: d.total })),
    realtime.on("scan_done", (d) => {
      doneAt = clicks;
      if (!cur) return;
      show({
        ...cur, running: false, phase: "idle", last_error: d.error,
        last: d.error ? cur.last : { added: d.added, updated: d.updated, moved: d.moved, removed: d.removed, failed: d.failed, unchanged: d.unchanged, wall_s: d.wall_s },
      });
    }),
    realtime.on("resync", load),
    realtime.on("open", load), // after a reconnect: events may have been missed
  ];
  button.addEventListener("click", async () => {
    const mine = ++clicks;
    try {
      const s = await api.post("/v1/admin/scan", {});
      // A small library's scan may be over before this answer arrives: then its events said it all.
      if (doneAt !== mine) show(s);
    } catch (e) {
      if (e.status === 409) load();
      else toast(errorText(e), { error: true });
    }
  });
  load();
  const card = h("section.settings-card.wide", { "aria-labelledby": "library-title" },
    h("h2", { id: "library-title" }, "Library"), h("h3", null, "Folders"), folders,
    h("div.scan-row", null, button, phase), bar, summary);
  card.stop = () => { release(); offs.forEach((off) => off()); };
  return card;
}

export function render({ root }) {
  if (state.me.role !== "admin") {
    root.append(h("h1.page-title", null, "Admin"), emptyState("This page is for admins.", "Ask an admin of this server for help."));
    return null;
  }
  const lib = libraryCard();
  const skipped = skippedCard();
  root.append(h("h1.page-title", null, "Admin"), h("div.settings-grid", null, lib, skipped, usersCard(), invitesCard()));
  return () => { lib.stop(); skipped.stop(); };
}
