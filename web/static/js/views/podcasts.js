// Podcasts: continue listening, the user's shows, every show on the server; subscribe by feed URL or OPML
// (admins and users with the podcast right), export the subscriptions as OPML.

import { api, accessToken, request } from "../api.js";
import { h, emptyState, errorText, toast } from "../ui/dom.js";
import { section, card } from "../ui/cards.js";
import { navigate } from "../router.js";
import { state } from "../state.js";
import { episodeRow } from "./show.js";

export function mayAddFeeds() {
  return state.me?.role === "admin" || (state.me?.role !== "guest" && state.me?.settings?.podcasts_allowed);
}

export function showCard(show) {
  return card({
    href: `/show/${show.id}`, images: show.images, title: show.name,
    subtitle: [show.publisher, `${show.total_episodes} episodes`].filter(Boolean).join(" · "),
  });
}

function addForm(onAdded) {
  const input = h("input", { type: "url", name: "feed_url", required: true, placeholder: "https://example.com/feed.xml",
    id: "feed-url", autocomplete: "off" });
  const button = h("button.button.primary", { type: "submit" }, "Subscribe");
  const status = h("p.muted", { role: "status" });
  const form = h("form.podcast-add", {
    onsubmit: async (e) => {
      e.preventDefault();
      button.disabled = true;
      status.textContent = "Fetching the feed…";
      try {
        const show = await api.post("/v1/podcasts", { feed_url: input.value.trim() });
        status.textContent = "";
        input.value = "";
        toast(`Subscribed to “${show.name}”.`);
        onAdded(show);
      } catch (err) {
        status.textContent = `Can't add this feed: ${errorText(err)}`;
      } finally {
        button.disabled = false;
      }
    },
  }, h("label", { for: "feed-url" }, "Add a podcast by its feed URL"), h("div.row", null, input, button), status);
  const file = h("input", { type: "file", accept: ".opml,.xml,text/xml,text/x-opml", id: "opml-file",
    onchange: async () => {
      const f = file.files?.[0];
      if (!f) return;
      status.textContent = "Importing…";
      try {
        // The OPML file is the body as it is (api.js sends JSON).
        const res = await fetch("/v1/podcasts/opml", { method: "POST", body: await f.text(),
          headers: { Authorization: `Bearer ${await accessToken()}`, "Content-Type": "text/x-opml" } });
        const body = await res.json();
        if (!res.ok) throw new Error(body?.error?.message || `HTTP ${res.status}`);
        status.textContent = `${body.added.length} added` + (body.failed.length
          ? `; failed: ${body.failed.map((x) => `${x.feed_url} (${x.error})`).join(", ")}` : "");
        onAdded(null);
      } catch (err) {
        status.textContent = `Can't import: ${errorText(err)}`;
      }
    } });
  return h("div.podcast-tools", null, form, h("label.button", { for: "opml-file" }, "Import OPML…"), file);
}

async function exportOpml() {
  try {
    const res = await request("GET", "/v1/me/shows/opml", { raw: true });
    const url = URL.createObjectURL(await res.blob());
    const a = h("a", { href: url, download: "musicd-podcasts.opml" });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 5000);
  } catch (e) {
    toast(`Can't export: ${errorText(e)}`, { error: true });
  }
}

export async function render({ root }) {
  root.append(h("div.page-head", null, h("h1.page-title", null, "Podcasts"),
    h("button.button", { type: "button", onclick: exportOpml }, "Export OPML")));
  if (mayAddFeeds()) root.append(addForm((show) => (show ? navigate(`/show/${show.id}`) : navigate("/podcasts"))));
  const resume = h("section.section", { "aria-labelledby": "continue-title" });
  const mine = section("Your shows", { grid: true });
  const all = section("On this server", { grid: true });
  root.append(resume, mine.el, all.el);
  await Promise.allSettled([
    api.get("/v1/me/episodes/in-progress", { limit: 10 }).then((res) => {
      if (!res.items.length) return;
      resume.append(h("div.section-head", null, h("h2", { id: "continue-title" }, "Continue listening")),
        h("ol.episode-list", { "aria-label": "Continue listening" }, res.items.map((ep) => episodeRow(ep, null))));
    }, () => {}),
    api.get("/v1/me/shows", { limit: 50 }).then((res) => {
      mine.fill(res.items.map((it) => showCard(it.show)), { empty: "Subscribe to a show and it will show here." });
    }, (e) => mine.fail(e)),
    api.get("/v1/podcasts").then((res) => {
      all.fill(res.items.map(showCard), { empty: mayAddFeeds() ? "Add a feed above." : "An admin adds feeds." });
    }, (e) => all.fail(e)),
  ]);
  if (!root.isConnected) return;
  if (!resume.childElementCount && !mayAddFeeds() && !all.body.childElementCount) {
    root.append(emptyState("No podcasts yet.", "An admin, or a user given the podcast right, adds feeds."));
  }
}
