// Cards (albums, artists, playlists, genres) in grids and horizontal shelves, with a play button.

import { h, icon, cover, emptyState, errorText } from "./dom.js";

/** A card linking to `href`; `onPlay` adds a round play button over the cover. */
export function card({ href, images, title, subtitle = "", round = false, onPlay = null, label = null, dropTarget = null }) {
  const playBtn = onPlay ? h("button.card-play", {
    type: "button", "aria-label": `Play ${label || title}`,
    onclick: (e) => { e.preventDefault(); e.stopPropagation(); onPlay(); },
  }, icon("play")) : null;
  const el = h("div.card", null,
    h("a.card-link", { href, "data-link": true, "aria-label": subtitle ? `${title}, ${subtitle}` : title },
      cover(images, 300, { cls: "card-cover", round }),
      h("span.card-title", { title }, title),
      h("span.card-subtitle", null, subtitle)),
    playBtn);
  if (dropTarget) dropTarget(el);
  return el;
}

/** "from Alice's server" for an item mirrored from a friend's server. */
function from(item) {
  return item.source ? `from ${item.source.name}${item.source.available ? "" : " (unavailable)"}` : null;
}

export function albumCard(album, onPlay) {
  const year = (album.release_date || "").slice(0, 4);
  const artists = (album.artists || []).map((a) => a.name).join(", ");
  return card({
    href: `/album/${album.id}`, images: album.images, title: album.name,
    subtitle: [year && year !== "0000" ? year : null, artists, from(album)].filter(Boolean).join(" · "), onPlay,
  });
}

export function artistCard(artist) {
  return card({ href: `/artist/${artist.id}`, images: artist.images, title: artist.name,
    subtitle: from(artist) ? `Artist · ${from(artist)}` : "Artist", round: true });
}

export function playlistCard(pl, onPlay) {
  const by = pl.owner?.display_name || pl.owner?.id;
  return card({
    href: `/playlist/${pl.id}`, images: pl.images, title: pl.name,
    subtitle: pl.description || (by ? `By ${by}` : "Playlist"), onPlay,
  });
}

export function genreCard(cat) {
  return card({ href: `/genre/${encodeURIComponent(cat.id)}`, images: cat.icons, title: cat.name, subtitle: "Genre" });
}

/** A titled section whose content arrives later: shows a skeleton, then the cards, an empty or an error state. */
export function section(title, { href = null, grid = false } = {}) {
  const id = `sec-${Math.random().toString(36).slice(2)}`;
  const body = h(`div.${grid ? "grid" : "shelf"}`, { "aria-busy": "true" },
    Array.from({ length: grid ? 12 : 6 }, () => h("div.card.skeleton", null, h("div.card-cover"), h("span.skeleton-line"))));
  const el = h("section.section", { "aria-labelledby": id },
    h("div.section-head", null,
      h("h2", { id }, title),
      href ? h("a.section-more", { href, "data-link": true }, "Show all") : null),
    body);
  return {
    el, body,
    fill(items, { empty = "Nothing here yet." } = {}) {
      body.removeAttribute("aria-busy");
      body.replaceChildren(...items);
      body.classList.toggle("is-empty", !items.length);
      if (!items.length) body.replaceChildren(emptyState(empty));
    },
    fail(err) {
      body.removeAttribute("aria-busy");
      body.replaceChildren(emptyState("Couldn't load this.", errorText(err), { error: true }));
    },
  };
}
