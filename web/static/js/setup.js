// First run: create the admin account when the server has no users yet, then log straight in.

import { api, saveTokens } from "./api.js";
import { newAccountBody } from "./account-form.js";

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
  const body = newAccountBody(form, showError);
  if (!body) return;
  try {
    saveTokens(await api.post("/v1/auth/setup", body, { auth: false }));
    location.replace("/");
  } catch (err) {
    if (err.status === 409) location.replace("/login");
    else showError(err.message || "Could not create the account.");
  }
});

start();
