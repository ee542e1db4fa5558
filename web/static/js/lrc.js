// LRC parsing for the synced lyrics view: "[mm:ss.xx]line", several stamps per line, [offset:±ms].

const STAMP = /^\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]/;
const OFFSET = /^\[offset:\s*([+-]?\d+)\s*\]/i;
const TAG = /^\[[a-z]+:.*\]$/i;

/** [{time (seconds), text}] sorted by time; empty when the text carries no time stamps. */
export function parseLrc(text) {
  let offset = 0;
  const out = [];
  for (const raw of (text || "").split(/\r?\n/)) {
    let line = raw.trim();
    const off = OFFSET.exec(line);
    if (off) {
      offset = Number(off[1]) / 1000;
      continue;
    }
    const stamps = [];
    let m;
    while ((m = STAMP.exec(line))) {
      const frac = m[3] || "0";
      const ms = frac.length <= 3 ? Number(frac.padEnd(3, "0")) : 0;
      stamps.push(Number(m[1]) * 60 + Number(m[2]) + ms / 1000);
      line = line.slice(m[0].length);
    }
    if (!stamps.length && TAG.test(line)) continue; // [ar:], [ti:], [by:] ...
    // A positive offset makes the lyrics come earlier.
    for (const t of stamps) out.push({ time: Math.max(0, t - offset), text: line.trim() });
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Index of the line sung at `t` seconds (the last line starting at or before it), -1 before the first. */
export function lineAt(lines, t) {
  let lo = 0;
  let hi = lines.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (lines[mid].time <= t + 0.05) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}

/** Plain lyrics without LRC tags or stamps (for unsynced display of an LRC file, or a fallback). */
export function plainLyrics(text) {
  return (text || "").split(/\r?\n/)
    .filter((l) => !TAG.test(l.trim()) || STAMP.test(l.trim()))
    .map((l) => l.replace(/\[\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?\]/g, "").trim())
    .join("\n")
    .trim();
}
