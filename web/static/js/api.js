// The /v1 client: tokens in localStorage, refreshed before they expire (and once more on a
// `token_expired` 401), JSON in and out, errors as ApiError with the server's stable code.

const TOKENS_KEY = "musicd.tokens";
const REFRESH_MARGIN_S = 60;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || "error";
  }
}

export function loadTokens() {
  try {
    const t = JSON.parse(localStorage.getItem(TOKENS_KEY) || "null");
    return t && t.access_token && t.refresh_token ? t : null;
  } catch {
    return null;
  }
}

export function saveTokens(pair) {
  const exp = jwtExpiry(pair.access_token) ?? Date.now() / 1000 + (pair.expires_in || 900);
  const tokens = { access_token: pair.access_token, refresh_token: pair.refresh_token, exp };
  localStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  return tokens;
}

export function clearTokens() {
  localStorage.removeItem(TOKENS_KEY);
  localStorage.removeItem("musicd.st"); // stream tokens are the user's too (media.js)
}

function jwtExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const payload = JSON.parse(atob(part + "===".slice((part.length + 3) % 4)));
    return typeof payload.exp === "number" ? payload.exp : null;
  } catch {
    return null;
  }
}

let refreshing = null;
const listeners = new Set();

/** Called with no argument when the session is over (refresh failed): the app sends people to /login. */
export function onSessionEnd(fn) {
  listeners.add(fn);
}

function endSession() {
  clearTokens();
  for (const fn of listeners) fn();
}

/** Run `fn` holding a lock shared by every tab of this origin (refresh tokens rotate: one refresh at a time). */
function withLock(fn) {
  return navigator.locks ? navigator.locks.request("musicd-token-refresh", fn) : fn();
}

/** New tokens for `stale` (the access token that expired or was refused). */
async function refresh(stale) {
  refreshing ??= withLock(async () => {
    const tokens = loadTokens();
    if (!tokens) throw new ApiError(401, "no_token", "not logged in");
    // Another tab may have refreshed while this one waited for the lock.
    if (tokens.access_token !== stale && tokens.exp - Date.now() / 1000 > REFRESH_MARGIN_S) return tokens;
    const r = await fetch("/v1/auth/refresh", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: tokens.refresh_token }),
    });
    if (!r.ok) {
      const body = await r.json().catch(() => ({}));
      throw new ApiError(r.status, body?.error?.code, body?.error?.message);
    }
    return saveTokens(await r.json());
  }).finally(() => { refreshing = null; });
  return refreshing;
}

/** A valid access token, refreshed first when it is about to expire. */
export async function accessToken() {
  let tokens = loadTokens();
  if (!tokens) throw new ApiError(401, "no_token", "not logged in");
  if (typeof tokens.exp === "number" && tokens.exp - Date.now() / 1000 < REFRESH_MARGIN_S) {
    try {
      tokens = await refresh(tokens.access_token);
    } catch (e) {
      if (e.status === 401 || e.status === 400) endSession();
      throw e;
    }
  }
  return tokens.access_token;
}

function toQuery(params) {
  if (!params) return "";
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Any /v1 call: `request("GET", "/v1/me")`, with `params` as the query and `body` as JSON. */
export async function request(method, path, { params, body, signal, auth = true, raw = false } = {}) {
  const url = path + toQuery(params);
  for (let attempt = 0; ; attempt++) {
    const headers = {};
    if (auth) headers.Authorization = `Bearer ${await accessToken()}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const r = await fetch(url, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (r.ok) {
      if (raw) return r;
      if (r.status === 204) return null;
      const text = await r.text();
      return text ? JSON.parse(text) : null;
    }
    const err = await r.json().catch(() => ({}));
    const code = err?.error?.code;
    // An expired (or otherwise refused) access token: refresh once and retry; a refused refresh ends the session.
    if (auth && r.status === 401 && attempt === 0 && ["token_expired", "invalid_token"].includes(code)) {
      try {
        await refresh(headers.Authorization.slice(7));
        continue;
      } catch {
        endSession();
      }
    } else if (auth && r.status === 401) {
      endSession();
    }
    throw new ApiError(r.status, code, err?.error?.message);
  }
}

export const api = {
  get: (path, params, opts = {}) => request("GET", path, { ...opts, params }),
  post: (path, body, opts = {}) => request("POST", path, { ...opts, body }),
  put: (path, body, opts = {}) => request("PUT", path, { ...opts, body }),
  patch: (path, body, opts = {}) => request("PATCH", path, { ...opts, body }),
  del: (path, body, opts = {}) => request("DELETE", path, { ...opts, body }),
};

/** Log in (username or e-mail) and keep the token pair. */
export async function login(name, password) {
  const body = name.includes("@") ? { email: name, password } : { username: name, password };
  const pair = await request("POST", "/v1/auth/login", { body, auth: false });
  clearTokens();
  return saveTokens(pair);
}

/** End this session on the server (best effort) and forget the tokens. */
export async function logout() {
  const tokens = loadTokens();
  try {
    if (tokens) await request("POST", "/v1/auth/logout", { body: { refresh_token: tokens.refresh_token } });
  } catch {
    // The tokens are dropped either way; an expired session needs no goodbye.
  }
  clearTokens();
}

/** Every item of a paging endpoint, `limit` at a time, up to `max` items. */
export async function allPages(path, params = {}, { key = null, limit = 50, max = 10000 } = {}) {
  const out = [];
  let offset = 0;
  for (;;) {
    const res = await api.get(path, { ...params, limit, offset });
    const page = key ? res[key] : res;
    out.push(...page.items);
    offset += page.items.length;
    if (!page.next || page.items.length === 0 || out.length >= max) return out;
  }
}
