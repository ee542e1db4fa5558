// An invite link (/join/{token}): say what it offers, then the invited member picks a username and a
// password; the account is made with the invite's role and logged straight in.

import { api, saveTokens } from "./api.js";
import { newAccountBody } from "./account-form.js";

const token = decodeURIComponent(location.pathname.split("/").pop());
const form = document.getElementById("join-form");
const offer = document.getElementById("join-offer");
const error = document.getElementById("join-error");
const ROLE = { admin: "an administrator", user: "a member", guest: "a guest (listening only)" };

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

async function start() {
  try {
    const inv = await api.get(`/v1/invites/${encodeURIComponent(token)}`, null, { auth: false });
    const until = new Date(inv.expires_at).toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" });
    offer.textContent = `Create your account on this music server, as ${ROLE[inv.role] || inv.role}. The invite works once, until ${until}.`;
    form.hidden = false;
    form.username.focus();
  } catch (err) {
    offer.textContent = err.status === 410 || err.status === 404
      ? `${err.message || "This invite link can't be used."} Ask whoever sent it for a new one.`
      : "The server can't be reached.";
  }
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const body = newAccountBody(form, showError);
  if (!body) return;
  try {
    saveTokens(await api.post(`/v1/invites/${encodeURIComponent(token)}/accept`, body, { auth: false }));
    location.replace("/");
  } catch (err) {
    showError(err.message || "Could not create the account.");
  }
});

start();
