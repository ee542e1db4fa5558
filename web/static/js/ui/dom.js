// Small DOM helpers: element building without innerHTML (nothing from the server is parsed as HTML),
// icons from the page's SVG sprite, time and cover formatting, toasts.

/** h("a.card", {href: "/x", onclick}, child, ...): attributes, `on*` listeners, `class`, `dataset`, children. */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = [el.className, v].filter(Boolean).join(" ");
      else if (k === "dataset") Object.assign(el.dataset, v);
      else if (k === "text") el.textContent = v;
      else if (k in el && typeof v !== "string") el[k] = v;
      else el.setAttribute(k, v === true ? "" : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG = "http://www.w3.org/2000/svg";

/** An icon of the sprite in the page (`#i-<name>`), hidden from screen readers. */
export function icon(name, cls = "icon") {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", cls);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const use = document.createElementNS(SVG, "use");
  use.setAttribute("href", `#i-${name}`);
  svg.append(use);
  return svg;
}

export function setIcon(button, name) {
  const use = button.querySelector("use");
  if (use) use.setAttribute("href", `#i-${name}`);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** 3:07, or 1:02:03 past the hour. */
export function fmtTime(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) seconds = 0;
  const s = Math.floor(seconds % 60);
  const m = Math.floor(seconds / 60) % 60;
  const hr = Math.floor(seconds / 3600);
  const ss = String(s).padStart(2, "0");
  return hr ? `${hr}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

/** "1 h 12 min" for album and playlist lengths. */
export function fmtLength(ms) {
  if (ms < 60000) return `${Math.round(ms / 1000)} sec`;
  const min = Math.round(ms / 60000);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}

export function plural(n, one, many = `${one}s`) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** The URL of an item's picture at about `size` px (the server resizes), or null. */
export function imageUrl(images, size = 300) {
  const url = images && images.length ? images[0].url : null;
  if (!url) return null;
  const u = new URL(url, location.origin);
  if (u.origin === location.origin) u.searchParams.set("size", String(size));
  return u.origin === location.origin ? u.pathname + u.search : u.href;
}

let imageSigner = null;

/** The player registers how to make an image URL loadable by <img> (a signed `st` token). */
export function setImageSigner(fn) {
  imageSigner = fn;
}

/** An <img> (lazy, decoded off the main thread) or a placeholder icon when there is no picture. */
export function cover(images, size, { cls = "cover", alt = "", round = false } = {}) {
  const wrap = h(`div.${cls}${round ? ".round" : ""}`);
  const url = imageUrl(images, size);
  wrap.append(h("span.cover-placeholder", null, icon(round ? "person" : "note")));
  if (url) {
    const img = h("img", { alt, loading: "lazy", decoding: "async", width: size, height: size });
    img.addEventListener("load", () => wrap.classList.add("loaded"));
    img.addEventListener("error", () => img.remove());
    Promise.resolve(imageSigner ? imageSigner(url) : url).then((src) => { img.src = src; }, () => img.remove());
    wrap.append(img);
  }
  return wrap;
}

export function idFromUri(uri) {
  return uri ? uri.split(":").pop() : null;
}

/** Links to each artist, comma separated. */
export function artistLinks(artists) {
  const out = [];
  (artists || []).forEach((a, i) => {
    if (i) out.push(", ");
    out.push(h("a", { href: `/artist/${a.id}`, "data-link": true, text: a.name }));
  });
  return out;
}

export function toast(message, { error = false, timeout = 3500 } = {}) {
  const host = document.getElementById("toasts");
  if (!host) return;
  const t = h(`div.toast${error ? ".error" : ""}`, { role: error ? "alert" : "status" }, message);
  host.append(t);
  setTimeout(() => t.classList.add("leaving"), timeout);
  setTimeout(() => t.remove(), timeout + 400);
}

/** Text for an error state: what went wrong, in words. */
export function errorText(err) {
  if (!err) return "Something went wrong.";
  if (err.status === 404) return "This doesn't exist (any more).";
  if (err.status === 403) return "You don't have access to this.";
  if (err.status === 429) return "Too many requests; try again in a moment.";
  if (err.name === "TypeError") return "The server can't be reached.";
  return err.message || "Something went wrong.";
}

/** An empty or error state block for a page or a section. */
export function emptyState(title, detail = "", { error = false } = {}) {
  return h(`div.empty-state${error ? ".error" : ""}`, { role: error ? "alert" : null },
    h("p.empty-title", null, title), detail ? h("p.muted", null, detail) : null);
}

export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

/** Copy text to the clipboard, falling back to a selected input where the API is not allowed. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const input = h("input", { value: text, class: "visually-hidden" });
    document.body.append(input);
    input.select();
    const ok = document.execCommand?.("copy") ?? false;
    input.remove();
    return ok;
  }
}
