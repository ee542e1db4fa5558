// Settings: profile, password, default streaming quality, API keys for Subsonic apps, sessions.

import { api, saveTokens, logout } from "../api.js";
import { realtime } from "../realtime.js";
import { h, icon, emptyState, errorText, toast, copyText } from "../ui/dom.js";
import { dialog, confirmAction } from "../ui/menu.js";
import { state, canEdit } from "../state.js";
import { player } from "../player.js";
import { federationCards } from "./federation-settings.js";
import { listensCard } from "./settings-listens.js";

let uid = 0;
function field(label, input, hint = null) {
  const id = input.id || `f${++uid}`;
  input.id = id;
  return h("div.field", null, h("label", { for: id }, label), input, hint ? h("p.hint.muted", null, hint) : null);
}

function card(title, ...children) {
  const id = `card-${++uid}`;
  return h("section.settings-card", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function statusLine() {
  return h("p.form-status", { role: "status" });
}

function profileCard() {
  const name = h("input", { value: state.me.display_name || "", autocomplete: "nickname" });
  const status = statusLine();
  return card("Profile",
    h("p.muted", null, `Signed in as ${state.me.username}${state.me.email ? ` (${state.me.email})` : ""} · ${state.me.role}`),
    h("form.form", {
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          state.me = await api.put("/v1/me", { display_name: name.value.trim() || null });
          document.getElementById("user-name").textContent = state.me.display_name || state.me.username;
          status.textContent = "Saved.";
        } catch (err) { status.textContent = errorText(err); }
      },
    }, field("Display name", name), h("button.button.primary", { type: "submit", disabled: !canEdit() }, "Save"), status));
}

function passwordCard() {
  const current = h("input", { type: "password", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", autocomplete: "new-password", required: true, minlength: "8" });
  const again = h("input", { type: "password", autocomplete: "new-password", required: true });
  const status = statusLine();
  const form = h("form.form", {
    onsubmit: async (e) => {
      e.preventDefault();
      if (next.value.length < 8) { status.textContent = "Use at least 8 characters."; return; }
      if (next.value !== again.value) { status.textContent = "The new passwords are not the same."; return; }
      try {
        saveTokens(await api.put("/v1/me/password", { current_password: current.value, new_password: next.value }));
        form.reset();
        status.textContent = "Password changed. Your other devices have been logged out.";
      } catch (err) {
        status.textContent = err.status === 401 || err.status === 403 ? "The current password is not right." : errorText(err);
      }
    },
  },
  // Password managers (and Chrome's accessibility check) want the account name beside a password form.
  h("input", { type: "text", name: "username", autocomplete: "username", value: state.me.username, hidden: true, readonly: true }),
  field("Current password", current), field("New password", next, "At least 8 characters."), field("Repeat the new password", again),
  h("button.button.primary", { type: "submit", disabled: !canEdit() }, "Change password"), status);
  return card("Password", form);
}

function qualityCard() {
  const select = h("select", null,
    [["low", "Low (96 kbps Ogg Vorbis)"], ["normal", "Normal (160 kbps Ogg Vorbis)"], ["high", "High (320 kbps Ogg Vorbis)"], ["lossless", "Lossless (FLAC or the original)"]]
      .map(([v, label]) => h("option", { value: v, selected: (state.me.settings?.default_quality || "normal") === v }, label)));
  select.disabled = !canEdit();  // guests change no settings: the player's own quality menu still works
  const status = statusLine();
  select.addEventListener("change", async () => {
    try {
      const settings = await api.put("/v1/me/settings", { default_quality: select.value });
      state.me.settings = settings;
      status.textContent = "Saved. It applies to every device set to “Auto”.";
      if (!player.quality) player.setQuality("");
    } catch (err) { status.textContent = errorText(err); }
  });
  return card("Streaming quality", field("Default quality", select, "The player bar can override it on this device."), status);
}

function activityCard() {
  const settings = () => state.me.settings || {};
  const share = h("input", { type: "checkbox", checked: Boolean(settings().share_activity), disabled: !canEdit() });
  const privateButton = h("button.button.outline", { type: "button", disabled: !canEdit() });
  const status = statusLine();
  const privateNow = () => Boolean(settings().private_session_until && Date.parse(settings().private_session_until) > Date.now());
  const show = () => {
    share.checked = Boolean(settings().share_activity);
    privateButton.textContent = privateNow() ? "End the private session" : "Start a private session (1 hour)";
    privateButton.setAttribute("aria-pressed", privateNow() ? "true" : "false");
    status.textContent = privateNow()
      ? `Private session until ${new Date(settings().private_session_until).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: nothing you play is shown.`
      : "";
  };
  const change = async (body) => {
    try {
      state.me.settings = await api.put("/v1/me/settings", body);
      show();
    } catch (err) { status.textContent = errorText(err); show(); }
  };
  share.addEventListener("change", () => change({ share_activity: share.checked }));
  privateButton.addEventListener("click", () => change({ private_session: !privateNow() }));
  show();
  const label = h("label.check-row", null, share, " Share what I play with the people who follow me");
  return card("Listening activity", label,
    h("p.hint.muted", null, "Off unless you turn it on. A private session hides your listening for an hour."),
    privateButton, status);
}

function showNewKey(created) {
  return dialog("Your new API key", (close) => h("div.new-key", null,
    h("p", null, "Copy the key now: it is shown only once."),
    copyRow("API key", created.key),
    copyRow("Server URL", created.server_url),
    copyRow("Username", created.username),
    h("p.muted", null, "In a Subsonic app (DSub, Symfonium, Feishin, …) enter the server URL and paste the key as the API key; apps without API-key support take your username and password instead."),
    h("div.dialog-actions", null, h("button.button.primary", { type: "button", onclick: () => close() }, "Done"))));
}

function copyRow(label, value) {
  const input = h("input", { value, readonly: true, "aria-label": label, onfocus: (e) => e.target.select() });
  return h("div.field", null, h("span.label", null, label), h("div.copy-row", null, input,
    h("button.button", { type: "button", onclick: async () => { await copyText(value); toast(`${label} copied`); } }, "Copy")));
}

function apiKeysCard() {
  const list = h("ul.key-list", { "aria-label": "API keys" });
  const status = statusLine();
  const server = h("p.muted");
  const load = async () => {
    try {
      const res = await api.get("/v1/me/api-keys");
      server.textContent = `Server URL for Subsonic apps: ${res.server_url}`;
      list.replaceChildren(...res.items.map((k) => h("li.key-row", null,
        h("div", null, h("strong", null, k.name), h("span.muted", null, ` ${k.prefix}…`),
          h("div.muted.small", null, `Created ${new Date(k.created_at).toLocaleDateString()}`,
            k.last_used_at ? ` · last used ${new Date(k.last_used_at).toLocaleString()}` : " · never used")),
        h("button.button.danger.small", {
          type: "button", "aria-label": `Revoke ${k.name}`,
          onclick: async () => {
            if (!await confirmAction("Revoke this key?", `Apps using “${k.name}” stop working at once.`, { confirm: "Revoke" })) return;
            try { await api.del(`/v1/me/api-keys/${k.id}`); await load(); } catch (err) { toast(errorText(err), { error: true }); }
          },
        }, "Revoke"))));
      if (!res.items.length) list.append(h("li.muted", null, "No keys yet."));
    } catch (err) {
      list.replaceChildren(h("li", null, emptyState("Couldn't load your keys.", errorText(err), { error: true })));
    }
  };
  const name = h("input", { placeholder: "e.g. Phone (Symfonium)", maxlength: "100" });
  const form = h("form.form.inline-form", {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const created = await api.post("/v1/me/api-keys", { name: name.value.trim() });
        name.value = "";
        await showNewKey(created);
        await load();
      } catch (err) { status.textContent = errorText(err); }
    },
  }, field("Name of the new key", name), h("button.button.primary", { type: "submit", disabled: !canEdit() }, icon("plus"), "Create key"));
  load();
  return card("API keys for Subsonic apps", server, list, form, status);
}

function sessionsCard() {
  return card("Sessions",
    h("p.muted", null, "Log out of musicd on every device and browser, this one included."),
    h("button.button.outline", {
      type: "button",
      onclick: async () => {
        if (!await confirmAction("Log out everywhere?", "Every device will need to log in again.", { confirm: "Log out everywhere" })) return;
        realtime.stop();
        try { await api.post("/v1/auth/logout", { everywhere: true }); } catch { /* leaving anyway */ }
        player.reset();
        await logout();
        location.replace("/login");
      },
    }, "Log out everywhere"));
}

export function render({ root }) {
  root.append(h("h1.page-title", null, "Settings"),
    h("div.settings-grid", null, profileCard(), qualityCard(), activityCard(), passwordCard(), apiKeysCard(),
      listensCard(card), ...federationCards(), sessionsCard()));
  return null;
}
