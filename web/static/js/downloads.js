// Downloads from the menus: a track's original file, an album or a playlist as a zip the server streams
// while it writes it; a playlist as an M3U8 or XSPF file, and a playlist file imported as a new playlist.
// The browser downloads by following a link, so media links carry a stream token (`?st=`) as <audio>
// does; the server checks it (and the account's right to download) like an access token.

import { api, accessToken } from "./api.js";
import { token } from "./media.js";
import { h, toast, errorText } from "./ui/dom.js";
import { loadPlaylists } from "./state.js";
import { navigate } from "./router.js";

function follow(href, filename = "") {
  const a = h("a", { href, download: filename, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}

/** Download a track ("tracks"), an album ("albums", zip) or a playlist ("playlists", zip). */
export async function download(kind, id, name) {
  try {
    const st = await token(id);
    follow(`/v1/${kind}/${encodeURIComponent(id)}/download?st=${encodeURIComponent(st)}`);
    toast(kind === "tracks" ? `Downloading “${name}”` : `Downloading “${name}” as a zip`);
  } catch (e) { toast(`Can't download: ${errorText(e)}`, { error: true }); }
}

/** Save a playlist as an M3U8 or XSPF file. */
export async function exportPlaylist(pl, format) {
  try {
    const r = await api.get(`/v1/playlists/${encodeURIComponent(pl.id)}/export`, { format }, { raw: true });
    const name = /filename="([^"]+)"/.exec(r.headers.get("content-disposition") || "")?.[1] || `${pl.name}.${format}`;
    const url = URL.createObjectURL(await r.blob());
    follow(url, name);
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) { toast(`Can't export it: ${errorText(e)}`, { error: true }); }
}

/** Pick an .m3u, .m3u8 or .xspf file and make a playlist of it (lines matched to the library). */
export function importPlaylist() {
  const input = h("input", { type: "file", accept: ".m3u,.m3u8,.xspf,audio/x-mpegurl,application/xspf+xml", hidden: true });
  input.addEventListener("change", async () => {
    const file = input.files[0];
    input.remove();
    if (!file) return;
    const name = file.name.replace(/\.(m3u8?|xspf)$/i, "");
    try {
      const r = await fetch(`/v1/me/playlists/import?name=${encodeURIComponent(name)}`, {
        method: "POST", body: await file.text(),
        headers: { Authorization: `Bearer ${await accessToken()}`, "Content-Type": "text/plain; charset=utf-8" },
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body?.error?.message || `HTTP ${r.status}`);
      await loadPlaylists();
      const missed = body.unmatched?.length || 0;
      toast(`Imported “${body.playlist.name}”: ${body.matched} track${body.matched === 1 ? "" : "s"}${missed ? `, ${missed} not found` : ""}.`);
      navigate(`/playlist/${body.playlist.id}`);
    } catch (e) { toast(`Can't import it: ${errorText(e)}`, { error: true }); }
  });
  document.body.append(input);
  input.click();
}
