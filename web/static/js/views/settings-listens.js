// Settings card "Scrobbling": the ListenBrainz token scrobblers report plays with, and imports of a
// ListenBrainz export or a Last.fm CSV (uploaded as the request body, followed until the server is done).

import { api, accessToken, ApiError } from "../api.js";
import { h, errorText, toast, copyText } from "../ui/dom.js";
import { confirmAction } from "../ui/menu.js";
import { canEdit } from "../state.js";

function row(label, value) {
  const input = h("input", { value, readonly: true, "aria-label": label, onfocus: (e) => e.target.select() });
  return h("div.field", null, h("span.label", null, label), h("div.copy-row", null, input,
    h("button.button", { type: "button", onclick: async () => { await copyText(value); toast(`${label} copied`); } }, "Copy")));
}

function summaryText(job) {
  const s = job.summary;
  return `${s.read} listens read: ${s.matched} matched, ${s.unmatched} not in the library (kept, matched after a scan),` +
    ` ${s.duplicates} already there, ${s.rejected} rejected.`;
}

async function upload(file, status) {
  const r = await fetch("/v1/me/listens/imports", {
    method: "POST", body: file, headers: { Authorization: `Bearer ${await accessToken()}` },
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new ApiError(r.status, body?.error?.code, body?.error?.message);
  let job = body;
  while (job.status === "running") {
    status.textContent = `Importing… ${Math.round(job.progress * 100)} % (${job.summary.read} listens read)`;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    job = await api.get(`/v1/me/listens/imports/${job.id}`);
  }
  if (job.status === "failed") throw new Error(job.error || "the import failed");
  return job;
}

export function listensCard(card) {
  const token = h("div");
  const counts = h("p.muted", { "data-testid": "listen-counts" });
  const status = h("p.form-status", { role: "status" });
  const load = async () => {
    try {
      const [t, c] = await Promise.all([api.get("/v1/me/listenbrainz-token"), api.get("/v1/me/listens")]);
      token.replaceChildren(
        row("ListenBrainz API URL", t.api_url),
        t.token ? row("Your token", t.token) : h("p.muted", null, "No token yet."),
        h("button.button", {
          type: "button", disabled: !canEdit(),
          onclick: async () => {
            if (t.token && !await confirmAction("Make a new token?", "Scrobblers using the current token stop working until you give them the new one.", { confirm: "New token" })) return;
            try { await api.post("/v1/me/listenbrainz-token"); await load(); } catch (err) { status.textContent = errorText(err); }
          },
        }, t.token ? "Regenerate token" : "Create token"));
      counts.textContent = `${c.total} listens, ${c.matched} matched to tracks of this library, ${c.unmatched} not (yet).`;
    } catch (err) { status.textContent = errorText(err); }
  };
  const file = h("input", { type: "file", accept: ".zip,.json,.jsonl,.csv", "aria-label": "History file" });
  const importButton = h("button.button.primary", { type: "submit", disabled: !canEdit() }, "Import");
  const form = h("form.form.inline-form", {
    onsubmit: async (e) => {
      e.preventDefault();
      if (!file.files.length) { status.textContent = "Choose a file first."; return; }
      importButton.disabled = true;
      try {
        status.textContent = "Uploading…";
        const job = await upload(file.files[0], status);
        status.textContent = summaryText(job);
        form.reset();
        await load();
      } catch (err) {
        status.textContent = errorText(err);
      } finally { importButton.disabled = !canEdit(); }
    },
  }, h("div.field", null, h("span.label", null, "Import a ListenBrainz export (zip or JSON) or a Last.fm scrobble CSV"), file),
  importButton);
  load();
  return card("Scrobbling (ListenBrainz)",
    h("p.muted", null, "Players and scrobblers that speak ListenBrainz (multi-scrobbler, Navidrome, Jellyfin, Pano Scrobbler, …) report your plays to musicd: give them this URL and token."),
    token, counts, form, status);
}
