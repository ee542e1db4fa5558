// A live playlist view (docs/realtime.md, "Live playlists"): every `playlist_changed` of the open playlist is
// applied in place to the rows it shows: no reload, the scroll position and the playing track untouched.
//
// The view holds the list at one snapshot. An event whose `base_snapshot_id` is that snapshot is replayed
// (its operations, in order); an event for a snapshot the view already has is skipped; anything else means
// the view missed something, and it refetches (keeping the scroll position). The view's own edits are
// shown at once; events that arrive while one is in flight wait for its answer, and the event of the
// view's own edit is then only acknowledged (it is already on screen).

import { api } from "./api.js";
import { realtime } from "./realtime.js";

const TRACKS_PER_REQUEST = 50; // GET /v1/tracks?ids= takes 50 ids

async function fetchTracks(ids) {
  const out = new Map();
  const wanted = [...new Set(ids)];
  for (let i = 0; i < wanted.length; i += TRACKS_PER_REQUEST) {
    const r = await api.get("/v1/tracks", { ids: wanted.slice(i, i + TRACKS_PER_REQUEST).join(",") });
    r.tracks.forEach((t) => { if (t) out.set(t.id, t); });
  }
  return out;
}

/** Whether every index in [0, n) of a sparse array holds a loaded item. */
function loadedUpTo(items, n) {
  for (let i = 0; i < n; i++) if (items[i] === undefined) return false;
  return true;
}

/**
 * Replay `ops` (the operations of one `playlist_changed`) on `src` (a pagedSource: `items` may have holes
 * where pages are not loaded, `total` is the list's length). New rows take their tracks from `tracks`.
 * Returns false when the operations cannot be applied in place (the caller refetches).
 */
export function applyOps(src, ops, { tracks, by, at }) {
  const items = src.items;
  const added = (ids) => ids.map((tid) => {
    const t = tracks.get(tid) || null;
    return { added_at: new Date(at * 1000).toISOString(), added_by: by ? { id: by, type: "user" } : null, is_local: false, track: t, item: t };
  });
  for (const op of ops) {
    switch (op.type) {
      case "append": {
        // Rows after the loaded ones stay unloaded: their page loads when it scrolls into view.
        if (loadedUpTo(items, src.total)) items.push(...added(op.track_ids));
        src.total += op.track_ids.length;
        break;
      }
      case "insert": {
        if (op.position <= items.length) items.splice(op.position, 0, ...added(op.track_ids));
        src.total += op.track_ids.length;
        break;
      }
      case "remove_at": {
        const ps = [...op.positions].sort((a, b) => b - a);
        for (const p of ps) if (p < items.length) items.splice(p, 1);
        src.total -= ps.length;
        break;
      }
      case "reorder": {
        const { range_start: rs, range_length: rl, insert_before: ib } = op;
        // Rows not loaded move as holes: their page loads when it scrolls into view.
        if (items.length < Math.max(rs + rl, ib)) items.length = Math.max(rs + rl, ib);
        const block = items.splice(rs, rl);
        items.splice(ib > rs ? ib - rl : ib, 0, ...block);
        break;
      }
      case "replace": {
        items.length = 0;
        items.push(...added(op.track_ids));
        src.total = op.track_ids.length;
        break;
      }
      case "details":
      case "cover":
        break;
      default:
        return false; // an operation this client does not know
    }
  }
  return true;
}

/**
 * Keep a playlist view live. `getSource()` is the view's pagedSource; `redraw()` redraws its rows in place;
 * `refetch()` reloads the list (keeping the scroll position) and resolves to the snapshot it loaded;
 * `onDetails(op)` shows a new name or description; `onDeleted(data)` and `onAccess(data)` (user `me` was invited
 * or uninvited) are told of those events. Returns {ownEdit, push, setSnapshot, snapshot, stop}.
 */
export function livePlaylist(id, snapshot, { getSource, redraw, refetch, onDetails, onDeleted = null, onAccess = null, me = null }) {
  let pending = 0;
  const own = new Set();
  let buffer = [];
  let chain = Promise.resolve();
  let stopped = false;
  let generation = 0; // counts refetches: an own edit queued before one is dropped (its positions are stale)
  let waiters = [];
  let ownQueue = Promise.resolve();

  const settle = () => {
    if (own.size > 0) return;
    waiters.forEach((w) => w());
    waiters = [];
  };
  // Resolves once the events of the view's own edits came back (or after `ms`).
  const ownSettled = (ms) => new Promise((resolve) => {
    if (own.size === 0) return resolve();
    const timer = setTimeout(resolve, ms);
    waiters.push(() => { clearTimeout(timer); resolve(); });
  });

  const resync = async () => {
    buffer = [];
    own.clear();
    generation += 1;
    settle();
    snapshot = await refetch();
  };

  const apply = async (d) => {
    if (stopped) return;
    if (own.has(d.snapshot_id)) {
      own.delete(d.snapshot_id);
      if (d.base_snapshot_id === snapshot) snapshot = d.snapshot_id;
      else await resync();
      settle();
      return;
    }
    if (d.snapshot_id === snapshot) return;
    if (d.base_snapshot_id !== snapshot) return resync();
    const adds = d.operations.flatMap((op) => op.track_ids && op.type !== "remove_tracks" ? op.track_ids : []);
    const tracks = adds.length ? await fetchTracks(adds) : new Map();
    if (stopped) return;
    // A change that arrived while the tracks loaded was queued behind this one, so the snapshot still holds.
    if (!applyOps(getSource(), d.operations, { tracks, by: d.by, at: d.at })) return resync();
    snapshot = d.snapshot_id;
    d.operations.filter((op) => op.type === "details").forEach((op) => onDetails(op));
    redraw();
  };

  const run = (fn) => { chain = chain.then(fn).catch((e) => { console.warn("live playlist", e); return resync(); }); return chain; };

  const flush = () => {
    const events = buffer;
    buffer = [];
    // A change by someone else that the server took before ours: our edit is on screen on top of the
    // older list, so the order may differ from the server's. Refetch rather than guess.
    let foreign = false;
    for (const d of events) {
      if (own.has(d.snapshot_id) && foreign) return run(resync);
      if (!own.has(d.snapshot_id) && d.snapshot_id !== snapshot) foreign = true;
    }
    for (const d of events) run(() => apply(d));
    return chain;
  };

  const onEvent = (d) => {
    if (d.playlist_id !== id) return;
    if (pending > 0) buffer.push(d);
    else run(() => apply(d));
  };
  const offs = [
    realtime.on("playlist_changed", onEvent),
    realtime.on("resync", () => run(resync)),
    realtime.on("playlist_deleted", (d) => { if (d.playlist_id === id && onDeleted) onDeleted(d); }),
    // Being invited or uninvited changes what this view lets the user do.
    realtime.on("playlist_collaborators_changed", (d) => {
      if (d.playlist_id === id && onAccess && [...(d.added || []), ...(d.removed || [])].includes(me)) onAccess(d);
    }),
  ];
  const release = realtime.subscribe(`playlist:${id}`);

  return {
    /**
     * Run the view's own edit: `send(snapshot)` resolves to the API's answer with `snapshot_id`. Own edits
     * go one at a time, each once the event of the one before came back, so each is sent with the
     * snapshot its positions are of. Rejects (with `stale`) when the list was refetched meanwhile.
     */
    ownEdit(send) {
      const gen = generation;
      const job = ownQueue.then(async () => {
        await ownSettled(3000);
        if (own.size > 0) await run(resync); // the event never came: look again
        await chain;
        if (gen !== generation || stopped) throw Object.assign(new Error("the playlist changed meanwhile"), { stale: true });
        pending += 1;
        try {
          const res = await send(snapshot);
          own.add(res.snapshot_id);
          return res;
        } catch (e) {
          buffer = [];
          run(resync);
          throw e;
        } finally {
          pending -= 1;
          if (pending === 0) flush();
        }
      });
      ownQueue = job.catch(() => {});
      return job;
    },
    /** Handle a `playlist_changed` that arrived before the view was live. */
    push: onEvent,
    setSnapshot(s) { snapshot = s; },
    get snapshot() { return snapshot; },
    stop() {
      stopped = true;
      offs.forEach((off) => off());
      release();
    },
  };
}
