// The browser side's storage (IndexedDB "musicd-offline"): the device (its key as a non-extractable CryptoKey,
// its token, the licence key and the newest licence), the offline tracks (metadata and download state), the
// encrypted chunks of their containers (never plaintext), and the plays made offline waiting to be sent.

const DB = "musicd-offline";
const VERSION = 1;
let opened = null;

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export function db() {
  opened ??= new Promise((resolve, reject) => {
    const r = indexedDB.open(DB, VERSION);
    r.onupgradeneeded = () => {
      const d = r.result;
      d.createObjectStore("meta");
      d.createObjectStore("tracks", { keyPath: "id" });
      d.createObjectStore("chunks"); // key: [track id, chunk index] -> Uint8Array (container bytes)
      d.createObjectStore("plays", { autoIncrement: true });
    };
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  return opened;
}

async function tx(stores, mode, fn) {
  const d = await db();
  const t = d.transaction(stores, mode);
  const done = new Promise((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error || new DOMException("aborted", "AbortError"));
  });
  const out = await fn(...stores.map((s) => t.objectStore(s)));
  await done;
  return out;
}

export const meta = {
  get: (key) => tx(["meta"], "readonly", (s) => req(s.get(key))),
  set: (key, value) => tx(["meta"], "readwrite", (s) => req(s.put(value, key))),
  del: (key) => tx(["meta"], "readwrite", (s) => req(s.delete(key))),
};

export const tracks = {
  all: () => tx(["tracks"], "readonly", (s) => req(s.getAll())),
  get: (id) => tx(["tracks"], "readonly", (s) => req(s.get(id))),
  put: (rec) => tx(["tracks"], "readwrite", (s) => req(s.put(rec))),
};

/** Store one chunk of a container and the track's new state in one transaction (a quota error aborts both). */
export function putChunk(rec, index, bytes) {
  return tx(["tracks", "chunks"], "readwrite", async (t, c) => {
    c.put(bytes, [rec.id, index]);
    t.put(rec);
  });
}

/** The container of a track, its chunks joined. */
export async function container(rec) {
  const parts = await tx(["chunks"], "readonly", (c) => req(c.getAll(IDBKeyRange.bound([rec.id, 0], [rec.id, Infinity]))));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) { out.set(new Uint8Array(p), at); at += p.byteLength; }
  return out;
}

/** Delete a track and its chunks. */
export function dropTrack(id) {
  return tx(["tracks", "chunks"], "readwrite", async (t, c) => {
    t.delete(id);
    c.delete(IDBKeyRange.bound([id, 0], [id, Infinity]));
  });
}

/** Delete everything: tracks, chunks, queued plays stay (they are the user's listening), the device goes. */
export async function wipe({ keepDevice = false } = {}) {
  await tx(["tracks", "chunks"], "readwrite", async (t, c) => { t.clear(); c.clear(); });
  if (!keepDevice) await tx(["meta"], "readwrite", async (m) => { m.clear(); });
}

export const plays = {
  add: (p) => tx(["plays"], "readwrite", (s) => req(s.add(p))),
  all: () => tx(["plays"], "readonly", async (s) => {
    const [keys, values] = await Promise.all([req(s.getAllKeys()), req(s.getAll())]);
    return keys.map((k, i) => [k, values[i]]);
  }),
  drop: (keys) => tx(["plays"], "readwrite", async (s) => { for (const k of keys) s.delete(k); }),
};
