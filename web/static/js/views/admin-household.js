// Admin, the household's chores: invite links for new members, a member's password reset, the files the
// last scan skipped. Cards for views/admin.js.

import { api } from "../api.js";
import { realtime } from "../realtime.js";
import { h, icon, emptyState, errorText, toast, copyText } from "../ui/dom.js";
import { dialog } from "../ui/menu.js";

const ROLE_NAMES = { admin: "Admin", user: "User", guest: "Guest" };
const EXPIRIES = [[86400, "1 day"], [7 * 86400, "7 days"], [30 * 86400, "30 days"]];
let uid = 0;

function field(label, input) {
  input.id ||= `ah${++uid}`;
  return h("div.field", null, h("label", { for: input.id }, label), input);
}

const day = (iso) => new Date(iso).toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });

/** Invite links: make one (role, expiry, a note), copy it once; see and revoke the open ones. */
export function invitesCard() {
  const tbody = h("tbody");
  const made = h("div.link-box", { hidden: true });
  const load = async () => {
    let res;
    try {
      res = await api.get("/v1/admin/invites");
    } catch (e) {
      tbody.replaceChildren(h("tr", null, h("td", { colspan: "4" }, emptyState("Couldn't load the invites.", errorText(e), { error: true }))));
      return;
    }
    if (!res.items.length) {
      tbody.replaceChildren(h("tr", null, h("td.muted", { colspan: "4" }, "No invites yet.")));
      return;
    }
    tbody.replaceChildren(...res.items.map((inv) => {
      const state = { open: `Open until ${day(inv.expires_at)}`, used: `Used by ${inv.used_by || "a deleted account"}`,
        expired: "Expired", revoked: "Revoked" }[inv.state];
      const revoke = inv.state === "open" ? h("button.button.outline", {
        type: "button", "aria-label": `Revoke the invite ${inv.note || inv.id}`,
        onclick: async () => {
          try { await api.del(`/v1/admin/invites/${inv.id}`); toast("Invite revoked."); load(); } catch (e) { toast(errorText(e), { error: true }); }
        },
      }, "Revoke") : null;
      return h("tr", { dataset: { state: inv.state } },
        h("td", null, h("strong", null, inv.note || "Invite"), h("div.muted.small", null, `made ${day(inv.created_at)}`)),
        h("td", { "data-label": "Role" }, ROLE_NAMES[inv.role] || inv.role),
        h("td", null, state), h("td", null, revoke));
    }));
  };
  const role = h("select", null, Object.entries(ROLE_NAMES).map(([v, label]) => h("option", { value: v, selected: v === "user" }, label)));
  const expires = h("select", null, EXPIRIES.map(([s, label]) => h("option", { value: String(s), selected: s === 7 * 86400 }, label)));
  const note = h("input", { maxlength: "200", autocomplete: "off", placeholder: "e.g. Sam's phone" });
  const form = h("form.form.grid-form", {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const inv = await api.post("/v1/admin/invites", { role: role.value, expires_in: Number(expires.value), note: note.value.trim() || null });
        const out = h("input", { readonly: true, value: inv.url, "aria-label": "Invite link" });
        made.replaceChildren(out, h("button.button", { type: "button", onclick: async () => { await copyText(inv.url); toast("Link copied."); } }, icon("link"), "Copy"));
        made.hidden = false;
        out.select();
        form.reset();
        load();
      } catch (err) { toast(errorText(err), { error: true }); }
    },
  }, field("Role", role), field("Expires after", expires), field("For (optional)", note),
  h("button.button.primary", { type: "submit" }, icon("plus"), "Create invite link"));
  load();
  return h("section.settings-card.wide", { "aria-labelledby": "invites-title" },
    h("h2", { id: "invites-title" }, "Invites"),
    h("p.admin-note", null, "A link lets one new member make their own account with the role you choose. It works once and is shown only now: send it to them."),
    form, made,
    h("div.table-wrap", null, h("table.table", { "aria-label": "Invites" },
      h("thead", null, h("tr", null, h("th", null, "Invite"), h("th", null, "Role"), h("th", null, "State"), h("th", null, h("span.visually-hidden", null, "Actions")))),
      tbody)));
}

/** The files the scans could not read (and folders they could not open), with the reasons. */
export function skippedCard() {
  const list = h("div");
  const more = h("button.button.outline", { type: "button", hidden: true }, "Show more");
  let offset = 0;
  const tbody = h("tbody");
  const load = async (from = 0) => {
    let res;
    try {
      res = await api.get("/v1/admin/scan/skipped", { limit: 100, offset: from });
    } catch (e) {
      list.replaceChildren(emptyState("Couldn't load the skipped files.", errorText(e), { error: true }));
      return;
    }
    if (from === 0) tbody.replaceChildren();
    tbody.append(...res.items.map((f) => h("tr", { dataset: { kind: f.kind } },
      h("td", null, h("span.admin-path", null, f.rel_path), f.folder ? h("div.muted.small.admin-path", null, f.folder) : null),
      h("td", { "data-label": f.kind === "folder" ? "Folder:" : "Why:" }, f.reason))));
    offset = from + res.limit;
    more.hidden = offset >= res.total;
    if (!tbody.children.length) list.replaceChildren(h("p.muted", null, "The last scan read every file."));
    else list.replaceChildren(h("p.admin-note", null, `${res.total} file${res.total === 1 ? "" : "s"} could not be read. Fix or remove them and scan again.`),
      h("div.table-wrap", null, h("table.table", { "aria-label": "Skipped files" },
        h("thead", null, h("tr", null, h("th", null, "File"), h("th", null, "Reason"))), tbody)));
  };
  more.addEventListener("click", () => load(offset));
  load();
  const card = h("section.settings-card.wide", { "aria-labelledby": "skipped-title" },
    h("h2", { id: "skipped-title" }, "Skipped by the scan"), list, more);
  card.stop = realtime.on("scan_done", () => load()); // the admin page's scan card subscribes to `library`
  return card;
}

/** Give a member a new password (they forgot theirs); their sessions end. */
export async function resetPassword(user) {
  const password = await dialog(`New password for ${user.username}`, (close) => {
    const input = h("input", { type: "password", required: true, minlength: "8", autocomplete: "new-password", autofocus: true });
    return h("form.form", {
      onsubmit: (e) => {
        e.preventDefault();
        if (input.value.length >= 8) close(input.value);
        else toast("Use a password of at least 8 characters.", { error: true });
      },
    }, h("p.muted", null, "They are logged out everywhere and log in again with this password."),
    field("New password", input),
    h("div.dialog-actions", null,
      h("button.button", { type: "button", onclick: () => close(null) }, "Cancel"),
      h("button.button.primary", { type: "submit" }, "Set password")));
  });
  if (!password) return;
  try {
    await api.put(`/v1/admin/users/${user.id}/password`, { password });
    toast(`New password set for ${user.username}.`);
  } catch (e) { toast(errorText(e), { error: true }); }
}
