// Settings cards of federation: admins pair with friends' servers (invite, join, scopes, revoke);
// everyone follows friends on those servers and sees what they share of their listening.

import { api } from "../api.js";
import { h, errorText, toast, copyText, emptyState } from "../ui/dom.js";
import { confirmAction } from "../ui/menu.js";
import { state, canEdit } from "../state.js";

const SCOPES = [["library", "Browse and search the library"], ["stream", "Stream tracks"], ["activity", "See what users share of their listening"]];

let uid = 0;
function card(title, ...children) {
  const id = `fed-card-${++uid}`;
  return h("section.settings-card", { "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

function status() {
  return h("p.form-status", { role: "status" });
}

function scopeChoices(prefix) {
  const boxes = SCOPES.map(([name, label]) => {
    const id = `${prefix}-${name}`;
    const box = h("input", { type: "checkbox", id, value: name, checked: true });
    return { box, el: h("label", { for: id }, box, ` ${label}`) };
  });
  return { el: h("div.scope-choices", { role: "group", "aria-label": "What the other server may do here" }, boxes.map((b) => b.el)),
    values: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value) };
}

function peerRow(p, reload) {
  const when = p.synced_at ? `synced ${new Date(p.synced_at).toLocaleString()}` : "not synced yet";
  const info = [`${p.tracks} tracks`, p.status === "active" ? (p.available ? "available" : "unavailable") : p.status, when]
    .join(" · ");
  const act = async (fn, ok) => { try { await fn(); if (ok) toast(ok); await reload(); } catch (err) { toast(errorText(err), { error: true }); } };
  return h("li.peer-row", null,
    h("div", null, h("strong", null, p.name), h("div.muted.small", null, info),
      h("div.muted.small", null, `May here: ${p.scopes_granted.join(", ") || "nothing"} · lets us: ${p.scopes_received.join(", ") || "nothing"}`),
      p.sync_error ? h("div.muted.small", null, `Last problem: ${p.sync_error}`) : null),
    h("div.actions", null,
      p.status === "pending" ? h("button.button.small", { type: "button", onclick: () => act(() => api.post(`/v1/admin/federation/peers/${p.id}/approve`), "Approved") }, "Approve") : null,
      p.status === "active" ? h("button.button.small", { type: "button", onclick: () => act(() => api.post(`/v1/admin/federation/peers/${p.id}/sync`), "Synced") }, "Sync now") : null,
      p.status !== "revoked" ? h("button.button.danger.small", {
        type: "button", "aria-label": `Revoke ${p.name}`,
        onclick: async () => {
          if (!await confirmAction(`Stop sharing with ${p.name}?`, "Its next request is refused and its music leaves this server.", { confirm: "Revoke" })) return;
          await act(() => api.del(`/v1/admin/federation/peers/${p.id}`), "Revoked");
        },
      }, "Revoke") : null));
}

function serversCard() {
  const list = h("ul.peer-list", { "aria-label": "Friends' servers" });
  const me = h("p.muted");
  const load = async () => {
    try {
      const res = await api.get("/v1/admin/federation");
      me.textContent = `This server: ${res.instance.name} (${res.instance.url})`;
      list.replaceChildren(...res.peers.map((p) => peerRow(p, load)));
      if (!res.peers.length) list.append(h("li.muted", null, "No friends' servers yet."));
    } catch (err) {
      list.replaceChildren(h("li", null, emptyState("Couldn't load the servers.", errorText(err), { error: true })));
    }
  };
  const inviteScopes = scopeChoices("invite");
  const approve = h("input", { type: "checkbox", id: "invite-approve", checked: true });
  const code = h("input", { readonly: true, "aria-label": "Invite", placeholder: "The invite appears here", onfocus: (e) => e.target.select() });
  const inviteStatus = status();
  const invite = h("form.form", {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const res = await api.post("/v1/admin/federation/invites", { scopes: inviteScopes.values(), approve: approve.checked });
        code.value = res.invite;
        await copyText(res.invite);
        inviteStatus.textContent = "Invite copied. It works once, for a day: send it to your friend's admin.";
      } catch (err) { inviteStatus.textContent = errorText(err); }
    },
  }, h("h3", null, "Invite a friend's server"), inviteScopes.el,
  h("label", { for: "invite-approve" }, approve, " Let it in without asking me again"),
  h("div.copy-row", null, code, h("button.button.primary", { type: "submit" }, "Make an invite")), inviteStatus);
  const pasted = h("input", { placeholder: "musicd-invite:…", "aria-label": "Invite from a friend" });
  const joinScopes = scopeChoices("join");
  const joinStatus = status();
  const join = h("form.form", {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const peer = await api.post("/v1/admin/federation/join", { invite: pasted.value.trim(), scopes: joinScopes.values() });
        pasted.value = "";
        joinStatus.textContent = `Paired with ${peer.name}. Its music appears here after the first sync.`;
        await load();
      } catch (err) { joinStatus.textContent = errorText(err); }
    },
  }, h("h3", null, "Join with an invite"), pasted, joinScopes.el, h("button.button.primary", { type: "submit" }, "Join"), joinStatus);
  load();
  return card("Friends' servers", me, list, invite, join);
}

function friendsCard() {
  const servers = h("select", { "aria-label": "Server" });
  const username = h("input", { placeholder: "their username", "aria-label": "Username", maxlength: "64" });
  const list = h("ul.follow-list", { "aria-label": "People you follow on friends' servers" });
  const followStatus = status();
  const load = async () => {
    try {
      const [peers, activity] = await Promise.all([api.get("/v1/federation/peers"), api.get("/v1/me/federation/activity")]);
      servers.replaceChildren(...peers.items.filter((p) => p.scopes.includes("activity")).map((p) => h("option", { value: p.id }, p.name)));
      list.replaceChildren(...activity.items.map((a) => h("li.follow-row", null,
        h("div", null, h("strong", null, a.user.display_name), h("span.muted", null, ` on ${a.user.server}`),
          h("div.muted.small", null, !a.available ? "their server does not answer right now"
            : !a.sharing ? "does not share their listening"
              : a.track ? `played ${a.track.name} by ${(a.track.artists || []).map((x) => x.name).join(", ")}` : "nothing played yet")),
        h("button.button.small", {
          type: "button", "aria-label": `Unfollow ${a.user.display_name}`,
          onclick: async () => {
            try {
              await api.del(`/v1/me/federation/following?peer_id=${encodeURIComponent(a.user.peer_id)}&username=${encodeURIComponent(a.user.username)}`);
              await load();
            } catch (err) { toast(errorText(err), { error: true }); }
          },
        }, "Unfollow"))));
      if (!activity.items.length) list.append(h("li.muted", null, "You follow nobody on friends' servers yet."));
    } catch (err) {
      list.replaceChildren(h("li", null, emptyState("Couldn't load your friends.", errorText(err), { error: true })));
    }
  };
  const follow = h("form.form.inline-form", {
    onsubmit: async (e) => {
      e.preventDefault();
      try {
        const u = await api.put("/v1/me/federation/following", { peer_id: servers.value, username: username.value.trim() });
        username.value = "";
        followStatus.textContent = `You follow ${u.display_name} on ${u.server}.`;
        await load();
      } catch (err) { followStatus.textContent = errorText(err); }
    },
  }, servers, username, h("button.button.primary", { type: "submit", disabled: !canEdit() }, "Follow"));
  load();
  // Whether followers, here and on friends' servers, see what one plays is the "Listening activity" card's.
  return card("Friends on other servers", list, follow, followStatus);
}

/** The federation cards of the settings page (the servers card only for admins). */
export function federationCards() {
  return state.me.role === "admin" ? [serversCard(), friendsCard()] : [friendsCard()];
}
