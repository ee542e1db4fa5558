// Client-side routing over the History API. A route's view is an ES module loaded on first use; its
// `render(ctx)` draws into the view element and may return a cleanup function.

const routes = [];
const SKELETON_AFTER_MS = 120;
let current = null;
let navId = 0;
const scrollPositions = new Map();

/** route("/album/:id", () => import("./views/album.js")) */
export function route(pattern, loader) {
  const keys = [];
  const re = new RegExp("^" + pattern.replace(/:(\w+)/g, (_, k) => { keys.push(k); return "([^/]+)"; }) + "/?$");
  routes.push({ re, keys, loader, pattern });
}

function match(path) {
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      const params = {};
      r.keys.forEach((k, i) => { params[k] = decodeURIComponent(m[i + 1]); });
      return { route: r, params };
    }
  }
  return null;
}

let hooks = { view: null, scroller: null, onNavigate: () => {}, notFound: null };

export function startRouter(options) {
  hooks = { ...hooks, ...options };
  history.scrollRestoration = "manual";
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest("a[data-link]");
    if (!a || a.target === "_blank") return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
  window.addEventListener("popstate", () => render({ restoreScroll: true }));
  return render({ restoreScroll: true });
}

/** Go to `path`; `replace` swaps the history entry (search-as-you-type does, so Back skips keystrokes). */
export function navigate(path, { replace = false, focus = true } = {}) {
  if (path === location.pathname + location.search && !replace) return render({ focus });
  saveScroll();
  const state = { key: Math.random().toString(36).slice(2) };
  if (replace) history.replaceState({ ...history.state, ...state }, "", path);
  else history.pushState(state, "", path);
  return render({ focus });
}

function saveScroll() {
  const key = history.state?.key || "root";
  if (hooks.scroller) scrollPositions.set(key, hooks.scroller.scrollTop);
}

export function currentPath() {
  return location.pathname;
}

export function queryParam(name) {
  return new URLSearchParams(location.search).get(name);
}

/** Redraw the current route (after a change that affects the page). */
export function refresh() {
  return render({ keepScroll: true, focus: false });
}

async function render({ restoreScroll = false, keepScroll = false, focus = false } = {}) {
  const id = ++navId;
  const path = location.pathname;
  const found = match(path);
  const view = hooks.view;
  const keepTop = keepScroll ? hooks.scroller?.scrollTop : 0;
  if (current?.cleanup) {
    try { current.cleanup(); } catch (e) { console.warn(e); }
  }
  current = null;
  hooks.onNavigate(path);
  let mod;
  try {
    mod = found ? await found.route.loader() : null;
  } catch (e) {
    console.warn("view failed to load", e);
    mod = null;
  }
  if (id !== navId) return;
  const ctx = {
    params: found ? found.params : {}, query: new URLSearchParams(location.search), view,
    isCurrent: () => id === navId,
  };
  const fresh = document.createElement("div");
  fresh.className = "view-inner";
  let cleanup = null;
  try {
    if (!mod) {
      hooks.notFound?.(fresh);
    } else {
      const result = Promise.resolve(mod.render({ ...ctx, root: fresh }));
      // Swap the page in once it is drawn, or after a moment with whatever it has (its skeleton):
      // a fast page never flashes a skeleton, a slow one still answers at once.
      await Promise.race([result.catch(() => null), new Promise((r) => setTimeout(r, SKELETON_AFTER_MS))]);
      if (id === navId) view.replaceChildren(fresh);
      cleanup = await result;
    }
  } catch (e) {
    console.warn(e);
  }
  if (id !== navId) {
    if (typeof cleanup === "function") cleanup();
    return;
  }
  if (!view.contains(fresh)) view.replaceChildren(fresh);
  current = { path: path + location.search, cleanup: typeof cleanup === "function" ? cleanup : null };
  const scroller = hooks.scroller;
  if (scroller) {
    const key = history.state?.key || "root";
    scroller.scrollTop = keepScroll ? keepTop : restoreScroll ? scrollPositions.get(key) || 0 : 0;
  }
  if (focus) {
    // Move focus to the page's heading so screen readers announce the new page; never steal it from
    // an input the user is typing in (the search box drives navigation while typing).
    const active = document.activeElement;
    const typing = active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA");
    const heading = fresh.querySelector("h1");
    if (!typing && heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }
}
