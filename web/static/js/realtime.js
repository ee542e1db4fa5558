// The realtime channel (docs/realtime.md), shared by every part of the web player that shows live things:
// one WebSocket per tab, authenticated with the access token, kept alive, renewed before the token
// expires, reconnected with exponential backoff, and resumed from the last event seq so nothing is missed.
//
//   realtime.on("friend_activity", (data, msg) => ...)   // any server message type; "open", "resync", "status"
//   const release = realtime.subscribe("playlist:ID")    // topics are re-subscribed after every reconnect
//   await realtime.request("get_friend_activity")        // a command: resolves with the ack's result

import { accessToken, api } from "./api.js";

const CONTROL = new Set(["ready", "ping", "pong", "subscribed", "unsubscribed", "resumed", "resync_required", "ack", "error"]);
const NO_RETRY = new Set([4002, 4005]); // auth_required (a bug), session_revoked (log in again)
const MAX_BACKOFF_MS = 30000;
const RENEW_BEFORE_S = 45;

const listeners = new Map();
const topics = new Map();
const pending = new Map();
let sock = null;
let lastSeq = null;
let attempt = 0;
let retryTimer = null;
let renewTimer = null;
let started = false;
let status = "idle";
let nextId = 1;

function emit(type, data, msg) {
  for (const fn of listeners.get(type) || []) {
    try { fn(data, msg); } catch (e) { console.warn("realtime listener failed", type, e); }
  }
}

function setStatus(s) {
  status = s;
  document.documentElement.dataset.realtime = s;
  emit("status", s);
}

function send(msg) {
  if (sock && sock.readyState === WebSocket.OPEN && status === "open") sock.send(JSON.stringify(msg));
}

function schedule(delayMs) {
  clearTimeout(retryTimer);
  if (!started) return;
  const wait = delayMs ?? Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
  attempt += 1;
  retryTimer = setTimeout(connect, wait);
}

async function renew() {
  // A fresh token on the open socket keeps it past the old token's expiry (the server answers `ready`).
  try {
    const token = await accessToken();
    if (sock && sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify({ type: "auth", token }));
  } catch { /* the close that follows reconnects */ }
}

function onReady(data) {
  const first = status !== "open";
  attempt = 0;
  setStatus("open");
  clearTimeout(renewTimer);
  renewTimer = setTimeout(renew, Math.max(5, data.expires_at - Date.now() / 1000 - RENEW_BEFORE_S) * 1000);
  if (!first) return; // a renewal
  for (const topic of topics.keys()) send({ type: "subscribe", topic });
  if (lastSeq === null) lastSeq = data.seq;
  else send({ type: "resume", since: lastSeq });
  emit("open", data);
}

function onMessage(msg) {
  const { type, data } = msg;
  if (type === "ready") return onReady(data);
  if (type === "ping") return send({ type: "pong" });
  if (type === "resync_required") {
    lastSeq = data.seq;
    return emit("resync", data);
  }
  if ((type === "ack" || type === "error") && data.ref !== undefined && pending.has(data.ref)) {
    const p = pending.get(data.ref);
    pending.delete(data.ref);
    return type === "ack" ? p.resolve(data.result) : p.reject(Object.assign(new Error(data.message), { code: data.code }));
  }
  if (type === "error") return console.warn("realtime error", data.code, data.message);
  if (!CONTROL.has(type) && (lastSeq === null || msg.seq > lastSeq)) lastSeq = msg.seq;
  emit(type, data, msg);
}

async function connect() {
  clearTimeout(retryTimer);
  if (!started || (sock && sock.readyState <= WebSocket.OPEN)) return;
  let token;
  try {
    token = await accessToken();
  } catch {
    return schedule(); // offline, or the session ended (api.js sends the page to the login)
  }
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/v1/realtime`);
  sock = ws;
  setStatus("connecting");
  ws.onopen = () => ws.send(JSON.stringify({ type: "auth", token }));
  ws.onmessage = (e) => {
    try { onMessage(JSON.parse(e.data)); } catch (err) { console.warn("realtime message", err); }
  };
  ws.onclose = (e) => {
    if (sock !== ws) return;
    sock = null;
    clearTimeout(renewTimer);
    for (const p of pending.values()) p.reject(new Error("the realtime connection closed"));
    pending.clear();
    setStatus("closed");
    if (e.code === 4005) api.get("/v1/me").catch(() => {}); // the session ended: api.js sends the page to the login
    if (NO_RETRY.has(e.code)) return;
    schedule(e.code === 4004 ? 0 : undefined); // token_expired: at once, with a fresh token
  };
}

export const realtime = {
  /** Open the channel (once per page); it stays open and reconnects until stop(). */
  start() {
    if (started) return;
    started = true;
    window.addEventListener("online", () => { attempt = 0; connect(); });
    document.addEventListener("visibilitychange", () => { if (!document.hidden && !sock) { attempt = 0; connect(); } });
    connect();
  },
  stop() {
    started = false;
    clearTimeout(retryTimer);
    if (sock) sock.close(1000);
    sock = null;
  },
  /** Call `fn(data, message)` for every message of `type`; returns the function that stops it. */
  on(type, fn) {
    if (!listeners.has(type)) listeners.set(type, new Set());
    listeners.get(type).add(fn);
    return () => listeners.get(type).delete(fn);
  },
  /** Follow a topic while the returned function has not been called (counted: several views may share one). */
  subscribe(topic) {
    topics.set(topic, (topics.get(topic) || 0) + 1);
    if (topics.get(topic) === 1) send({ type: "subscribe", topic });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = topics.get(topic) - 1;
      if (n > 0) { topics.set(topic, n); return; }
      topics.delete(topic);
      send({ type: "unsubscribe", topic });
    };
  },
  /** Send a command and wait for its `ack` (rejects on its `error` or when the connection closes). */
  request(type, fields = {}, timeoutMs = 10000) {
    if (status !== "open") return Promise.reject(new Error("the realtime connection is not open"));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { pending.delete(id); reject(new Error(`${type}: no answer`)); }, timeoutMs);
      pending.set(id, { resolve: (v) => { clearTimeout(timer); resolve(v); }, reject: (e) => { clearTimeout(timer); reject(e); } });
      send({ ...fields, type, id });
    });
  },
  get status() { return status; },
  get seq() { return lastSeq; },
};

/** Keep a view live: follow `topics` and call `redraw` (at most once per `wait` ms) when a message of one of
 * `types` arrives for which `when(data)` holds; returns the cleanup for the view's render() to return. */
export function liveView(redraw, { topics = [], types = [], when = () => true, wait = 400 } = {}) {
  let timer = null;
  const fire = (data) => {
    if (!when(data) || timer) return;
    timer = setTimeout(() => { timer = null; redraw(); }, wait);
  };
  const releases = topics.map((t) => realtime.subscribe(t));
  const offs = types.map((t) => realtime.on(t, fire));
  return () => {
    clearTimeout(timer);
    releases.forEach((r) => r());
    offs.forEach((off) => off());
  };
}
