// Editing the player's queue: play next, add to queue, move, remove, clear, shuffle on and off.
// Functions of the Player (player.js) that only rearrange its entries and then tell it to catch up.

import { warm } from "./media.js";

let uidSeq = 0;

/** A new id for a queue entry (the same track may be queued twice). */
export const newUid = () => `q${Date.now().toString(36)}${(uidSeq++).toString(36)}`;

export function shuffled(list) {
  const a = list.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Shuffle what is not playing yet (the order before is kept to go back to), or go back to it. */
export function setShuffle(player, on) {
  if (on === player.shuffle) return;
  player.shuffle = on;
  const cur = player.current;
  if (on) {
    player.unshuffled = player.queue.slice();
    const rest = player.queue.filter((e) => e !== cur);
    player.queue = cur ? [cur, ...shuffled(rest)] : shuffled(rest);
    player.index = cur ? 0 : -1;
  } else if (player.unshuffled) {
    const present = new Set(player.queue.map((e) => e.uid));
    const order = player.unshuffled.filter((e) => present.has(e.uid));
    const known = new Set(order.map((e) => e.uid));
    const added = player.queue.filter((e) => !known.has(e.uid));
    let i = cur ? order.indexOf(cur) : -1;
    order.splice(i + 1, 0, ...added);
    player.queue = order;
    i = cur ? order.indexOf(cur) : -1;
    player.index = i;
    player.unshuffled = null;
  }
  player.emit("queue");
  player.emit("state");
  player.prefetch();
  player.save();
}

/** Insert tracks right after the current one. */
export function playNext(player, tracks) {
  const entries = tracks.map((t) => ({ uid: newUid(), track: t, queued: true }));
  player.queue.splice(player.index + 1, 0, ...entries);
  afterQueueChange(player, entries.length, tracks);
}

/** Append tracks after what was queued by hand, before the rest of the context. */
export function addToQueue(player, tracks) {
  const entries = tracks.map((t) => ({ uid: newUid(), track: t, queued: true }));
  let at = player.index + 1;
  while (at < player.queue.length && player.queue[at].queued) at++;
  player.queue.splice(at, 0, ...entries);
  afterQueueChange(player, entries.length, tracks);
}

/** Append tracks at the end of the context (the server's next page of a radio station). */
export function appendContext(player, tracks) {
  const entries = tracks.map((t) => ({ uid: newUid(), track: t, queued: false }));
  player.queue.push(...entries);
  afterQueueChange(player, entries.length, tracks);
}

function afterQueueChange(player, n, tracks) {
  if (player.unshuffled) player.unshuffled.push(...player.queue.filter((e) => !player.unshuffled.includes(e)));
  warm(tracks.map((t) => t.id));
  if (player.index < 0 && player.queue.length) {
    player.startAt(0, { autoplay: false });
  }
  player.emit("queue");
  player.prefetch();
  player.save();
  return n;
}

/** Move the queue entry at `from` to `to` (indexes in the queue). */
export function move(player, from, to) {
  if (from === to || from < 0 || from >= player.queue.length) return;
  const cur = player.current;
  const [e] = player.queue.splice(from, 1);
  player.queue.splice(Math.max(0, Math.min(player.queue.length, to)), 0, e);
  player.index = cur ? player.queue.indexOf(cur) : -1;
  player.emit("queue");
  player.prefetch();
  player.save();
}

/** Remove the entry at `i` (never the one playing). */
export function removeAt(player, i) {
  if (i === player.index || i < 0 || i >= player.queue.length) return;
  const [e] = player.queue.splice(i, 1);
  if (i < player.index) player.index--;
  player.dropElement(e.uid);
  player.emit("queue");
  player.prefetch();
  player.save();
}

/** Remove everything after the current track. */
export function clearUpcoming(player) {
  for (const e of player.queue.slice(player.index + 1)) player.dropElement(e.uid);
  player.queue = player.queue.slice(0, player.index + 1);
  player.unshuffled = null;
  player.emit("queue");
  player.save();
}
