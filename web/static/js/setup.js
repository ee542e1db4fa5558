// First run: create the admin account when the server has no users yet, then log straight in.

import { api, saveTokens } from "./api.js";

const form = document.getElementById("setup-form");
const error = document.getElementById("setup-error");

function showError(text) {
  error.textContent = text;
  error.hidden = !text;
}

async function start() {
  try {
    const setup = await api.get("/v1/auth/setup", null, { auth: false });
    if (!setup.needed) location.replace("/login");
  } catch {
    showError("The server can't be reached.");
  }
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username) return showError("Choose a username.");
  if (password.length < 8) return showError("Use a password of at least 8 characters.");
  if (password !== form.password2.value) return showError("The two passwords are not the same.");
  const body = { username, password };
  if (form.email.value.trim()) body.email = form.email.value.trim();
  showError("");
  try {
    saveTokens(await api.post("/v1/auth/setup", body, { auth: false }));
    location.replace("/");
  } catch (err) {
    if (err.status === 409) location.replace("/login");
    else showError(err.message || "Could not create the account.");
  }
});

start();
