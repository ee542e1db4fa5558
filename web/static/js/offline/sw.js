// The web player's service worker, served as /sw.js with VERSION and SHELL (every file of this version)
// written above this text by the server. It keeps the app shell so the player loads with the network gone:
// pages are asked of the network first and fall back to the cached shell (every page of the player is the
// same shell); static files are served from the cache (their URLs carry the version). /v1 is never cached
// here: offline audio lives encrypted in IndexedDB (js/offline/store.js), not in this cache.

const CACHE = `musicd-shell-${VERSION}`;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await cache.addAll(SHELL);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("musicd-shell-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== location.origin) return;
  if (req.mode === "navigate") {
    event.respondWith((async () => {
      try {
        const fresh = await fetch(req);
        if (fresh.ok && url.pathname === "/") (await caches.open(CACHE)).put("/", fresh.clone());
        return fresh;
      } catch {
        // Offline: the shell of the version this worker holds; its router draws the page the path names.
        return (await caches.match("/", { cacheName: CACHE })) || Response.error();
      }
    })());
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    event.respondWith((async () => {
      const hit = await caches.match(req, { cacheName: CACHE, ignoreSearch: true });
      if (hit) return hit;
      const fresh = await fetch(req);
      if (fresh.ok && url.pathname.startsWith(`/static/${VERSION}/`)) (await caches.open(CACHE)).put(req, fresh.clone());
      return fresh;
    })());
  }
});
