// A show: its notes, subscribe, refresh and remove (for those with the podcast right), and its episodes
// with the user's progress, played state, download state and chapters (a click seeks there).

import { api, allPages } from "../api.js";
import { h, cover, emptyState, errorText, fmtTime, toast } from "../ui/dom.js";
import { player } from "../player.js";
import { playEpisode } from "../episodes.js";
import { navigate } from "../router.js";
import { state, canEdit } from "../state.js";

const mayManage = () => state.me?.role === "admin" || (state.me?.role !== "guest" && state.me?.settings?.podcasts_allowed);

/** Show notes: the server sanitised them (nh3); only formatting and http(s) links can be in them. */
export function notes(html, cls = "show-notes") {
  const tpl = document.createElement("template");
  tpl.innerHTML = html || "";
  for (const el of tpl.content.querySelectorAll("*")) {
    for (const a of [...el.attributes]) if (a.name.startsWith("on")) el.removeAttribute(a.name); // belt and braces
    if (el.tagName === "A") el.target = "_blank";
  }
  return h(`div.${cls}`, null, tpl.content);
}

function progressOf(ep) {
  const rp = ep.resume_point || {};
  const d = ep.duration_ms || 0;
  if (rp.fully_played) return 1;
  return d ? Math.min(1, (rp.resume_position_ms || 0) / d) : 0;
}

function chapterList(ep) {
  if (!ep.chapters?.length) return null;
  return h("ol.chapters", { "aria-label": "Chapters" }, ep.chapters.map((c) => h("li", null,
    h("button.chapter", {
      type: "button", "data-start": String(c.start_s),
      onclick: () => seekEpisode(ep, c.start_s),
    }, h("span.chapter-time", null, fmtTime(c.start_s)), " ", c.title || "Chapter"))));
}

/** Seek the player to `seconds` of the episode (starting it first when another thing plays). */
async function seekEpisode(ep, seconds) {
  if (player.current?.track.id !== ep.id) await playEpisode(ep);
  player.seek(seconds);
  if (!player.isPlaying()) player.resume();
}

/** The episode's Podcasting 2.0 transcripts: a button per language; the server fetches and reads the file
 * (GET /v1/episodes/{id}/transcript), a timed line seeks there. */
function transcriptPart(ep) {
  if (!ep.transcripts?.length) return null;
  const body = h("div.transcript", { "aria-live": "polite" });
  const langs = [...new Set(ep.transcripts.map((t) => t.language || ""))];
  const open = async (lang) => {
    body.replaceChildren(h("p.muted", null, "Loading the transcript…"));
    try {
      const t = await api.get(`/v1/episodes/${ep.id}/transcript${lang ? `?language=${encodeURIComponent(lang)}` : ""}`);
      body.replaceChildren(h("ol.transcript-segments", { "aria-label": "Transcript" }, t.segments.map((s) => h("li", null,
        s.start_ms === null ? null : h("button.chapter.transcript-time", { type: "button",
          onclick: () => seekEpisode(ep, s.start_ms / 1000) }, fmtTime(s.start_ms / 1000)),
        s.speaker ? h("strong.transcript-speaker", null, `${s.speaker}: `) : null, s.text))));
    } catch (e) {
      body.replaceChildren(h("p.error", null, `Can't load the transcript: ${errorText(e)}`));
    }
  };
  return h("div.transcripts", null, h("div.row", null, langs.map((lang) => h("button.button.outline.small", {
    type: "button", onclick: () => open(lang) }, langs.length > 1 && lang ? `Transcript (${lang})` : "Transcript"))),
  body);
}

/** One episode: play (from where the user was), progress, played toggle, notes, chapters and transcripts. */
export function episodeRow(ep, show) {
  const played = Boolean(ep.resume_point?.fully_played);
  const pos = ep.resume_point?.resume_position_ms || 0;
  const status = ep.download?.status;
  const fill = h("div.episode-progress-fill");
  fill.style.width = `${(progressOf(ep) * 100).toFixed(1)}%`; // CSSOM: the CSP allows no style attributes
  const bar = h("div.episode-progress", { role: "progressbar", "aria-label": "Listened", "aria-valuemin": "0",
    "aria-valuemax": "100", "aria-valuenow": String(Math.round(progressOf(ep) * 100)) }, fill);
  const when = (ep.release_date || "").slice(0, 10);
  const left = ep.duration_ms ? (played ? "Played" : pos ? `${fmtTime((ep.duration_ms - pos) / 1000)} left`
    : fmtTime(ep.duration_ms / 1000)) : "";
  const row = h("li.episode", { dataset: { episodeId: ep.id } },
    h("button.icon-button.round.episode-play", { type: "button", "aria-label": `Play ${ep.name}`,
      onclick: () => playEpisode(ep, show) }, h("span", null, "▶")),
    h("div.episode-main", null,
      h("div.episode-title", null, ep.name),
      h("div.episode-meta.muted", null, [when, left, status && status !== "completed" ? status : null]
        .filter(Boolean).join(" · ")),
      bar,
      h("details.episode-details", null, h("summary", null, ep.transcripts?.length ? "Notes, chapters and transcript"
        : "Notes and chapters"), notes(ep.html_description, "episode-notes"), chapterList(ep), transcriptPart(ep))),
    !canEdit() ? null : h("button.button.outline.episode-played", { type: "button", "aria-pressed": String(played),
      onclick: async () => {
        try {
          const got = await api.put(`/v1/me/episodes/${ep.id}/played`, { played: !played });
          row.replaceWith(episodeRow({ ...ep, resume_point: got.resume_point }, show));
        } catch (e) { toast(`Can't change it: ${errorText(e)}`, { error: true }); }
      } }, played ? "Mark unplayed" : "Mark played"));
  return row;
}

export async function render({ root, params }) {
  let show;
  try {
    show = await api.get(`/v1/shows/${params.id}`);
  } catch (e) {
    root.append(emptyState("Can't load this show.", errorText(e), { error: true }));
    return;
  }
  const subscribe = h("button.button.primary", { type: "button", "aria-pressed": String(show.saved) });
  const paint = () => { subscribe.textContent = show.saved ? "Unsubscribe" : "Subscribe"; };
  subscribe.addEventListener("click", async () => {
    try {
      await (show.saved ? api.del : api.put)(`/v1/me/shows?ids=${show.id}`);
      show.saved = !show.saved;
      subscribe.setAttribute("aria-pressed", String(show.saved));
      paint();
    } catch (e) { toast(errorText(e), { error: true }); }
  });
  paint();
  const tools = canEdit() ? [subscribe] : []; // a guest listens, subscribes to nothing
  if (mayManage()) {
    tools.push(h("button.button", { type: "button", onclick: async () => {
      const res = await api.post(`/v1/shows/${show.id}/refresh`).catch((e) => ({ status: "error", error: errorText(e) }));
      toast(res.status === "error" ? `Refresh failed: ${res.error}` : `${res.new_episodes} new episodes`);
      if (res.new_episodes) navigate(`/show/${show.id}`, { replace: true });
    } }, "Refresh"), h("button.button.outline", { type: "button", onclick: async () => {
      if (!confirm(`Remove “${show.name}” for everyone?`)) return;
      try { await api.del(`/v1/shows/${show.id}`); navigate("/podcasts"); } catch (e) { toast(errorText(e), { error: true }); }
    } }, "Remove"));
  }
  root.append(h("header.show-head", null, cover(show.images, 256, { cls: "header-cover" }),
    h("div.title-block", null, h("span.kind", null, "Podcast"), h("h1.page-title", null, show.name),
      h("p.muted", null, show.publisher), show.status === "error" ? h("p.error", null, `Last refresh failed: ${show.error}`) : null,
      h("div.row", null, tools))),
  notes(show.html_description));
  const list = h("ol.episode-list", { "aria-label": "Episodes" });
  root.append(h("h2", null, "Episodes"), list);
  let items = show.episodes.items;
  if (show.episodes.total > items.length) items = await allPages(`/v1/shows/${show.id}/episodes`, {}, { limit: 50 });
  list.append(...items.map((ep) => episodeRow(ep, show)));
  if (!items.length) list.append(h("li.muted", null, "No episodes yet."));
}
