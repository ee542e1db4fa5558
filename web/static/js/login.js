// The login page: log in, keep the tokens, go where the user was headed (or to the first-run page).

import { api, login, loadTokens } from "./api.js";

const form = document.getElementById("login-form");
const error = document.getElementById("login-error");
const submit = document.getElementById("login-submit");

function target() {
  const next = new URLSearchParams(location.search).get("next");
  // Only paths on this server: never an open redirect.
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

async function start() {
  if (loadTokens()) {
    location.replace(target());
    return;
  }
  try {
    const setup = await api.get("/v1/auth/setup", null, { auth: false });
    if (setup.needed) location.replace("/setup");
  } catch {
    // the form still works; a login error will say what is wrong
  }
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const name = form.username.value.trim();
  const password = form.password.value;
  if (!name || !password) {
    showError("Enter your username (or e-mail) and your password.");
    return;
  }
  submit.disabled = true;
  showError("");
  try {
    await login(name, password);
    location.replace(target());
  } catch (err) {
    if (err.status === 401) showError("That username and password don't match an account.");
    else if (err.status === 429) showError("Too many attempts. Wait a minute and try again.");
    else if (err.status === 403) showError("This account is disabled.");
    else showError(err.message || "The server can't be reached.");
    form.password.select();
  } finally {
    submit.disabled = false;
  }
});

start();
